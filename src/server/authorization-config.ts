// Builds the authorizer: SubjectAccessReview against the main cluster when there is one, the static policy
// (--authorization-policy-file, or the built-in default) in standalone mode; system:masters and the always-allow
// paths short-circuit both.
import type { Authorizer } from './app.js';
import { withAlwaysAllow, DEFAULT_ALWAYS_ALLOW_PATHS } from './always-allow-authorizer.js';
import { DEFAULT_POLICY, PolicyAuthorizer, loadPolicyFile } from './policy-file-authorizer.js';
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

export async function createAuthorization(options: AuthorizationOptions, deps: AuthorizationDeps = {}): Promise<Authorizer> {
  const inner: Authorizer = deps.accessReviewer
    ? new SubjectAccessReviewAuthorizer(deps.accessReviewer, {
        authorizedTtlMs: (options.authorizedTtlSeconds ?? 10) * 1000,
        unauthorizedTtlMs: (options.unauthorizedTtlSeconds ?? 10) * 1000,
        now: deps.now,
      })
    : new PolicyAuthorizer(options.policyFile ? await loadPolicyFile(options.policyFile) : DEFAULT_POLICY);
  return withAlwaysAllow(inner, { paths: options.alwaysAllowPaths ?? DEFAULT_ALWAYS_ALLOW_PATHS });
}
