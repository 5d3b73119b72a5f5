// Standalone authorization: with no main cluster to ask, a small static policy decides. The format is a flat
// list of RBAC-like allow rules (anything no rule allows is denied):
//
//   rules:
//     - groups: [system:masters]          # and/or users: [alice]; "*" = any authenticated user
//       verbs: ["*"]
//       apiGroups: ["*"]
//       resources: ["*"]
//       nonResourceURLs: ["*"]
//     - groups: [volumesnapshot:viewers]
//       verbs: [get, list, watch]
//       apiGroups: ["*"]                  # "" is the core group
//       resources: ["*"]                  # "volumesnapshots", "volumesnapshots/status", "*/status"
//       namespaces: [default]             # optional; absent = every namespace and cluster-scoped resources
//       nonResourceURLs: ["/apis", "/apis/*", "/openapi/*", "/version"]
//
// A rule matches a resource request through apiGroups + resources (+ namespaces), a non-resource request through
// nonResourceURLs (a trailing `*` is a prefix), both only for the listed verbs. The built-in policy also lets every
// authenticated user create the self reviews (BASIC_USER_RULES, for `kubectl auth can-i` / `whoami`); a policy file
// is taken literally, so it lists them when it wants them.
import { promises as fs } from 'node:fs';
import { parse } from 'yaml';
import type { UserInfo } from '../apimachinery/user-info.js';
import type { RequestInfo } from '../apimachinery/request-info.js';
import type { AuthorizationDecision, Authorizer } from './app.js';

export interface PolicyRule {
  users?: string[];
  groups?: string[];
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  namespaces?: string[];
  nonResourceURLs?: string[];
}

export interface Policy {
  rules: PolicyRule[];
}

/**
 * What kube-apiserver's bootstrap ClusterRole system:basic-user grants every authenticated user: asking who they are
 * and what they may do (`kubectl auth whoami`, `kubectl auth can-i`). A policy file that wants these lists it too.
 */
export const BASIC_USER_RULES: PolicyRule[] = [
  { groups: ['system:authenticated'], verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  {
    groups: ['system:authenticated'],
    verbs: ['create'],
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
  },
];

/** Used when no --authorization-policy-file is given. */
export const DEFAULT_POLICY: Policy = {
  rules: [
    ...BASIC_USER_RULES,
    { groups: ['system:masters'], verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] },
    {
      groups: ['volumesnapshot:viewers'],
      verbs: ['get', 'list', 'watch'],
      apiGroups: ['*'],
      resources: ['*'],
      nonResourceURLs: ['*'],
    },
  ],
};

const RULE_KEYS = new Set(['users', 'groups', 'verbs', 'apiGroups', 'resources', 'namespaces', 'nonResourceURLs']);

export class PolicyError extends Error {
  override name = 'PolicyError';
}

function stringList(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new PolicyError(`${where}: must be a list of strings`);
  return v as string[];
}

/** Parses and checks a policy document; errors name the source, the rule and the field. */
export function parsePolicy(text: string, source = 'policy'): Policy {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new PolicyError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new PolicyError(`${source}: must be a mapping with "rules"`);
  const top = doc as Record<string, unknown>;
  for (const k of Object.keys(top)) if (k !== 'rules') throw new PolicyError(`${source}: unknown field "${k}"`);
  if (!Array.isArray(top.rules)) throw new PolicyError(`${source}: rules: must be a list`);
  const rules = top.rules.map((r: unknown, i: number): PolicyRule => {
    const where = `${source}: rules[${i}]`;
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new PolicyError(`${where}: must be a mapping`);
    const raw = r as Record<string, unknown>;
    for (const k of Object.keys(raw)) if (!RULE_KEYS.has(k)) throw new PolicyError(`${where}: unknown field "${k}"`);
    const rule: PolicyRule = { verbs: stringList(raw.verbs, `${where}.verbs`) };
    for (const k of ['users', 'groups', 'apiGroups', 'resources', 'namespaces', 'nonResourceURLs'] as const) {
      if (raw[k] !== undefined) rule[k] = stringList(raw[k], `${where}.${k}`);
    }
    if (!rule.users?.length && !rule.groups?.length) throw new PolicyError(`${where}: needs users or groups`);
    if (!rule.verbs.length) throw new PolicyError(`${where}.verbs: must not be empty`);
    if (!rule.resources?.length && !rule.nonResourceURLs?.length) {
      throw new PolicyError(`${where}: needs resources or nonResourceURLs`);
    }
    if (rule.resources?.length && !rule.apiGroups?.length) throw new PolicyError(`${where}.apiGroups: required with resources`);
    return rule;
  });
  return { rules };
}

