// A stand-in for kube-aggregator in front of one APIService, faithful to what the real one does to an aggregated
// server (REFERENCE §3–4; k8s.io/kube-aggregator pkg/apiserver/handler_proxy.go, pkg/controllers/status/remote,
// pkg/apiserver/handler_discovery.go, pkg/controllers/openapi and openapiv3):
// - terminates the user's TLS and authenticates the user (any client certificate: CN = user, O = groups; or a bearer
//   token from its table), then proxies /apis/<group>/<version>/** to the server with its front-proxy client
//   certificate and X-Remote-User/-Uid/-Group/-Extra-*, after stripping the user's Authorization header and any
//   X-Remote-*/Impersonate-* the user sent;
// - runs the availability probe: 5 parallel GET /apis/<group>/<version> as system:kube-aggregator (system:masters),
//   each bounded; any 2xx → Available, else FailedDiscoveryCheck; while not Available, proxied requests get 503;
// - fetches aggregated discovery (GET /apis, Accept APIGroupDiscoveryList v2) and falls back to the legacy
//   /apis/<group>/<version> when the answer is not v2;
// - downloads /openapi/v2 and the /openapi/v3 index, and proxies /openapi/v3/apis/<group>/<version> live;
// - serves /api, /apis, /version and apiregistration.k8s.io/v1 apiservices itself, so kubectl works through it.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface AggregatorUser {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface FakeAggregatorOptions {
  group: string;
  version: string;
  /** The APIService's Service, as kube-aggregator resolves it: where to dial and which name the certificate must carry. */
  backend: { host: string; port: number; serverName: string; caBundle: string };
  frontProxyClient: { cert: string; key: string };
  /** The aggregator's own serving certificate for users (must be valid for 127.0.0.1). */
  serving: { cert: string; key: string };
  /** Bearer tokens it accepts (kube-apiserver would ask its authenticators). */
  tokens?: Record<string, AggregatorUser>;
  /** Accept header of the aggregated discovery fetch (default: kube-aggregator's v2 header). */
  discoveryAccept?: string;
  /** Bound of each probe and fetch, ms (kube-aggregator: 5 s per request, 6 s insurance). */
  timeoutMs?: number;
}

export interface AvailableCondition {
  type: 'Available';
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  /** The headers as the server received them. */
  headers: http.OutgoingHttpHeaders;
}

export const V2_DISCOVERY_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const V2_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const AGGREGATOR_USER: AggregatorUser = { name: 'system:kube-aggregator', groups: ['system:masters'] };
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

interface BackendResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface GroupDiscovery {
  metadata: { name: string };
  versions: { version: string; resources: unknown[]; freshness?: string }[];
}

interface ApiResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

export class FakeAggregator {
  readonly created = new Date();
  condition: AvailableCondition;
  /** 'aggregated-v2' when the v2 fetch was used, 'legacy' after the fallback, undefined before any fetch. */
  discoveryMode: 'aggregated-v2' | 'legacy' | undefined;
  /** The group's discovery as the aggregator serves it (v2 shape, whichever way it was fetched). */
  groupDiscovery: GroupDiscovery | undefined;
  openapiV2: { status: number; etag?: string; spec?: { paths?: Record<string, unknown> } } | undefined;
  openapiV3Index: { status: number; paths?: Record<string, { serverRelativeURL: string }> } | undefined;
  /** Every request proxied to the server, with the headers it carried. */
  readonly proxied: ProxiedRequest[] = [];
  private server: https.Server | undefined;
  private readonly agent: https.Agent;

  constructor(private readonly opts: FakeAggregatorOptions) {
    this.condition = { type: 'Available', status: 'False', reason: 'MissingEndpoints', message: 'not probed yet', lastTransitionTime: new Date().toISOString() };
    this.agent = new https.Agent({
      ca: opts.backend.caBundle,
      cert: opts.frontProxyClient.cert,
      key: opts.frontProxyClient.key,
      servername: opts.backend.serverName,
      keepAlive: true,
    });
  }

  get apiServiceName(): string {
    return `${this.opts.version}.${this.opts.group}`;
  }

  private get groupVersionPath(): string {
    return `/apis/${this.opts.group}/${this.opts.version}`;
  }

