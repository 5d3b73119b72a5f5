// Builds the authorizer: SubjectAccessReview against the main cluster when there is one, the static policy
// (--authorization-policy-file, or the built-in default) in standalone mode; system:masters and the always-allow
// paths short-circuit both.
import type { Authorizer } from './app.js';
import { withAlwaysAllow, DEFAULT_ALWAYS_ALLOW_GROUPS, DEFAULT_ALWAYS_ALLOW_PATHS } from './always-allow-authorizer.js';
import { DEFAULT_POLICY, PolicyAuthorizer, loadPolicyFile, type SubjectRules } from './policy-file-authorizer.js';
import type { UserInfo } from '../apimachinery/user-info.js';
import { SubjectAccessReviewAuthorizer, type AccessReviewer } from './sar-authorizer.js';

export interface AuthorizationOptions {
  alwaysAllowPaths?: string[];
  /** Default 10. */
  authorizedTtlSeconds?: number;
  /** Default 10. */
  unauthorizedTtlSeconds?: number;
  /** Standalone only. */
  policyFile?: string;
}

export interface AuthorizationDeps {
  /** The main cluster's SubjectAccessReview; absent = standalone (the static policy decides). */
  accessReviewer?: AccessReviewer;
  /** Milliseconds clock for the decision cache (tests move it by hand). Default Date.now. */
  now?: () => number;
}

/** An Authorizer that can also list a user's rules (SelfSubjectRulesReview). */
export interface RulesAuthorizer extends Authorizer {
  rulesFor(user: UserInfo, namespace: string): SubjectRules;
}

// What RBAC lists for system:masters (the cluster-admin ClusterRole).
const allRules = (): SubjectRules => ({
  resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
  incomplete: false,
});

export async function createAuthorization(options: AuthorizationOptions, deps: AuthorizationDeps = {}): Promise<RulesAuthorizer> {
  let policy: PolicyAuthorizer | undefined;
  let inner: Authorizer;
  if (deps.accessReviewer) {
    inner = new SubjectAccessReviewAuthorizer(deps.accessReviewer, {
      authorizedTtlMs: (options.authorizedTtlSeconds ?? 10) * 1000,
      unauthorizedTtlMs: (options.unauthorizedTtlSeconds ?? 10) * 1000,
      now: deps.now,
    });
  } else {
    inner = policy = new PolicyAuthorizer(options.policyFile ? await loadPolicyFile(options.policyFile) : DEFAULT_POLICY);
  }
  const outer = withAlwaysAllow(inner, { paths: options.alwaysAllowPaths ?? DEFAULT_ALWAYS_ALLOW_PATHS });
  return {
    authorize: (user, info) => outer.authorize(user, info),
    rulesFor(user, namespace) {
      if (user.groups.some((g) => DEFAULT_ALWAYS_ALLOW_GROUPS.includes(g))) return allRules();
      // A webhook authorizer cannot list rules; kube-apiserver's answers "incomplete" with none, as here.
      return policy ? policy.rulesFor(user, namespace) : { resourceRules: [], nonResourceRules: [], incomplete: true };
    },
  };
}
