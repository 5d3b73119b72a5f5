// A fake Compute Engine that speaks the Compute v1 REST/JSON API on 127.0.0.1, so @google-cloud/compute (REST
// transport) is exercised for real: disks.createSnapshot/insert/get/delete, snapshots.get/list/delete, zone and
// global operations get/wait. It keeps an inventory, completes snapshots and disks after configurable delays,
// dedupes `requestId` like Compute, checks the bearer token, and injects faults on demand.
//
//   const gce = new GceFake({ snapshotCompletionMs: 50 });
//   const { port } = await gce.start();
//   gce.addDisk({ zone: 'us-central1-a', name: 'disk-1', sizeGb: 10 });
//   gce.injectFault('disks.createSnapshot', { kind: 'lost-response' });
//   gce.listSnapshots().length; await gce.stop();

import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { CallsPerSecondLimit } from './calls-per-second-limit.js';
import { answerUnlessLost, FakeHttpServer, readBody } from './fake-http-server.js';
import { FaultQueue } from './fault-queue.js';

export type GceFault =
  /** 429 (default) or 403 with reason rateLimitExceeded; nothing is done. */
  | { kind: 'throttle'; status?: 429 | 403 }
  /** A 5xx answer (default 503 backendError); nothing is done. */
  | { kind: 'server-error'; status?: number }
  /** Any error answer; nothing is done. */
  | { kind: 'error'; status: number; reason: string; message?: string }
  /** The call is done, the answer comes `delayMs` later. */
  | { kind: 'slow'; delayMs: number }
  /** The call is done, then the connection is dropped ('reset', default) or a 503 is answered. */
  | { kind: 'lost-response'; mode?: 'reset' | '503' }
  /** For calls that return an operation: nothing is done and the operation ends DONE with this error. */
  | { kind: 'operation-error'; code: string; message?: string; httpStatus?: number };

export interface GceFakeOptions {
  /** Bearer token required on every request. Default 'test-token'. */
  token?: string;
  /** CREATING (first half) → UPLOADING → READY after this long. Default 0. */
  snapshotCompletionMs?: number;
  /** CREATING/RESTORING → READY after this long. Default 0. */
  diskCreationMs?: number;
  /** How long operations/wait blocks at most before answering a not-yet-DONE operation. Default 200 ms. */
  waitMaxMs?: number;
  /** Largest page snapshots.list returns. Default 500. */
  pageSize?: number;
  /** Requests per second accepted before answering 429 rateLimitExceeded. Default unlimited. */
  callsPerSecond?: number;
}

export interface FakeGceSnapshot {
  project: string;
  name: string;
  id: string;
  sourceDisk: string;
  diskSizeGb: number;
  labels: Record<string, string>;
  description: string;
  createdAt: number;
  readyAt: number;
  /** Set by setSnapshotStatus: any string, Compute's or not. */
  forcedStatus?: string;
}

export interface FakeGceDisk {
  project: string;
  zone: string;
  name: string;
  id: string;
  sizeGb: number;
  type: string;
  sourceSnapshot?: string;
  labels: Record<string, string>;
  createdAt: number;
  readyAt: number;
  forcedStatus?: string;
}

export interface FakeOperation {
  project: string;
  zone?: string;
  name: string;
  id: string;
  operationType: string;
  targetLink: string;
  insertTime: number;
  doneAt: number;
  error?: { code: string; message: string; httpStatus: number };
}

export interface GceCall {
  method: string;
  httpMethod: string;
  path: string;
  body: unknown;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const BASE = 'https://www.googleapis.com/compute/v1/';
const DISK_TYPES = new Set(['pd-standard', 'pd-ssd', 'pd-balanced', 'pd-extreme', 'hyperdisk-balanced']);

function numericId(): string {
  return BigInt('0x' + randomBytes(7).toString('hex')).toString();
}

function notFound(path: string): ApiError {
  return new ApiError(404, 'notFound', `The resource '${path}' was not found`);
}

export class GceFake {
  private readonly server = new FakeHttpServer((req, res) => this.handle(req, res));
  private readonly snapshots = new Map<string, FakeGceSnapshot>();
  private readonly disks = new Map<string, FakeGceDisk>();
  private readonly operations = new Map<string, FakeOperation>();
  private readonly requestIds = new Map<string, FakeOperation>();
  private readonly faults = new FaultQueue<GceFault>();
  private readonly rateLimit = new CallsPerSecondLimit();
  readonly calls: GceCall[] = [];
  readonly token: string;
  snapshotCompletionMs: number;
  diskCreationMs: number;
  waitMaxMs: number;
  pageSize: number;
  callsPerSecond: number | undefined;