export async function loadPolicyFile(file: string): Promise<Policy> {
  return parsePolicy(await fs.readFile(file, 'utf8'), file);
}

const has = (list: readonly string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

function resourceMatches(patterns: readonly string[], resource: string, subresource: string): boolean {
  const full = subresource ? `${resource}/${subresource}` : resource;
  for (const p of patterns) {
    if (p === '*' || p === full) return true;
    if (subresource && p === `*/${subresource}`) return true;
  }
  return false;
}

function urlMatches(patterns: readonly string[], path: string): boolean {
  return patterns.some((p) => p === '*' || p === path || (p.endsWith('*') && path.startsWith(p.slice(0, -1))));
}

/** Does this rule allow this request? Pure. */
export function ruleAllows(rule: PolicyRule, user: UserInfo, info: RequestInfo): boolean {
  const subject = has(rule.users, user.username) || user.groups.some((g) => has(rule.groups, g));
  if (!subject || !has(rule.verbs, info.verb)) return false;
  if (!info.isResourceRequest) return !!rule.nonResourceURLs && urlMatches(rule.nonResourceURLs, info.path);
  if (!rule.resources || !has(rule.apiGroups, info.apiGroup)) return false;
  if (!resourceMatches(rule.resources, info.resource, info.subresource)) return false;
  return !rule.namespaces || has(rule.namespaces, info.namespace);
}

/** SubjectRulesReviewStatus: the rules a user has in a namespace (SelfSubjectRulesReview, `kubectl auth can-i --list`). */
export interface SubjectRules {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  incomplete: boolean;
}

/** The policy's rules that apply to `user` in `namespace`, in RBAC's ResourceRule/NonResourceRule form. Pure. */
export function policyRulesFor(policy: Policy, user: UserInfo, namespace: string): SubjectRules {
  const out: SubjectRules = { resourceRules: [], nonResourceRules: [], incomplete: false };
  for (const rule of policy.rules) {
    if (!(has(rule.users, user.username) || user.groups.some((g) => has(rule.groups, g)))) continue;
    if (rule.resources?.length && (!rule.namespaces || has(rule.namespaces, namespace))) {
      out.resourceRules.push({ verbs: [...rule.verbs], apiGroups: [...(rule.apiGroups ?? [])], resources: [...rule.resources] });
    }
    if (rule.nonResourceURLs?.length) out.nonResourceRules.push({ verbs: [...rule.verbs], nonResourceURLs: [...rule.nonResourceURLs] });
  }
  return out;
}

export class PolicyAuthorizer implements Authorizer {
  constructor(private policy: Policy = DEFAULT_POLICY) {}

  setPolicy(policy: Policy): void {
    this.policy = policy;
  }

  rulesFor(user: UserInfo, namespace: string): SubjectRules {
    return policyRulesFor(this.policy, user, namespace);
  }

  authorize(user: UserInfo, info: RequestInfo): AuthorizationDecision {
    // Denials carry no reason, so the 403 reads exactly as kube-apiserver's RBAC denials do.
    return { allowed: this.policy.rules.some((r) => ruleAllows(r, user, info)) };
  }
}
