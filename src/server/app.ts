// The HTTPS front door: TLS, authentication, one log line per request, Status-shaped errors, health and version.
// What is served behind it (the API machinery, admission) is mounted by the caller through `mount`.
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Counter, Histogram, type Registry as PromRegistry } from 'prom-client';
import type https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { UserInfo } from '../apimachinery/user-info.js';
import { parseRequestInfo, type RequestInfo } from '../apimachinery/request-info.js';
import { StatusError } from '../apimachinery/status-error.js';
import { toStatusError } from '../apimachinery/status-response.js';
import { encodeJson } from '../apimachinery/json-encoding.js';
import { HealthChecks, registerHealthRoutes } from './health.js';
import { maxInFlightHook, type MaxInFlightFlagValues } from './max-in-flight.js';
import { versionInfo } from './version.js';
import { peerChain, type X509Authenticator } from './x509-authenticator.js';
import { lazyChildLoggerFactory } from './lazy-child-logger.js';
import type { LogLevel } from '../config.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Levels at which the per-request line is written (below them its fields are not even gathered). */
const LOGS_INFO = new Set(['trace', 'debug', 'info']);
const REQUEST_ID_LABEL = 'reqId';

/** Paths that answer without credentials, as kube-apiserver's do (kubelet probes carry none). */
const ANONYMOUS_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
  /** CAs whose client certificates the TLS layer should ask for (authentication decides what to trust). */
  clientCaPems: string[];
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface Authenticator {
  /** An identity, or undefined when the request carries no credentials we accept. */
  authenticate(req: FastifyRequest): Promise<UserInfo | undefined> | UserInfo | undefined;
}

export interface AuthorizationDecision {
  allowed: boolean;
  /** Why not, in Kubernetes' words; becomes the 403 Status message. */
  reason?: string;
}

export interface Authorizer {
  authorize(user: UserInfo, info: RequestInfo): Promise<AuthorizationDecision> | AuthorizationDecision;
}

/** Until delegated authorization is configured, every authenticated user may do everything. */
export const alwaysAllow: Authorizer = { authorize: () => ({ allowed: true }) };

export interface ServerOptions {
  tls: TlsMaterial;
  authenticator: Authenticator;
  /** Decides each authenticated request; its `forbidden` answer becomes a 403 Status. Default: allow. */
  authorizer?: Authorizer;
  /** Paths every user (even anonymous) may reach without asking the authorizer. */
  alwaysAllowPaths?: string[];
  health: HealthChecks;
  logLevel: LogLevel;
  /** Where the JSON log lines go (default stdout); tests capture them to check what is logged. */
  logStream?: { write(line: string): void };
  /** Registers the routes behind authentication (API machinery, admission…). */
  mount?: (app: FastifyInstance) => Promise<void>;
  /** Paths that skip authentication entirely (the admission webhooks, which kube-apiserver calls without credentials). */
  unauthenticatedPaths?: string[];
  /** Removes front-proxy identity headers from requests that skip authentication, so nothing downstream trusts them. */
  stripIdentityHeaders?: (req: FastifyRequest['raw']) => void;
  /** --max-requests-inflight / --max-mutating-requests-inflight; absent = no limit. */
  maxInFlight?: MaxInFlightFlagValues;
  /** Where request metrics go, and what GET /metrics exposes (Prometheus text format). */
  metrics?: PromRegistry;
}

export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/** Authenticates with client certificates verified against the given authenticator's roots. */
export function certificateAuthenticator(x509: X509Authenticator): Authenticator {
  return {
    authenticate(req) {
      const socket = req.raw.socket as TLSSocket;
      if (typeof socket.getPeerCertificate !== 'function') return undefined;
      return x509.authenticate(peerChain(socket));
    },
  };
}