  constructor(options: GceFakeOptions = {}) {
    this.token = options.token ?? 'test-token';
    this.snapshotCompletionMs = options.snapshotCompletionMs ?? 0;
    this.diskCreationMs = options.diskCreationMs ?? 0;
    this.waitMaxMs = options.waitMaxMs ?? 200;
    this.pageSize = options.pageSize ?? 500;
    this.callsPerSecond = options.callsPerSecond;
  }

  start(): Promise<{ url: string; port: number }> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  /** The next `times` calls of `method` ('disks.createSnapshot', 'snapshots.get', 'zoneOperations.wait', … or '*') get `fault`. */
  injectFault(method: string, fault: GceFault, times = 1): void {
    this.faults.add(method, fault, times);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Forgets everything (inventory, operations, faults, recorded calls), so one server can serve many tests. */
  reset(): void {
    this.snapshots.clear();
    this.disks.clear();
    this.operations.clear();
    this.requestIds.clear();
    this.faults.clear();
    this.rateLimit.clear();
    this.calls.length = 0;
  }

  addDisk(d: { project?: string; zone: string; name: string; sizeGb: number; type?: string }): FakeGceDisk {
    const now = Date.now();
    const disk: FakeGceDisk = {
      project: d.project ?? 'test-project',
      zone: d.zone,
      name: d.name,
      id: numericId(),
      sizeGb: d.sizeGb,
      type: d.type ?? 'pd-standard',
      labels: {},
      createdAt: now,
      readyAt: now,
    };
    this.disks.set(`${disk.project}/${disk.zone}/${disk.name}`, disk);
    return disk;
  }

  setSnapshotStatus(name: string, status: string, project = 'test-project'): void {
    const s = this.snapshots.get(`${project}/${name}`);
    if (!s) throw new Error(`no snapshot ${name}`);
    s.forcedStatus = status;
  }

  setDiskStatus(zone: string, name: string, status: string, project = 'test-project'): void {
    const d = this.disks.get(`${project}/${zone}/${name}`);
    if (!d) throw new Error(`no disk ${name}`);
    d.forcedStatus = status;
  }

  listSnapshots(): FakeGceSnapshot[] {
    return [...this.snapshots.values()];
  }

  listDisks(): FakeGceDisk[] {
    return [...this.disks.values()];
  }

  /** Disks made by disks.insert (not the ones added as sources). */
  createdDisks(): FakeGceDisk[] {
    return this.listDisks().filter((d) => d.sourceSnapshot !== undefined);
  }

  listOperations(): FakeOperation[] {
    return [...this.operations.values()];
  }

  callCount(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  snapshotStatus(s: FakeGceSnapshot, now = Date.now()): string {
    if (s.forcedStatus) return s.forcedStatus;
    if (now >= s.readyAt) return 'READY';
    return now < s.createdAt + (s.readyAt - s.createdAt) / 2 ? 'CREATING' : 'UPLOADING';
  }

  diskStatus(d: FakeGceDisk, now = Date.now()): string {
    if (d.forcedStatus) return d.forcedStatus;
    if (now >= d.readyAt) return 'READY';
    return d.sourceSnapshot ? 'RESTORING' : 'CREATING';
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = this.route(req.method ?? 'GET', url.pathname);
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    this.calls.push({ method: route?.method ?? 'unknown', httpMethod: req.method ?? '', path: url.pathname, body });
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(value));
    };
    const sendError = (e: ApiError) =>
      send(e.status, { error: { code: e.status, message: e.message, errors: [{ message: e.message, domain: 'global', reason: e.reason }] } });
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return sendError(new ApiError(401, 'required', 'Request is missing required authentication credential.'));
    }
    if (!route) return sendError(new ApiError(404, 'notFound', `no route for ${req.method} ${url.pathname}`));
    if (this.rateLimit.exceeded(this.callsPerSecond)) return sendError(new ApiError(429, 'rateLimitExceeded', 'Rate Limit Exceeded'));
    const fault = this.faults.take(route.method);
    if (fault?.kind === 'throttle') return sendError(new ApiError(fault.status ?? 429, 'rateLimitExceeded', 'Rate Limit Exceeded'));
    if (fault?.kind === 'server-error') return sendError(new ApiError(fault.status ?? 503, 'backendError', 'Backend Error'));
    if (fault?.kind === 'error') return sendError(new ApiError(fault.status, fault.reason, fault.message ?? fault.reason));
    let result: unknown;
    try {
      if (fault?.kind === 'operation-error') {
        result = this.failedOperation(route.method, route.params, fault);
      } else {
        result = await route.run(route.params, url.searchParams, body);
      }
    } catch (err) {
      if (err instanceof ApiError) return sendError(err);
      return sendError(new ApiError(500, 'internalError', String(err)));
    }
    await answerUnlessLost(
      req,
      res,
      fault,
      () => send(200, result),
      () => sendError(new ApiError(503, 'backendError', 'Backend Error')),
    );
  }

