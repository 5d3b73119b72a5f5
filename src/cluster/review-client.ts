// TokenReview and SubjectAccessReview against the main cluster, as an aggregated server's delegated authentication
// and authorization make them (k8s.io/apiserver/pkg/authentication/authenticatorfactory/delegating.go,
// k8s.io/apiserver/plugin/pkg/authorizer/webhook). Plain data in, plain data out: the server layer decides what
// the answers mean.
import {
  ApiException,
  AuthenticationV1Api,
  AuthorizationV1Api,
  KubeConfig,
  type V1SubjectAccessReviewSpec,
  type V1SubjectAccessReviewStatus,
  type V1TokenReviewStatus,
} from '@kubernetes/client-node';

export interface ReviewClientOptions {
  /** Upper bound of one review call; a hung main cluster must not hang requests. Default 10 s. */
  timeoutMs?: number;
}

/**
 * A kubeconfig from a file, or the in-cluster service account when no file is given
 * (what `--authentication-kubeconfig` / `--authorization-kubeconfig` default to).
 */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromCluster();
  return kc;
}

/**
 * An error that says which call failed and how, and never carries the request body (a TokenReview body holds
 * the bearer token being reviewed).
 */
export class ReviewError extends Error {
  override name = 'ReviewError';
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

function describe(call: string, err: unknown): ReviewError {
  if (err instanceof ApiException) {
    const body = err.body as { message?: unknown } | string | undefined;
    const detail = typeof body === 'object' && body && typeof body.message === 'string' ? `: ${body.message}` : '';
    return new ReviewError(`${call}: HTTP ${err.code}${detail}`, err.code);
  }
  const e = err as { message?: unknown; code?: unknown };
  const code = typeof e?.code === 'string' ? ` (${e.code})` : '';
  return new ReviewError(`${call}: ${typeof e?.message === 'string' ? e.message : String(err)}${code}`);
}

async function bounded<T>(call: string, timeoutMs: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReviewError(`${call}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([p, timeout]);
  } catch (err) {
    throw err instanceof ReviewError ? err : describe(call, err);
  } finally {
    clearTimeout(timer);
  }
}

export class ReviewClient {
  private readonly authn: AuthenticationV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly timeoutMs: number;

  constructor(kc: KubeConfig, opts: ReviewClientOptions = {}) {
    this.authn = kc.makeApiClient(AuthenticationV1Api);
    this.authz = kc.makeApiClient(AuthorizationV1Api);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** POST a TokenReview; resolves with its status, rejects (with a token-free message) when the cluster cannot answer. */
  async reviewToken(token: string, audiences?: string[]): Promise<V1TokenReviewStatus> {
    const review = await bounded(
      'TokenReview',
      this.timeoutMs,
      this.authn.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } },
      }),
    );
    return review.status ?? {};
  }

  /** POST a SubjectAccessReview; resolves with its status, rejects when the cluster cannot answer. */
  async reviewAccess(spec: V1SubjectAccessReviewSpec): Promise<V1SubjectAccessReviewStatus> {
    const review = await bounded(
      'SubjectAccessReview',
      this.timeoutMs,
      this.authz.createSubjectAccessReview({
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
      }),
    );
    if (!review.status) throw new ReviewError('SubjectAccessReview: the answer has no status');
    return review.status;
  }
}
