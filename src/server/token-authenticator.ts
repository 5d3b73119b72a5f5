// Bearer tokens, checked by the main cluster through TokenReview and cached by the token's hash
// (k8s.io/apiserver/pkg/authentication/token/cache: both answers are kept for --authentication-token-webhook-cache-ttl;
// failures to ask are not cached). The token itself is never kept, logged or put in an error.
import { createHash } from 'node:crypto';
import type { UserInfo } from '../apimachinery/user-info.js';

/** The parts of an authentication.k8s.io/v1 TokenReviewStatus this server reads. */
export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

/** Asks the main cluster (src/cluster/review-client.ts ReviewClient fits). */
export interface TokenReviewer {
  reviewToken(token: string): Promise<TokenReviewStatus>;
}

export interface TokenAuthenticatorOptions {
  /** How long an answer (yes or no) is reused. Default 10 s. 0 disables the cache. */
  cacheTtlMs?: number;
  /** Bound on cached tokens; the oldest entries go first. Default 4096. */
  maxEntries?: number;
  now?: () => number;
}

/** The token of an `Authorization: Bearer <token>` header (k8s.io/apiserver/pkg/authentication/request/bearertoken). */
export function bearerToken(authorization: string | string[] | undefined): string | undefined {
  const h = Array.isArray(authorization) ? authorization[0] : authorization;
  if (!h) return undefined;
  const parts = h.trim().split(' ');
  if (parts.length < 2 || parts[0].toLowerCase() !== 'bearer') return undefined;
  const token = parts[1];
  return token ? token : undefined;
}

/** A stable, irreversible cache key. */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function userFromTokenReview(status: TokenReviewStatus): UserInfo | undefined {
  if (!status.authenticated || !status.user?.username) return undefined;
  const u = status.user;
  const user: UserInfo = { username: u.username!, groups: [...(u.groups ?? [])] };
  if (u.uid) user.uid = u.uid;
  if (u.extra && Object.keys(u.extra).length) user.extra = u.extra;
  return user;
}

interface Entry {
  expires: number;
  user: UserInfo | undefined;
}

export class TokenReviewAuthenticator {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<UserInfo | undefined>>();
  private readonly ttl: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(
    private readonly reviewer: TokenReviewer,
    opts: TokenAuthenticatorOptions = {},
  ) {
    this.ttl = opts.cacheTtlMs ?? 10_000;
    this.max = opts.maxEntries ?? 4096;
    this.now = opts.now ?? Date.now;
  }

  /** The token's user, undefined when the cluster says no; rejects (token-free message) when it cannot be asked. */
  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    const key = tokenKey(token);
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.user;
    if (hit) this.cache.delete(key);
    // Concurrent requests with the same token share one review.
    let p = this.inflight.get(key);
    if (!p) {
      p = this.review(key, token).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async review(key: string, token: string): Promise<UserInfo | undefined> {
    let status: TokenReviewStatus;
    try {
      status = await this.reviewer.reviewToken(token);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      // eslint-disable-next-line preserve-caught-error -- the cause could quote the token; only the redacted text goes on
      throw new Error(`token review failed: ${msg.split(token).join('<redacted>')}`);
    }
    const user = userFromTokenReview(status);
    if (this.ttl > 0) {
      if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { expires: this.now() + this.ttl, user });
    }
    return user;
  }
}