  private route(
    httpMethod: string,
    path: string,
  ):
    | { method: string; params: Record<string, string>; run: (p: Record<string, string>, q: URLSearchParams, body: unknown) => unknown }
    | undefined {
    const routes: Array<[string, RegExp, string, (p: Record<string, string>, q: URLSearchParams, body: unknown) => unknown]> = [
      ['POST', /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/disks\/([^/]+)\/createSnapshot$/, 'disks.createSnapshot', (p, q, b) => this.createSnapshot(p, q, b)],
      ['GET', /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/disks\/([^/]+)$/, 'disks.get', (p) => this.diskJson(this.disk(p))],
      ['DELETE', /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/disks\/([^/]+)$/, 'disks.delete', (p, q) => this.deleteDisk(p, q)],
      ['POST', /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/disks$/, 'disks.insert', (p, q, b) => this.insertDisk(p, q, b)],
      ['GET', /^\/compute\/v1\/projects\/([^/]+)\/global\/snapshots\/([^/]+)$/, 'snapshots.get', (p) => this.snapshotJson(this.snapshot(p))],
      ['DELETE', /^\/compute\/v1\/projects\/([^/]+)\/global\/snapshots\/([^/]+)$/, 'snapshots.delete', (p, q) => this.deleteSnapshot(p, q)],
      ['GET', /^\/compute\/v1\/projects\/([^/]+)\/global\/snapshots$/, 'snapshots.list', (p, q) => this.listSnapshotsJson(p, q)],
      ['GET', /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/operations\/([^/]+)$/, 'zoneOperations.get', (p) => this.operationJson(this.operation(p))],
      ['POST', /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/operations\/([^/]+)\/wait$/, 'zoneOperations.wait', (p) => this.waitOperation(p)],
      ['GET', /^\/compute\/v1\/projects\/([^/]+)\/global\/operations\/([^/]+)$/, 'globalOperations.get', (p) => this.operationJson(this.operation(p))],
      ['POST', /^\/compute\/v1\/projects\/([^/]+)\/global\/operations\/([^/]+)\/wait$/, 'globalOperations.wait', (p) => this.waitOperation(p)],
    ];
    const names: Record<string, string[]> = {
      'disks.createSnapshot': ['project', 'zone', 'disk'],
      'disks.get': ['project', 'zone', 'disk'],
      'disks.delete': ['project', 'zone', 'disk'],
      'disks.insert': ['project', 'zone'],
      'snapshots.get': ['project', 'snapshot'],
      'snapshots.delete': ['project', 'snapshot'],
      'snapshots.list': ['project'],
      'zoneOperations.get': ['project', 'zone', 'operation'],
      'zoneOperations.wait': ['project', 'zone', 'operation'],
      'globalOperations.get': ['project', 'operation'],
      'globalOperations.wait': ['project', 'operation'],
    };
    for (const [m, re, method, run] of routes) {
      if (m !== httpMethod) continue;
      const match = re.exec(path);
      if (!match) continue;
      const params: Record<string, string> = {};
      names[method]!.forEach((n, i) => (params[n] = decodeURIComponent(match[i + 1]!)));
      return { method, params, run };
    }
    return undefined;
  }

