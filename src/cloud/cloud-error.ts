// The one error type of src/cloud: every SDK failure is classified into it, so the worker decides
// "retry later", "slow down" or "give up and report" without knowing which cloud it talks to.

export interface CloudErrorOptions {
  code: string;
  message: string;
  retryable: boolean;
  throttled?: boolean;
  notFound?: boolean;
  cause?: unknown;
}

export class CloudError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly throttled: boolean;
  readonly notFound: boolean;

  constructor(options: CloudErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CloudError';
    this.code = options.code;
    this.retryable = options.retryable;
    this.throttled = options.throttled ?? false;
    this.notFound = options.notFound ?? false;
  }

  static terminal(code: string, message: string): CloudError {
    return new CloudError({ code, message, retryable: false });
  }

  static notFound(code: string, message: string): CloudError {
    return new CloudError({ code, message, retryable: false, notFound: true });
  }
}

export function isCloudError(err: unknown): err is CloudError {
  return err instanceof CloudError;
}

// Node's socket-level failures: the request may or may not have reached the cloud ("lost response").
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const name = (e as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'Timeout';
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /socket hang up|network socket disconnected|fetch failed|other side closed/i.test(message)) {
      return 'ECONNRESET';
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html and the EBS CSI driver's
// list (pkg/cloud/cloud.go): these mean "too fast", retry after backing off.
const AWS_THROTTLING = new Set([
  'RequestLimitExceeded',
  'SnapshotCreationPerVolumeRateExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'BandwidthLimitExceeded',
]);
const AWS_TRANSIENT = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'IDPCommunicationError',
  'InsufficientVolumeCapacity',
  // "Not now" answers: the volume is still attached, the resource is mid-transition.
  'VolumeInUse',
  'IncorrectState',
]);

/** Classifies an error thrown by @aws-sdk/client-ec2 (or the network under it). */
export function classifyAwsError(err: unknown): CloudError {
  if (err instanceof CloudError) return err;
  const e = (err ?? {}) as {
    name?: string;
    Code?: string;
    code?: string;
    $fault?: 'client' | 'server';
    $metadata?: { httpStatusCode?: number };
    $response?: { statusCode?: number };
  };
  const code = e.Code ?? (typeof e.name === 'string' && e.name !== 'Error' ? e.name : undefined);
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const message = messageOf(err);
  if (code && AWS_THROTTLING.has(code)) {
    return new CloudError({ code, message, retryable: true, throttled: true, cause: err });
  }
  if (code && /\.NotFound$|^NotFound$/.test(code)) {
    return new CloudError({ code, message, retryable: false, notFound: true, cause: err });
  }
  if ((code && AWS_TRANSIENT.has(code)) || (status !== undefined && status >= 500)) {
    return new CloudError({ code: code ?? `HTTP${status}`, message, retryable: true, cause: err });
  }
  if (status === 429) {
    return new CloudError({ code: code ?? 'TooManyRequests', message, retryable: true, throttled: true, cause: err });
  }
  const net = networkCode(err);
  if (net && (status === undefined || e.$fault === undefined)) {
    return new CloudError({ code: net, message, retryable: true, cause: err });
  }
  return new CloudError({ code: code ?? 'Unknown', message, retryable: false, cause: err });
}

// gRPC codes that google-gax maps HTTP statuses to (google-gax/build/src/status.js).
const GRPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
const GRPC_NAMES: Record<number, string> = Object.fromEntries(Object.entries(GRPC).map(([k, v]) => [v, k]));

const GCE_THROTTLING_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'RATE_LIMIT_EXCEEDED']);

/** Classifies an error thrown by @google-cloud/compute (google-gax REST transport) or by an operation's `error`. */
export function classifyGceError(err: unknown): CloudError {
  if (err instanceof CloudError) return err;
  const e = (err ?? {}) as { code?: unknown; reason?: unknown; message?: unknown };
  const message = messageOf(err);
  const reason = typeof e.reason === 'string' ? e.reason : undefined;
  if (typeof e.code === 'number') {
    const name = GRPC_NAMES[e.code] ?? `GRPC${e.code}`;
    const code = reason ?? name;
    const throttled =
      (reason !== undefined && GCE_THROTTLING_REASONS.has(reason)) ||
      /rate ?limit/i.test(message) ||
      (e.code === GRPC.RESOURCE_EXHAUSTED && !/quota/i.test(message));
    if (throttled) return new CloudError({ code: reason ?? 'rateLimitExceeded', message, retryable: true, throttled: true, cause: err });
    if (e.code === GRPC.ALREADY_EXISTS || (e.code === GRPC.ABORTED && /already exists/i.test(message))) {
      return new CloudError({ code: 'alreadyExists', message, retryable: false, cause: err });
    }
    // Deleting a disk still attached to an instance (resourceInUseByAnotherResource) works once it is detached.
    if (reason === 'resourceInUseByAnotherResource' || /is already being used by|in use by another resource/i.test(message)) {
      return new CloudError({ code: 'resourceInUseByAnotherResource', message, retryable: true, cause: err });
    }
    switch (e.code) {
      case GRPC.NOT_FOUND:
        return new CloudError({ code: reason ?? 'notFound', message, retryable: false, notFound: true, cause: err });
      case GRPC.UNAVAILABLE:
      case GRPC.INTERNAL:
      case GRPC.DEADLINE_EXCEEDED:
      case GRPC.UNKNOWN:
      case GRPC.CANCELLED:
        return new CloudError({ code, message, retryable: true, cause: err });
      default:
        return new CloudError({ code, message, retryable: false, cause: err });
    }
  }
  const net = networkCode(err);
  if (net) return new CloudError({ code: net, message, retryable: true, cause: err });
  return new CloudError({ code: typeof e.code === 'string' ? e.code : 'Unknown', message, retryable: false, cause: err });
}

/** True when Compute says the resource already exists (HTTP 409 maps to ABORTED in google-gax, so read the text too). */
export function isGceAlreadyExists(err: unknown): boolean {
  return classifyGceError(err).code === 'alreadyExists';
}