  async start(): Promise<number> {
    this.server = https.createServer(
      { cert: this.opts.serving.cert, key: this.opts.serving.key, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        this.handle(req, res).catch((err: unknown) => {
          if (!res.headersSent) sendStatus(res, 500, 'InternalError', String(err));
          else res.destroy();
        });
      },
    );
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** What the aggregator's controllers do after the APIService appears: probe, discovery, OpenAPI. */
  async sync(): Promise<void> {
    await this.probe();
    if (this.condition.status === 'True') {
      await this.fetchDiscovery();
      await this.fetchOpenApi();
    }
  }

  /** The availability check of pkg/controllers/status/remote: 5 parallel GETs, any 2xx passes. */
  async probe(): Promise<AvailableCondition> {
    const url = `https://${this.opts.backend.serverName}:${this.opts.backend.port}${this.groupVersionPath}`;
    const attempt = async (): Promise<string | undefined> => {
      try {
        const r = await this.backendRequest('GET', this.groupVersionPath, AGGREGATOR_USER, {});
        return r.status >= 200 && r.status < 300 ? undefined : `failing or missing response from ${url}: bad status from ${url}: ${r.status}`;
      } catch (err) {
        return `failing or missing response from ${url}: ${(err as Error).message}`;
      }
    };
    const results = await Promise.all(Array.from({ length: 5 }, attempt));
    const failure = results.every((r) => r !== undefined) ? results[results.length - 1] : undefined;
    const status = failure === undefined ? 'True' : 'False';
    const changed = status !== this.condition.status;
    this.condition = {
      type: 'Available',
      status,
      reason: failure === undefined ? 'Passed' : 'FailedDiscoveryCheck',
      message: failure ?? 'all checks passed',
      lastTransitionTime: changed ? new Date().toISOString() : this.condition.lastTransitionTime,
    };
    return this.condition;
  }

  /** Aggregated discovery with its fallback (pkg/apiserver/handler_discovery.go). */
  async fetchDiscovery(): Promise<void> {
    const accept = this.opts.discoveryAccept ?? V2_DISCOVERY_ACCEPT;
    const r = await this.backendRequest('GET', '/apis', AGGREGATOR_USER, { accept });
    const contentType = String(r.headers['content-type'] ?? '').replace(/\s+/g, '');
    if (r.status === 200 && contentType.startsWith(V2_CONTENT_TYPE)) {
      const list = JSON.parse(r.body) as { items: GroupDiscovery[] };
      const mine = list.items.find((g) => g.metadata.name === this.opts.group);
      if (!mine || !mine.versions.some((v) => v.version === this.opts.version)) {
        throw new Error(`aggregated discovery lacks ${this.opts.group}/${this.opts.version}`);
      }
      this.groupDiscovery = { metadata: { name: this.opts.group }, versions: mine.versions.filter((v) => v.version === this.opts.version) };
      this.discoveryMode = 'aggregated-v2';
      return;
    }
    // Anything but 200-with-v2 (the real one keeps its cache on 304 and 503) → legacy discovery of the version.
    const legacy = await this.backendRequest('GET', this.groupVersionPath, AGGREGATOR_USER, { accept: 'application/json' });
    if (legacy.status !== 200) throw new Error(`legacy discovery: ${legacy.status}`);
    const list = JSON.parse(legacy.body) as { resources: ApiResource[] };
    this.groupDiscovery = { metadata: { name: this.opts.group }, versions: [{ version: this.opts.version, resources: toV2Resources(this.opts.group, this.opts.version, list.resources), freshness: 'Current' }] };
    this.discoveryMode = 'legacy';
  }

  async fetchOpenApi(): Promise<void> {
    const v2 = await this.backendRequest('GET', '/openapi/v2', AGGREGATOR_USER, { accept: 'application/json' });
    this.openapiV2 = { status: v2.status, etag: v2.headers.etag as string | undefined, spec: v2.status === 200 ? JSON.parse(v2.body) : undefined };
    const v3 = await this.backendRequest('GET', '/openapi/v3', AGGREGATOR_USER, { accept: 'application/json' });
    this.openapiV3Index = { status: v3.status, paths: v3.status === 200 ? (JSON.parse(v3.body) as { paths: Record<string, { serverRelativeURL: string }> }).paths : undefined };
  }

  private authenticate(req: http.IncomingMessage): AggregatorUser | undefined {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return this.opts.tokens?.[auth.slice('Bearer '.length).trim()];
    const cert: PeerCertificate | undefined = (req.socket as TLSSocket).getPeerCertificate?.();
    if (cert && cert.subject?.CN) {
      // Node gives a repeated attribute as an array.
      const many = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
      return { name: many(cert.subject.CN)[0], groups: many(cert.subject.O) };
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://aggregator');
    const user = this.authenticate(req);
    if (!user) return sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
    const withAuthenticated = { ...user, groups: [...new Set([...user.groups, 'system:authenticated'])] };
    const p = url.pathname;
    const accept = req.headers.accept ?? '';

    if (p === '/version') return sendJson(res, 200, { major: '1', minor: '35', gitVersion: 'v1.35.0', platform: 'linux/amd64' });
    if (p === '/api') {
      if (accept.includes('as=APIGroupDiscoveryList')) return sendJson(res, 200, { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items: [] }, V2_CONTENT_TYPE);
      return sendJson(res, 200, { kind: 'APIVersions', versions: [], serverAddressByClientCIDRs: [] });
    }
    if (p === '/apis') return this.serveApis(res, accept);
    if (p === `/apis/${this.opts.group}`) return sendJson(res, 200, this.apiGroup(this.opts.group, this.opts.version));
    if (p === '/apis/apiregistration.k8s.io/v1') return sendJson(res, 200, APIREGISTRATION_RESOURCES);
    if (p.startsWith('/apis/apiregistration.k8s.io/v1/apiservices')) return this.serveApiServices(res, p, accept);
    if (p === '/openapi/v2') {
      if (!this.openapiV2?.spec) return sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
      return sendJson(res, 200, this.openapiV2.spec);
    }
    if (p === '/openapi/v3') return sendJson(res, 200, { paths: this.openapiV3Index?.paths ?? {} });
    if (p === `/openapi/v3${this.groupVersionPath}`) {
      // Served live from the server, as the aggregator's own identity.
      return this.proxy(req, res, AGGREGATOR_USER, `${p}${url.search}`);
    }
    if (p === this.groupVersionPath || p.startsWith(`${this.groupVersionPath}/`)) {
      if (this.condition.status !== 'True') {
        return sendStatus(res, 503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
      }
      return this.proxy(req, res, withAuthenticated, `${p}${url.search}`);
    }
    return sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
  }

  private serveApis(res: http.ServerResponse, accept: string): void {
    if (accept.includes('as=APIGroupDiscoveryList')) {
      const items: GroupDiscovery[] = [APIREGISTRATION_DISCOVERY];
      // Only an Available APIService with fetched discovery is merged, as kube-aggregator does.
      if (this.condition.status === 'True' && this.groupDiscovery) items.push(this.groupDiscovery);
      return sendJson(res, 200, { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items }, V2_CONTENT_TYPE);
    }
    sendJson(res, 200, {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [this.apiGroup('apiregistration.k8s.io', 'v1'), this.apiGroup(this.opts.group, this.opts.version)],
    });
  }

  private apiGroup(name: string, version: string): Record<string, unknown> {
    const gv = { groupVersion: `${name}/${version}`, version };
    return { kind: 'APIGroup', apiVersion: 'v1', name, versions: [gv], preferredVersion: gv };
  }

  /** The APIService as `kubectl get apiservice` shows it. */
  apiService(): Record<string, unknown> {
    return {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: this.apiServiceName, uid: APISERVICE_UID, resourceVersion: '1', creationTimestamp: this.created.toISOString().replace(/\.\d+Z$/, 'Z') },
      spec: {
        group: this.opts.group,
        version: this.opts.version,
        service: { name: this.opts.backend.serverName.split('.')[0], namespace: this.opts.backend.serverName.split('.')[1], port: 443 },
        caBundle: Buffer.from(this.opts.backend.caBundle).toString('base64'),
        groupPriorityMinimum: 1000,
        versionPriority: 15,
      },
      status: { conditions: [this.condition] },
    };
  }

  private serveApiServices(res: http.ServerResponse, p: string, accept: string): void {
    const name = p.split('/')[5];
    if (name !== undefined && name !== this.apiServiceName) {
      return sendStatus(res, 404, 'NotFound', `apiservices.apiregistration.k8s.io "${name}" not found`, { name, group: 'apiregistration.k8s.io', kind: 'apiservices' });
    }
    const obj = this.apiService();
    if (accept.includes('as=Table')) {
      const service = obj.spec as { service: { namespace: string; name: string } };
      const available = this.condition.status === 'True' ? 'True' : `False (${this.condition.reason})`;
      return sendJson(res, 200, {
        kind: 'Table',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { resourceVersion: '1' },
        columnDefinitions: ['Name', 'Service', 'Available', 'Age'].map((n) => ({ name: n, type: 'string', format: n === 'Name' ? 'name' : '', description: '', priority: 0 })),
        rows: [{ cells: [this.apiServiceName, `${service.service.namespace}/${service.service.name}`, available, '1s'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: (obj as { metadata: unknown }).metadata } }],
      });
    }
    if (name === undefined) return sendJson(res, 200, { kind: 'APIServiceList', apiVersion: 'apiregistration.k8s.io/v1', metadata: { resourceVersion: '1' }, items: [obj] });
    sendJson(res, 200, obj);
  }

  private backendRequest(method: string, path: string, user: AggregatorUser, headers: Record<string, string>): Promise<BackendResponse> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: this.opts.backend.host, port: this.opts.backend.port, method, path, agent: this.agent, headers: { ...headers, ...authProxyHeaders(user) }, timeout: this.opts.timeoutMs ?? 5000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out waiting for ${path}`)));
      req.on('error', reject);
      req.end();
    });
  }

  private proxy(req: http.IncomingMessage, res: http.ServerResponse, user: AggregatorUser, path: string): Promise<void> {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) {
      const key = k.toLowerCase();
      // The user's credentials and any identity headers they sent never reach the server.
      if (key === 'authorization' || key.startsWith('x-remote-') || key.startsWith('impersonate-') || HOP_BY_HOP.has(key)) continue;
      if (v !== undefined) headers[key] = v;
    }
    Object.assign(headers, authProxyHeaders(user));
    this.proxied.push({ method: req.method ?? 'GET', path, headers });
    return new Promise((resolve) => {
      const upstream = https.request({ host: this.opts.backend.host, port: this.opts.backend.port, method: req.method, path, headers, agent: this.agent }, (up) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
        res.writeHead(up.statusCode ?? 502, out);
        up.pipe(res);
        up.on('end', () => resolve());
        up.on('error', () => {
          res.destroy();
          resolve();
        });
      });
      res.on('close', () => upstream.destroy());
      upstream.on('error', (err) => {
        if (!res.headersSent) sendStatus(res, 503, 'ServiceUnavailable', `error trying to reach service: ${err.message}`);
        else res.destroy();
        resolve();
      });
      req.pipe(upstream);
    });
  }
}

/** k8s.io/client-go/transport SetAuthProxyHeaders. */
export function authProxyHeaders(user: AggregatorUser): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = { 'X-Remote-User': user.name };
  if (user.uid) h['X-Remote-Uid'] = user.uid;
  if (user.groups.length) h['X-Remote-Group'] = user.groups;
  for (const [k, vs] of Object.entries(user.extra ?? {})) h[`X-Remote-Extra-${headerKeyEscape(k)}`] = vs;
  return h;
}

/** client-go's headerKeyEscape: URL path escaping of everything but token characters. */
function headerKeyEscape(key: string): string {
  return [...Buffer.from(key)].map((b) => (/[A-Za-z0-9!#$&'*+\-.^_`|~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

function toV2Resources(group: string, version: string, resources: ApiResource[]): unknown[] {
  const top = resources.filter((r) => !r.name.includes('/'));
  return top.map((r) => ({
    resource: r.name,
    responseKind: { group, version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singularName ?? r.kind.toLowerCase(),
    verbs: r.verbs,
    ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    ...(r.categories ? { categories: r.categories } : {}),
    subresources: resources
      .filter((s) => s.name.startsWith(`${r.name}/`))
      .map((s) => ({ subresource: s.name.split('/')[1], responseKind: { group, version, kind: s.kind }, verbs: s.verbs })),
  }));
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: http.ServerResponse, code: number, reason: string, message: string, details?: Record<string, unknown>): void {
  sendJson(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

const APISERVICE_UID = randomUUID();

const APIREGISTRATION_DISCOVERY: GroupDiscovery = {
  metadata: { name: 'apiregistration.k8s.io' },
  versions: [
    {
      version: 'v1',
      resources: [
        {
          resource: 'apiservices',
          responseKind: { group: 'apiregistration.k8s.io', version: 'v1', kind: 'APIService' },
          scope: 'Cluster',
          singularResource: 'apiservice',
          verbs: ['get', 'list'],
          categories: ['api-extensions'],
        },
      ],
      freshness: 'Current',
    },
  ],
};

const APIREGISTRATION_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'apiregistration.k8s.io/v1',
  resources: [{ name: 'apiservices', singularName: 'apiservice', namespaced: false, kind: 'APIService', verbs: ['get', 'list'], categories: ['api-extensions'] }],
};