/** 403 in kube-apiserver's words (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go Forbidden). */
export function forbidden(user: UserInfo, info: RequestInfo, reason?: string): StatusError {
  const suffix = reason ? `: ${reason}` : '';
  if (!info.isResourceRequest) {
    return StatusError.forbiddenNonResource(`User "${user.username}" cannot ${info.verb} path "${info.path}"${suffix}`);
  }
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const scope = info.namespace ? ` in the namespace "${info.namespace}"` : ' at the cluster scope';
  return StatusError.forbidden(
    { group: info.apiGroup, resource: info.resource },
    info.name || undefined,
    `User "${user.username}" cannot ${info.verb} resource "${resource}" in API group "${info.apiGroup}"${scope}${suffix}`,
  );
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    https: {
      cert: opts.tls.cert,
      key: opts.tls.key,
      ca: opts.tls.clientCaPems.length ? opts.tls.clientCaPems : undefined,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: opts.tls.minVersion,
      // A client that dribbles its headers is cut off after 32 s (checked every 5 s) instead of holding a
      // connection for Node's default 60–90 s.
      headersTimeout: 32_000,
      connectionsCheckingInterval: 5_000,
    } as https.ServerOptions,
    logger: {
      level: opts.logLevel,
      ...(opts.logStream ? { stream: opts.logStream } : {}),
      // Never log headers: they may carry bearer tokens or X-Remote-* identities.
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
    // One line per request is written by our onResponse hook instead (with the user and latency).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LABEL }),
    childLoggerFactory: lazyChildLoggerFactory,
    bodyLimit: MAX_BODY_BYTES,
    return503OnClosing: true,
    // Errors fastify raises before routing (a malformed URL, a bad Content-Type…) are Statuses too.
    frameworkErrors: (err, _req, reply) => {
      const status = toStatusError(err);
      const raw = reply as unknown as FastifyReply;
      raw.code(status.code).header('content-type', 'application/json').send(Buffer.from(encodeJson(status.toStatus())));
    },
    forceCloseConnections: 'idle',
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    routerOptions: { maxParamLength: 1024 },
  });

  const openPaths = new Set([...(opts.unauthenticatedPaths ?? [])]);
  const authorizer = opts.authorizer ?? alwaysAllow;
  const alwaysAllowPaths = new Set(opts.alwaysAllowPaths ?? ['/healthz', '/readyz', '/livez', '/version']);

  const requestMetrics = opts.metrics ? createRequestMetrics(opts.metrics) : undefined;

  app.addHook('onRequest', async (req) => {
    (req as FastifyRequest & { startedAt?: bigint }).startedAt = process.hrtime.bigint();
    const p = pathOf(req.url);
    if (openPaths.has(p)) {
      opts.stripIdentityHeaders?.(req.raw);
      return;
    }
    const user = await opts.authenticator.authenticate(req);
    const healthPath = ANONYMOUS_PATHS.has(p) || p.startsWith('/healthz/') || p.startsWith('/livez/') || p.startsWith('/readyz/');
    if (!user && !healthPath) throw StatusError.unauthorized();
    req.user = user ?? ANONYMOUS;
    if (alwaysAllowPaths.has(p) || healthPath) return;
    const info = parseRequestInfo(req.method, req.url);
    const decision = await authorizer.authorize(req.user, info);
    if (!decision.allowed) throw forbidden(req.user, info, decision.reason);
  });

  // After authentication (system:masters passes at the limit, as upstream's filter lets it).
  if (opts.maxInFlight) app.addHook('onRequest', maxInFlightHook(opts.maxInFlight).hook);

  app.addHook('onResponse', async (req, reply) => {
    const started = (req as FastifyRequest & { startedAt?: bigint }).startedAt;
    const latencyMs = started ? Number(process.hrtime.bigint() - started) / 1e6 : undefined;
    requestMetrics?.observe(req.method, req.url, reply.statusCode, latencyMs);
    if (!LOGS_INFO.has(req.log.level)) return;
    // Through the server's logger with the request id, as the request's child would bind it (the same line, without
    // making the child).
    app.log.info(
      {
        [REQUEST_ID_LABEL]: req.id,
        user: req.user?.username,
        verb: req.method,
        path: req.url,
        code: reply.statusCode,
        latencyMs: latencyMs === undefined ? undefined : Math.round(latencyMs * 100) / 100,
      },
      'request',
    );
  });

  app.setErrorHandler((err, req, reply) => {
    const status = toStatusError(err);
    if (status.code >= 500) req.log.error({ err }, 'request failed');
    if (status.details?.retryAfterSeconds) reply.header('retry-after', String(status.details.retryAfterSeconds));
    // A Buffer keeps fastify from appending a charset to the Content-Type, as kube-apiserver sends it.
    reply.code(status.code).header('content-type', 'application/json').send(Buffer.from(encodeJson(status.toStatus())));
  });

  app.setNotFoundHandler((_req, reply) => {
    const status = StatusError.pathNotFound();
    reply.code(404).header('content-type', 'application/json').send(Buffer.from(encodeJson(status.toStatus())));
  });

  registerHealthRoutes(app, opts.health);
  app.get('/version', async (_req, reply) => {
    reply.header('content-type', 'application/json').send(encodeJson(versionInfo()));
  });

  if (opts.metrics) {
    const registry = opts.metrics;
    app.get('/metrics', async (_req, reply) => {
      reply.header('content-type', registry.contentType).send(await registry.metrics());
    });
  }

  if (opts.mount) await opts.mount(app);
  return app;
}

/** apiserver_request_total / _duration_seconds, labelled as kube-apiserver labels them (verb, resource, code). */
function createRequestMetrics(registry: PromRegistry) {
  const total = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of requests, by verb, group, resource, subresource and HTTP code.',
    labelNames: ['verb', 'group', 'resource', 'subresource', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency by verb, group and resource (watches excluded).',
    labelNames: ['verb', 'group', 'resource'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    observe(method: string, url: string, code: number, latencyMs: number | undefined) {
      const info = parseRequestInfo(method, url);
      // Unknown paths (404) are not labelled by what they asked for: clients must not be able to mint label values.
      const labels = info.isResourceRequest && code !== 404
        ? { verb: info.verb, group: info.apiGroup, resource: info.resource, subresource: info.subresource }
        : { verb: info.verb, group: '', resource: '', subresource: '' };
      total.inc({ ...labels, code: String(code) });
      if (latencyMs !== undefined && info.verb !== 'watch') {
        duration.observe({ verb: labels.verb, group: labels.group, resource: labels.resource }, latencyMs / 1000);
      }
    },
  };
}
