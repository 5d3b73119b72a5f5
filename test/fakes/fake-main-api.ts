// A small fake of the main cluster's kube-apiserver over HTTPS on 127.0.0.1: TokenReview, SubjectAccessReview and
// ConfigMap kube-system/extension-apiserver-authentication (get, list, watch). It records every request it gets,
// and can be told to fail, so tests can count calls and see what was asked.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { generate } from 'selfsigned';
import { stringify } from 'yaml';
import type {
  V1ConfigMap,
  V1Status,
  V1SubjectAccessReview,
  V1SubjectAccessReviewSpec,
  V1SubjectAccessReviewStatus,
  V1TokenReview,
  V1UserInfo,
} from '@kubernetes/client-node';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type SarDecider = (spec: V1SubjectAccessReviewSpec) => V1SubjectAccessReviewStatus;

/** The bearer token our client must present to the fake (what a service account token would be). */
export const FAKE_CLIENT_TOKEN = 'fake-main-api-client-token';

function status(code: number, reason: string, message: string): V1Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export class FakeMainApi {
  readonly requests: RecordedRequest[] = [];
  /** token → user; any other token is answered `authenticated: false`. */
  readonly tokens = new Map<string, V1UserInfo>();
  decideAccess: SarDecider = () => ({ allowed: false, reason: 'no RBAC policy matched' });
  /** When set, every authentication/authorization call is answered with this HTTP status. */
  failWith?: number;
  /** The next this-many ConfigMap reads (get or list) are answered 500. */
  failConfigMapReads = 0;
  private configMap?: V1ConfigMap;
  private revision = 1;
  private readonly watchers = new Set<ServerResponse>();
  private readonly history: { rv: number; line: string }[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: https.Server,
    readonly caPem: string,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeMainApi> {
    const ca = await generate([{ name: 'commonName', value: 'fake-main-ca' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, digitalSignature: true, critical: true },
      ],
    });
    const leaf = await generate([{ name: 'commonName', value: 'kube-apiserver' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    const holder: { fake?: FakeMainApi } = {};
    const server = https.createServer({ cert: leaf.cert, key: leaf.private }, (req, res) => holder.fake!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const fake = new FakeMainApi(server, ca.cert, `https://127.0.0.1:${port}`);
    holder.fake = fake;
    server.on('connection', (s: Socket) => {
      fake.sockets.add(s);
      s.on('close', () => fake.sockets.delete(s));
    });
    return fake;
  }

  /** A kubeconfig for this fake, for @kubernetes/client-node's KubeConfig.loadFromString. */
  kubeconfig(): string {
    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'main', cluster: { server: this.url, 'certificate-authority-data': Buffer.from(this.caPem).toString('base64') } }],
      users: [{ name: 'sa', user: { token: FAKE_CLIENT_TOKEN } }],
      contexts: [{ name: 'main', context: { cluster: 'main', user: 'sa' } }],
      'current-context': 'main',
    });
  }

  count(path: string, method = 'POST'): number {
    return this.requests.filter((r) => r.path === path && r.method === method).length;
  }

  sarSpecs(): V1SubjectAccessReviewSpec[] {
    return this.requests
      .filter((r) => r.path === '/apis/authorization.k8s.io/v1/subjectaccessreviews')
      .map((r) => (r.body as V1SubjectAccessReview).spec);
  }

  /** Creates or replaces the authentication ConfigMap; open watches see ADDED or MODIFIED. */
  setConfigMap(data: Record<string, string>): void {
    const type = this.configMap ? 'MODIFIED' : 'ADDED';
    this.revision++;
    this.configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'extension-apiserver-authentication',
        namespace: 'kube-system',
        resourceVersion: String(this.revision),
        uid: 'cm-uid',
      },
      data,
    };
    this.broadcast(type, this.configMap);
  }

  deleteConfigMap(): void {
    if (!this.configMap) return;
    this.revision++;
    const gone = { ...this.configMap, metadata: { ...this.configMap.metadata, resourceVersion: String(this.revision) } };
    this.configMap = undefined;
    this.broadcast('DELETED', gone);
  }

  /** Ends every open watch abruptly (a dropped connection). */
  dropWatches(): void {
    for (const w of this.watchers) w.socket?.destroy();
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.end();
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private broadcast(type: string, obj: V1ConfigMap): void {
    const line = JSON.stringify({ type, object: obj }) + '\n';
    this.history.push({ rv: this.revision, line });
    for (const w of this.watchers) w.write(line);
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', this.url);
      const raw = Buffer.concat(chunks).toString();
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      this.requests.push({ method: req.method ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, body });
      this.route(req, res, u, body);
    });
  }

  private route(req: IncomingMessage, res: ServerResponse, u: URL, body: unknown): void {
    if (req.headers.authorization !== `Bearer ${FAKE_CLIENT_TOKEN}`) {
      this.send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const cmCollection = '/api/v1/namespaces/kube-system/configmaps';
    if (req.method === 'POST' && u.pathname === '/apis/authentication.k8s.io/v1/tokenreviews') {
      if (this.failWith) return this.send(res, this.failWith, status(this.failWith, 'InternalError', 'injected failure'));
      const review = body as V1TokenReview;
      const user = this.tokens.get(review.spec?.token ?? '');
      const answer: V1TokenReview = {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        metadata: {},
        spec: review.spec,
        status: user ? { authenticated: true, user, audiences: review.spec?.audiences } : { authenticated: false, error: 'invalid bearer token' },
      };
      return this.send(res, 201, answer);
    }
    if (req.method === 'POST' && u.pathname === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
      if (this.failWith) return this.send(res, this.failWith, status(this.failWith, 'InternalError', 'injected failure'));
      const review = body as V1SubjectAccessReview;
      const answer: V1SubjectAccessReview = { ...review, metadata: {}, status: this.decideAccess(review.spec) };
      return this.send(res, 201, answer);
    }
    if (req.method === 'GET' && u.pathname.startsWith(cmCollection) && u.searchParams.get('watch') !== 'true' && this.failConfigMapReads > 0) {
      this.failConfigMapReads--;
      return this.send(res, 500, status(500, 'InternalError', 'injected failure'));
    }
    if (req.method === 'GET' && u.pathname === `${cmCollection}/extension-apiserver-authentication`) {
      if (!this.configMap) {
        return this.send(res, 404, status(404, 'NotFound', 'configmaps "extension-apiserver-authentication" not found'));
      }
      return this.send(res, 200, this.configMap);
    }
    if (req.method === 'GET' && u.pathname === cmCollection) {
      if (u.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.flushHeaders();
        // Replay what happened after the resourceVersion asked for, as kube-apiserver's watch cache does.
        const from = Number(u.searchParams.get('resourceVersion') ?? this.revision);
        for (const h of this.history) if (h.rv > from) res.write(h.line);
        this.watchers.add(res);
        res.on('close', () => this.watchers.delete(res));
        return;
      }
      return this.send(res, 200, {
        apiVersion: 'v1',
        kind: 'ConfigMapList',
        metadata: { resourceVersion: String(this.revision) },
        items: this.configMap ? [this.configMap] : [],
      });
    }
    this.send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
  }
}
