// A ceiling on requests served at once, as kube-apiserver's --max-requests-inflight and
// --max-mutating-requests-inflight set it (k8s.io/apiserver/pkg/server/filters/maxinflight.go): past it a request is
// answered at once with 429 and Retry-After: 1 instead of queueing until the process falls over.
// Long-running requests (watches, proxy/exec/attach/log/portforward) are not counted, the health probes are never
// refused, and neither is a member of system:masters ("so powerful that they should always get an answer").
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseRequestInfo, type RequestInfo } from '../apimachinery/request-info.js';
import { StatusError } from '../apimachinery/status-error.js';
import type { FlagSpec } from '../config.js';

export interface MaxInFlightFlagValues {
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
}

const notNegative = (v: unknown) => (Number(v) >= 0 ? undefined : 'must not be negative');

export const maxInFlightFlags: FlagSpec<keyof MaxInFlightFlagValues>[] = [
  {
    name: 'max-requests-inflight',
    key: 'maxRequestsInflight',
    type: 'int',
    default: 400,
    check: notNegative,
    help: 'The maximum number of non-mutating requests in flight at a given time. When the server exceeds this, it rejects requests. Zero for no limit.',
  },
  {
    name: 'max-mutating-requests-inflight',
    key: 'maxMutatingRequestsInflight',
    type: 'int',
    default: 200,
    check: notNegative,
    help: 'The maximum number of mutating requests in flight at a given time. When the server exceeds this, it rejects requests. Zero for no limit.',
  },
];

export const TOO_MANY_REQUESTS_MESSAGE = 'Too many requests, please try again later.';

const NON_MUTATING_VERBS = new Set(['get', 'list', 'watch']);
// genericapiserver's BasicLongRunningRequestCheck(sets("watch", "proxy"), sets("attach", "exec", "proxy", "log", "portforward")).
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);
const EXEMPT_PATHS = ['/healthz', '/livez', '/readyz'];
const PRIVILEGED_GROUP = 'system:masters';

function isExemptPath(p: string): boolean {
  return EXEMPT_PATHS.some((e) => p === e || p.startsWith(`${e}/`));
}

/** True for requests kube-apiserver keeps out of the in-flight count. */
export function isLongRunning(info: RequestInfo): boolean {
  return LONG_RUNNING_VERBS.has(info.verb) || (info.isResourceRequest && LONG_RUNNING_SUBRESOURCES.has(info.subresource));
}

export interface InFlightCounts {
  readOnly: number;
  mutating: number;
}

/**
 * An onRequest hook. Register it after the authentication hook (it reads `req.user` for the system:masters
 * exemption); a limit of 0 means none. `counts()` tells how many requests each bucket holds now.
 */
export function maxInFlightHook(opts: MaxInFlightFlagValues): {
  hook: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  counts: () => InFlightCounts;
} {
  const inFlight: InFlightCounts = { readOnly: 0, mutating: 0 };
  const hook = async (req: FastifyRequest, reply: FastifyReply) => {
    const q = req.url.indexOf('?');
    const p = q >= 0 ? req.url.slice(0, q) : req.url;
    if (isExemptPath(p)) return;
    const info = parseRequestInfo(req.method, req.url);
    if (isLongRunning(info)) return;
    const bucket: keyof InFlightCounts = NON_MUTATING_VERBS.has(info.verb) || req.method === 'HEAD' || req.method === 'OPTIONS' ? 'readOnly' : 'mutating';
    const limit = bucket === 'readOnly' ? opts.maxRequestsInflight : opts.maxMutatingRequestsInflight;
    if (limit > 0 && inFlight[bucket] >= limit) {
      if (req.user?.groups.includes(PRIVILEGED_GROUP)) return;
      throw StatusError.tooManyRequests(TOO_MANY_REQUESTS_MESSAGE, 1);
    }
    inFlight[bucket]++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight[bucket]--;
    };
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
  };
  return { hook, counts: () => ({ ...inFlight }) };
}