  private newOperation(
    p: Record<string, string>,
    operationType: string,
    targetLink: string,
    doneAt: number,
    q?: URLSearchParams,
    zonal = true,
  ): FakeOperation {
    const op: FakeOperation = {
      project: p['project']!,
      name: `operation-${Date.now()}-${randomBytes(6).toString('hex')}`,
      id: numericId(),
      operationType,
      targetLink,
      insertTime: Date.now(),
      doneAt,
    };
    if (zonal && p['zone']) op.zone = p['zone'];
    this.operations.set(`${op.project}/${op.name}`, op);
    const requestId = q?.get('requestId');
    if (requestId) this.requestIds.set(requestId, op);
    return op;
  }

  /** Compute answers a repeated requestId with the first operation and does nothing again. */
  private replay(q: URLSearchParams): unknown {
    const requestId = q.get('requestId');
    const op = requestId ? this.requestIds.get(requestId) : undefined;
    return op ? this.operationJson(op) : undefined;
  }

  private failedOperation(method: string, p: Record<string, string>, fault: Extract<GceFault, { kind: 'operation-error' }>): unknown {
    const op = this.newOperation(p, method.split('.')[1] ?? method, `${BASE}projects/${p['project']}`, Date.now(), undefined, method.startsWith('disks.'));
    op.error = { code: fault.code, message: fault.message ?? fault.code, httpStatus: fault.httpStatus ?? 400 };
    return this.operationJson(op);
  }

  private operationJson(op: FakeOperation): unknown {
    const done = Date.now() >= op.doneAt;
    const out: Record<string, unknown> = {
      kind: 'compute#operation',
      id: op.id,
      name: op.name,
      operationType: op.operationType,
      targetLink: op.targetLink,
      status: done ? 'DONE' : 'RUNNING',
      progress: done ? 100 : 50,
      insertTime: new Date(op.insertTime).toISOString(),
      startTime: new Date(op.insertTime).toISOString(),
      selfLink: `${BASE}projects/${op.project}/${op.zone ? `zones/${op.zone}` : 'global'}/operations/${op.name}`,
    };
    if (op.zone) out['zone'] = `${BASE}projects/${op.project}/zones/${op.zone}`;
    if (done) out['endTime'] = new Date(op.doneAt).toISOString();
    if (done && op.error) {
      out['error'] = { errors: [{ code: op.error.code, message: op.error.message }] };
      out['httpErrorStatusCode'] = op.error.httpStatus;
      out['httpErrorMessage'] = op.error.httpStatus === 404 ? 'NOT FOUND' : 'BAD REQUEST';
    }
    return out;
  }

  private operation(p: Record<string, string>): FakeOperation {
    const op = this.operations.get(`${p['project']}/${p['operation']}`);
    if (!op || (op.zone ?? '') !== (p['zone'] ?? '')) {
      throw notFound(`projects/${p['project']}/${p['zone'] ? `zones/${p['zone']}` : 'global'}/operations/${p['operation']}`);
    }
    return op;
  }

  private async waitOperation(p: Record<string, string>): Promise<unknown> {
    const op = this.operation(p);
    const wait = Math.min(this.waitMaxMs, Math.max(0, op.doneAt - Date.now()));
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return this.operationJson(op);
  }

