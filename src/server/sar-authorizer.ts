// Authorization delegated to the main cluster through SubjectAccessReview, with allowed and denied answers cached
// apart (k8s.io/apiserver/plugin/pkg/authorizer/webhook/webhook.go). When the cluster cannot answer, the request
// fails with a 500 Status (upstream WithAuthorization: InternalError) — it is never allowed.
import type { NonResourceAttributes, ResourceAttributes } from '../apimachinery/authorization-attributes.js';
import type { UserInfo } from '../apimachinery/user-info.js';
import type { RequestInfo } from '../apimachinery/request-info.js';
import { StatusError } from '../apimachinery/status-error.js';
import type { AuthorizationDecision, Authorizer } from './app.js';

/** authorization.k8s.io/v1 SubjectAccessReviewSpec, as much as this server fills in. */
export interface AccessReviewSpec {
  user?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
}

export interface AccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** Asks the main cluster (src/cluster/review-client.ts ReviewClient fits). */
export interface AccessReviewer {
  reviewAccess(spec: AccessReviewSpec): Promise<AccessReviewStatus>;
}

/** The review for one request; empty fields are left out, as Go's `omitempty` does. Pure. */
export function accessReviewSpec(user: UserInfo, info: RequestInfo): AccessReviewSpec {
  const spec: AccessReviewSpec = { user: user.username };
  if (user.uid) spec.uid = user.uid;
  if (user.groups.length) spec.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length) spec.extra = user.extra;
  if (info.isResourceRequest) {
    const ra: NonNullable<AccessReviewSpec['resourceAttributes']> = {};
    const set = (k: keyof typeof ra, v: string) => {
      if (v) ra[k] = v;
    };
    set('namespace', info.namespace);
    set('verb', info.verb);
    set('group', info.apiGroup);
    set('version', info.apiVersion);
    set('resource', info.resource);
    set('subresource', info.subresource);
    set('name', info.name);
    spec.resourceAttributes = ra;
  } else {
    spec.nonResourceAttributes = { path: info.path, verb: info.verb };
  }
  return spec;
}

export interface SarAuthorizerOptions {
  /** How long an "allowed" answer is reused. Default 10 s. */
  authorizedTtlMs?: number;
  /** How long a "not allowed" answer is reused. Default 10 s. */
  unauthorizedTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  expires: number;
  decision: AuthorizationDecision;
}

export class SubjectAccessReviewAuthorizer implements Authorizer {
  private readonly cache = new Map<string, Entry>();
  private readonly authorizedTtl: number;
  private readonly unauthorizedTtl: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(
    private readonly reviewer: AccessReviewer,
    opts: SarAuthorizerOptions = {},
  ) {
    this.authorizedTtl = opts.authorizedTtlMs ?? 10_000;
    this.unauthorizedTtl = opts.unauthorizedTtlMs ?? 10_000;
    this.max = opts.maxEntries ?? 8192;
    this.now = opts.now ?? Date.now;
  }

  async authorize(user: UserInfo, info: RequestInfo): Promise<AuthorizationDecision> {
    const spec = accessReviewSpec(user, info);
    const key = JSON.stringify(spec);
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.decision;
    if (hit) this.cache.delete(key);

    let status: AccessReviewStatus;
    try {
      status = await this.reviewer.reviewAccess(spec);
    } catch (err) {
      // Rendered as a 500 Status and logged once by the server's error handler.
      throw StatusError.internal(`authorization webhook failed: ${(err as Error).message ?? String(err)}`);
    }
    const decision: AuthorizationDecision = { allowed: status.allowed === true };
    if (!decision.allowed && status.reason) decision.reason = status.reason;
    const ttl = decision.allowed ? this.authorizedTtl : this.unauthorizedTtl;
    if (ttl > 0) {
      if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { expires: this.now() + ttl, decision });
    }
    return decision;
  }
}
