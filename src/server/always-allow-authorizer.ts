// Requests no authorizer is asked about: members of privileged groups (system:masters, as the aggregated server's
// DelegatingAuthorizationOptions.AlwaysAllowGroups) and non-resource paths such as the health checks
// (--authorization-always-allow-paths; a trailing `*` is a prefix match, k8s.io/apiserver/pkg/authorization/path).
import type { UserInfo } from '../apimachinery/user-info.js';
import type { RequestInfo } from '../apimachinery/request-info.js';
import type { AuthorizationDecision, Authorizer } from './app.js';

export const DEFAULT_ALWAYS_ALLOW_PATHS = ['/healthz', '/readyz', '/livez'];
export const DEFAULT_ALWAYS_ALLOW_GROUPS = ['system:masters'];

/** True when `path` is one of `patterns` (exact, or by prefix for patterns ending in `*`). Pure. */
export function pathAlwaysAllowed(patterns: readonly string[], path: string): boolean {
  const p = path.replace(/^\/+/, '');
  for (const raw of patterns) {
    const pattern = raw.trim().replace(/^\/+/, '');
    if (pattern.endsWith('*') ? p.startsWith(pattern.slice(0, -1)) : p === pattern) return true;
  }
  return false;
}

export interface AlwaysAllowOptions {
  paths?: string[];
  groups?: string[];
}

export function withAlwaysAllow(inner: Authorizer, opts: AlwaysAllowOptions = {}): Authorizer {
  const paths = opts.paths ?? DEFAULT_ALWAYS_ALLOW_PATHS;
  const groups = new Set(opts.groups ?? DEFAULT_ALWAYS_ALLOW_GROUPS);
  return {
    authorize(user: UserInfo, info: RequestInfo): Promise<AuthorizationDecision> | AuthorizationDecision {
      if (user.groups.some((g) => groups.has(g))) return { allowed: true };
      if (!info.isResourceRequest && pathAlwaysAllowed(paths, info.path)) return { allowed: true };
      return inner.authorize(user, info);
    },
  };
}