  private disk(p: Record<string, string>): FakeGceDisk {
    const d = this.disks.get(`${p['project']}/${p['zone']}/${p['disk']}`);
    if (!d) throw notFound(`projects/${p['project']}/zones/${p['zone']}/disks/${p['disk']}`);
    return d;
  }

  private snapshot(p: Record<string, string>): FakeGceSnapshot {
    const s = this.snapshots.get(`${p['project']}/${p['snapshot']}`);
    if (!s) throw notFound(`projects/${p['project']}/global/snapshots/${p['snapshot']}`);
    return s;
  }

  private snapshotJson(s: FakeGceSnapshot): unknown {
    return {
      kind: 'compute#snapshot',
      id: s.id,
      name: s.name,
      description: s.description,
      status: this.snapshotStatus(s),
      sourceDisk: s.sourceDisk,
      diskSizeGb: String(s.diskSizeGb),
      storageBytes: String(Math.floor(s.diskSizeGb * 1024 ** 3 * 0.1)),
      labels: s.labels,
      creationTimestamp: new Date(s.createdAt).toISOString(),
      selfLink: `${BASE}projects/${s.project}/global/snapshots/${s.name}`,
    };
  }

  private diskJson(d: FakeGceDisk): unknown {
    const out: Record<string, unknown> = {
      kind: 'compute#disk',
      id: d.id,
      name: d.name,
      sizeGb: String(d.sizeGb),
      zone: `${BASE}projects/${d.project}/zones/${d.zone}`,
      status: this.diskStatus(d),
      type: `${BASE}projects/${d.project}/zones/${d.zone}/diskTypes/${d.type}`,
      labels: d.labels,
      creationTimestamp: new Date(d.createdAt).toISOString(),
      selfLink: `${BASE}projects/${d.project}/zones/${d.zone}/disks/${d.name}`,
    };
    if (d.sourceSnapshot) out['sourceSnapshot'] = d.sourceSnapshot;
    return out;
  }

  private createSnapshot(p: Record<string, string>, q: URLSearchParams, body: unknown): unknown {
    const replayed = this.replay(q);
    if (replayed) return replayed;
    const disk = this.disk(p);
    const b = (body ?? {}) as { name?: string; labels?: Record<string, string>; description?: string };
    if (!b.name || !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(b.name)) {
      throw new ApiError(400, 'invalid', `Invalid value for field 'resource.name': '${b.name ?? ''}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`);
    }
    if (this.snapshots.has(`${p['project']}/${b.name}`)) {
      throw new ApiError(409, 'alreadyExists', `The resource 'projects/${p['project']}/global/snapshots/${b.name}' already exists`);
    }
    const now = Date.now();
    const snapshot: FakeGceSnapshot = {
      project: p['project']!,
      name: b.name,
      id: numericId(),
      sourceDisk: `${BASE}projects/${disk.project}/zones/${disk.zone}/disks/${disk.name}`,
      diskSizeGb: disk.sizeGb,
      labels: b.labels ?? {},
      description: b.description ?? '',
      createdAt: now,
      readyAt: now + this.snapshotCompletionMs,
    };
    this.snapshots.set(`${snapshot.project}/${snapshot.name}`, snapshot);
    return this.operationJson(this.newOperation(p, 'createSnapshot', snapshot.sourceDisk, snapshot.readyAt, q));
  }

  private deleteSnapshot(p: Record<string, string>, q: URLSearchParams): unknown {
    const replayed = this.replay(q);
    if (replayed) return replayed;
    const s = this.snapshot(p);
    this.snapshots.delete(`${s.project}/${s.name}`);
    return this.operationJson(this.newOperation(p, 'delete', `${BASE}projects/${s.project}/global/snapshots/${s.name}`, Date.now(), q, false));
  }

  private listSnapshotsJson(p: Record<string, string>, q: URLSearchParams): unknown {
    let items = this.listSnapshots().filter((s) => s.project === p['project']);
    const filter = q.get('filter');
    if (filter) {
      const m = /^\s*(labels\.[a-z0-9_-]+|name)\s*=\s*"?([^"]*)"?\s*$/.exec(filter);
      if (!m) throw new ApiError(400, 'invalid', `Invalid list filter expression '${filter}'.`);
      const [, field, value] = m;
      items = items.filter((s) => (field === 'name' ? s.name : s.labels[field!.slice('labels.'.length)]) === value);
    }
    const max = Math.min(this.pageSize, Number(q.get('maxResults') ?? 500));
    const start = Number(q.get('pageToken') ?? 0);
    const page = items.slice(start, start + max);
    const out: Record<string, unknown> = {
      kind: 'compute#snapshotList',
      id: `projects/${p['project']}/global/snapshots`,
      items: page.map((s) => this.snapshotJson(s)),
    };
    if (start + page.length < items.length) out['nextPageToken'] = String(start + page.length);
    return out;
  }

  private insertDisk(p: Record<string, string>, q: URLSearchParams, body: unknown): unknown {
    const replayed = this.replay(q);
    if (replayed) return replayed;
    const b = (body ?? {}) as { name?: string; sizeGb?: string; sourceSnapshot?: string; type?: string; labels?: Record<string, string> };
    if (!b.name) throw new ApiError(400, 'required', "Required field 'resource.name' not specified");
    if (this.disks.has(`${p['project']}/${p['zone']}/${b.name}`)) {
      throw new ApiError(409, 'alreadyExists', `The resource 'projects/${p['project']}/zones/${p['zone']}/disks/${b.name}' already exists`);
    }
    const snapMatch = /(?:^|\/)projects\/([^/]+)\/global\/snapshots\/([^/]+)$|^global\/snapshots\/([^/]+)$/.exec(b.sourceSnapshot ?? '');
    if (!snapMatch) throw new ApiError(400, 'invalid', `Invalid value for field 'resource.sourceSnapshot': '${b.sourceSnapshot ?? ''}'.`);
    const snapshot = this.snapshot({ project: snapMatch[1] ?? p['project']!, snapshot: snapMatch[2] ?? snapMatch[3]! });
    if (this.snapshotStatus(snapshot) !== 'READY') {
      throw new ApiError(400, 'resourceNotReady', `The resource 'projects/${snapshot.project}/global/snapshots/${snapshot.name}' is not ready`);
    }
    const sizeGb = b.sizeGb ? Number(b.sizeGb) : snapshot.diskSizeGb;
    if (sizeGb < snapshot.diskSizeGb) {
      throw new ApiError(400, 'invalid', `Invalid value for field 'resource.sizeGb': '${sizeGb}'. Requested disk size cannot be smaller than the snapshot size (${snapshot.diskSizeGb} GB).`);
    }
    const type = /diskTypes\/([^/]+)$/.exec(b.type ?? 'diskTypes/pd-standard')?.[1] ?? '';
    if (!DISK_TYPES.has(type)) throw new ApiError(400, 'invalid', `Invalid value for field 'resource.type': '${b.type ?? ''}'. Disk type is not valid.`);
    const now = Date.now();
    const disk: FakeGceDisk = {
      project: p['project']!,
      zone: p['zone']!,
      name: b.name,
      id: numericId(),
      sizeGb,
      type,
      sourceSnapshot: `${BASE}projects/${snapshot.project}/global/snapshots/${snapshot.name}`,
      labels: b.labels ?? {},
      createdAt: now,
      readyAt: now + this.diskCreationMs,
    };
    this.disks.set(`${disk.project}/${disk.zone}/${disk.name}`, disk);
    return this.operationJson(this.newOperation(p, 'insert', `${BASE}projects/${disk.project}/zones/${disk.zone}/disks/${disk.name}`, disk.readyAt, q));
  }

  private deleteDisk(p: Record<string, string>, q: URLSearchParams): unknown {
    const replayed = this.replay(q);
    if (replayed) return replayed;
    const d = this.disk(p);
    this.disks.delete(`${d.project}/${d.zone}/${d.name}`);
    return this.operationJson(this.newOperation(p, 'delete', `${BASE}projects/${d.project}/zones/${d.zone}/disks/${d.name}`, Date.now(), q));
  }
}
