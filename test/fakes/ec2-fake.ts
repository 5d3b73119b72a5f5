// A fake EC2 that speaks the EC2 Query protocol (form POST in, XML out) on 127.0.0.1, so @aws-sdk/client-ec2
// is exercised for real. It keeps an inventory of snapshots and volumes, completes them after configurable
// delays, pages DescribeSnapshots, honours CreateVolume's ClientToken like EC2, and injects faults on demand.
//
//   const ec2 = new Ec2Fake({ snapshotCompletionMs: 50 });
//   const { url } = await ec2.start();
//   const vol = ec2.addVolume({ zone: 'us-east-1a', sizeGiB: 8 });
//   ec2.injectFault('CreateSnapshot', { kind: 'lost-response' });
//   ... new EC2Client({ endpoint: url, region: 'us-east-1', credentials }) ...
//   ec2.listSnapshots().length; await ec2.stop();

import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { CallsPerSecondLimit } from './calls-per-second-limit.js';
import { answerUnlessLost, FakeHttpServer, readBody } from './fake-http-server.js';
import { FaultQueue } from './fault-queue.js';

export type Ec2Fault =
  /** 503 RequestLimitExceeded (or 400 SnapshotCreationPerVolumeRateExceeded, or any code given). */
  | { kind: 'throttle'; code?: string }
  /** A 5xx answer (default 500 InternalError); nothing is done. */
  | { kind: 'server-error'; status?: number; code?: string }
  /** Any error answer; nothing is done. */
  | { kind: 'error'; status: number; code: string; message?: string }
  /** The action is done, the answer comes `delayMs` later. */
  | { kind: 'slow'; delayMs: number }
  /** The action is done, then the connection is dropped ('reset', default) or a 500 is answered. */
  | { kind: 'lost-response'; mode?: 'reset' | '500' };

export interface Ec2FakeOptions {
  /** Time from CreateSnapshot to `completed` (progress grows linearly meanwhile). Default 0. */
  snapshotCompletionMs?: number;
  /** Time from CreateVolume to `available`. Default 0. */
  volumeCreationMs?: number;
  /** Largest page DescribeSnapshots/DescribeVolumes return, whatever MaxResults says. Default 1000. */
  pageSize?: number;
  /** Requests per second accepted before answering RequestLimitExceeded. Default unlimited. */
  callsPerSecond?: number;
  ownerId?: string;
  /** EC2's eventual consistency: a new snapshot stays out of DescribeSnapshots answers this long. Default 0. */
  consistencyLagMs?: number;
  /** When set, a request must be SigV4-signed with this access key id (else 401 AuthFailure). */
  accessKeyId?: string;
}

export type FakeSnapshotState = 'pending' | 'completed' | 'error';

export interface FakeSnapshot {
  snapshotId: string;
  volumeId: string;
  volumeSize: number;
  description: string;
  tags: Record<string, string>;
  startTime: number;
  encrypted: boolean;
  kmsKeyId?: string;
  /** Set by setSnapshotState; otherwise the state follows the completion delay. */
  forcedState?: FakeSnapshotState;
  statusMessage?: string;
}

export interface FakeVolume {
  volumeId: string;
  zone: string;
  size: number;
  snapshotId?: string;
  volumeType: string;
  iops?: number;
  throughput?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  tags: Record<string, string>;
  createTime: number;
  readyAt: number;
  clientToken?: string;
  forcedState?: 'creating' | 'available' | 'error';
}

export interface Ec2Call {
  action: string;
  params: Record<string, string>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const VOLUME_TYPES = new Set(['gp2', 'gp3', 'io1', 'io2', 'sc1', 'st1', 'standard']);

function esc(s: string | number | boolean): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${esc(value)}</${name}>`;
}

function tagSet(tags: Record<string, string>): string {
  const items = Object.entries(tags).map(([k, v]) => `<item>${el('key', k)}${el('value', v)}</item>`);
  return items.length ? `<tagSet>${items.join('')}</tagSet>` : '';
}

function hexId(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString('hex').slice(0, 17)}`;
}

/** `Prefix.N.Field` / `Prefix.N` members of an EC2 Query request, in order. */
function indexed(params: Record<string, string>, prefix: string): Map<number, Record<string, string>> {
  const out = new Map<number, Record<string, string>>();
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)(?:\\.(.+))?$`);
  for (const [k, v] of Object.entries(params)) {
    const m = re.exec(k);
    if (!m) continue;
    const n = Number(m[1]);
    const entry = out.get(n) ?? {};
    entry[m[2] ?? ''] = v;
    out.set(n, entry);
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}

function listParam(params: Record<string, string>, prefix: string): string[] {
  return [...indexed(params, prefix).values()].map((e) => e[''] ?? '');
}

function filtersOf(params: Record<string, string>): Array<{ name: string; values: string[] }> {
  return [...indexed(params, 'Filter').values()].map((f) => ({
    name: f['Name'] ?? '',
    values: Object.entries(f)
      .filter(([k]) => /^Value\.\d+$/.test(k))
      .sort((a, b) => Number(a[0].slice(6)) - Number(b[0].slice(6)))
      .map(([, v]) => v),
  }));
}

function tagsFor(params: Record<string, string>, resourceType: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const spec of indexed(params, 'TagSpecification').values()) {
    if (spec['ResourceType'] !== resourceType) continue;
    for (let i = 1; spec[`Tag.${i}.Key`] !== undefined; i++) tags[spec[`Tag.${i}.Key`]!] = spec[`Tag.${i}.Value`] ?? '';
  }
  return tags;
}

export class Ec2Fake {
  private readonly server = new FakeHttpServer((req, res) => this.handle(req, res));
  private readonly snapshots = new Map<string, FakeSnapshot>();
  private readonly volumes = new Map<string, FakeVolume>();
  private readonly faults = new FaultQueue<Ec2Fault>();
  private readonly rateLimit = new CallsPerSecondLimit();
  /** Every request received, in order (throttled and faulted ones included). */
  readonly calls: Ec2Call[] = [];
  snapshotCompletionMs: number;
  volumeCreationMs: number;
  pageSize: number;
  callsPerSecond: number | undefined;
  readonly ownerId: string;
  readonly accessKeyId: string | undefined;
  consistencyLagMs: number;

  constructor(options: Ec2FakeOptions = {}) {
    this.consistencyLagMs = options.consistencyLagMs ?? 0;
    this.accessKeyId = options.accessKeyId;
    this.snapshotCompletionMs = options.snapshotCompletionMs ?? 0;
    this.volumeCreationMs = options.volumeCreationMs ?? 0;
    this.pageSize = options.pageSize ?? 1000;
    this.callsPerSecond = options.callsPerSecond;
    this.ownerId = options.ownerId ?? '123456789012';
  }

  start(): Promise<{ url: string; port: number }> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  /** The next `times` requests of `action` ('*' = any) get `fault`. */
  injectFault(action: string, fault: Ec2Fault, times = 1): void {
    this.faults.add(action, fault, times);
  }

  /** Every request first asks `choose` (undefined = none), and the fault it returns strikes that request. */
  injectFaultsBy(choose: ((action: string) => Ec2Fault | undefined) | undefined): void {
    this.faults.chooseWith(choose);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Forgets everything (inventory, faults, recorded calls), so one server can serve many tests. */
  reset(): void {
    this.snapshots.clear();
    this.volumes.clear();
    this.faults.clear();
    this.rateLimit.clear();
    this.calls.length = 0;
  }

  addVolume(v: { zone: string; sizeGiB: number; volumeId?: string; tags?: Record<string, string> }): FakeVolume {
    const now = Date.now();
    const volume: FakeVolume = {
      volumeId: v.volumeId ?? hexId('vol'),
      zone: v.zone,
      size: v.sizeGiB,
      volumeType: 'gp2',
      encrypted: false,
      tags: v.tags ?? {},
      createTime: now,
      readyAt: now,
    };
    this.volumes.set(volume.volumeId, volume);
    return volume;
  }

  /** Puts a snapshot straight into the inventory (as if made earlier, e.g. by a crashed run). */
  addSnapshot(s: { volumeId: string; volumeSize?: number; tags?: Record<string, string>; state?: FakeSnapshotState; startTime?: number }): FakeSnapshot {
    const snapshot: FakeSnapshot = {
      snapshotId: hexId('snap'),
      volumeId: s.volumeId,
      volumeSize: s.volumeSize ?? this.volumes.get(s.volumeId)?.size ?? 1,
      description: '',
      tags: s.tags ?? {},
      startTime: s.startTime ?? Date.now(),
      encrypted: false,
    };
    if (s.state) snapshot.forcedState = s.state;
    this.snapshots.set(snapshot.snapshotId, snapshot);
    return snapshot;
  }

  setSnapshotState(snapshotId: string, state: FakeSnapshotState, message?: string): void {
    const s = this.snapshots.get(snapshotId);
    if (!s) throw new Error(`no snapshot ${snapshotId}`);
    s.forcedState = state;
    if (message !== undefined) s.statusMessage = message;
  }

  setVolumeState(volumeId: string, state: 'creating' | 'available' | 'error'): void {
    const v = this.volumes.get(volumeId);
    if (!v) throw new Error(`no volume ${volumeId}`);
    v.forcedState = state;
  }

  listSnapshots(): FakeSnapshot[] {
    return [...this.snapshots.values()];
  }

  listVolumes(): FakeVolume[] {
    return [...this.volumes.values()];
  }

  /** Volumes made by CreateVolume (not the ones added as sources). */
  createdVolumes(): FakeVolume[] {
    return this.listVolumes().filter((v) => v.snapshotId !== undefined);
  }

  callCount(action: string): number {
    return this.calls.filter((c) => c.action === action).length;
  }

  snapshotState(s: FakeSnapshot, now = Date.now()): { state: FakeSnapshotState; progress: number } {
    if (s.forcedState) return { state: s.forcedState, progress: s.forcedState === 'completed' ? 100 : 0 };
    const elapsed = now - s.startTime;
    if (elapsed >= this.snapshotCompletionMs) return { state: 'completed', progress: 100 };
    return { state: 'pending', progress: Math.floor((elapsed / this.snapshotCompletionMs) * 100) };
  }

  volumeState(v: FakeVolume, now = Date.now()): string {
    return v.forcedState ?? (now >= v.readyAt ? 'available' : 'creating');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const action = params['Action'] ?? '';
    this.calls.push({ action, params });
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(body);
    };
    const sendError = (e: ApiError) =>
      send(
        e.status,
        `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${el('Code', e.code)}${el('Message', e.message)}</Error></Errors>${el('RequestID', hexId('req'))}</Response>`,
      );
    const auth = req.headers.authorization ?? '';
    if (this.accessKeyId !== undefined && !auth.startsWith(`AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/`)) {
      return sendError(new ApiError(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials'));
    }
    if (this.rateLimit.exceeded(this.callsPerSecond)) return sendError(new ApiError(503, 'RequestLimitExceeded', 'Request limit exceeded.'));
    const fault = this.faults.take(action);
    if (fault?.kind === 'throttle') {
      const code = fault.code ?? 'RequestLimitExceeded';
      return sendError(new ApiError(code === 'RequestLimitExceeded' ? 503 : 400, code, `${code}: slow down.`));
    }
    if (fault?.kind === 'server-error') {
      return sendError(new ApiError(fault.status ?? 500, fault.code ?? 'InternalError', 'An internal error has occurred'));
    }
    if (fault?.kind === 'error') return sendError(new ApiError(fault.status, fault.code, fault.message ?? fault.code));
    let body: string;
    try {
      body = this.dispatch(action, params);
    } catch (err) {
      if (err instanceof ApiError) return sendError(err);
      return sendError(new ApiError(500, 'InternalError', String(err)));
    }
    await answerUnlessLost(
      req,
      res,
      fault,
      () => send(200, `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">${el('requestId', hexId('req'))}${body}</${action}Response>`),
      () => sendError(new ApiError(500, 'InternalError', 'An internal error has occurred')),
    );
  }

  private dispatch(action: string, p: Record<string, string>): string {
    switch (action) {
      case 'CreateSnapshot':
        return this.createSnapshot(p);
      case 'DescribeSnapshots':
        return this.describeSnapshots(p);
      case 'DeleteSnapshot':
        return this.deleteSnapshot(p);
      case 'CreateVolume':
        return this.createVolume(p);
      case 'DescribeVolumes':
        return this.describeVolumes(p);
      case 'DeleteVolume':
        return this.deleteVolume(p);
      default:
        throw new ApiError(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private snapshotXml(s: FakeSnapshot): string {
    const { state, progress } = this.snapshotState(s);
    return (
      el('snapshotId', s.snapshotId) +
      el('volumeId', s.volumeId) +
      el('status', state) +
      el('statusMessage', state === 'error' ? (s.statusMessage ?? 'snapshot failed') : undefined) +
      el('startTime', new Date(s.startTime).toISOString()) +
      el('progress', `${progress}%`) +
      el('ownerId', this.ownerId) +
      el('volumeSize', s.volumeSize) +
      el('description', s.description) +
      el('encrypted', s.encrypted) +
      el('kmsKeyId', s.kmsKeyId) +
      tagSet(s.tags)
    );
  }

  private volumeXml(v: FakeVolume): string {
    return (
      el('volumeId', v.volumeId) +
      el('size', v.size) +
      el('snapshotId', v.snapshotId ?? '') +
      el('availabilityZone', v.zone) +
      el('status', this.volumeState(v)) +
      el('createTime', new Date(v.createTime).toISOString()) +
      el('volumeType', v.volumeType) +
      el('iops', v.iops) +
      el('throughput', v.throughput) +
      el('encrypted', v.encrypted) +
      el('kmsKeyId', v.kmsKeyId) +
      el('multiAttachEnabled', false) +
      tagSet(v.tags)
    );
  }

  private createSnapshot(p: Record<string, string>): string {
    const volumeId = p['VolumeId'];
    if (!volumeId) throw new ApiError(400, 'MissingParameter', "The request must contain the parameter 'VolumeId'");
    const volume = this.volumes.get(volumeId);
    if (!volume) throw new ApiError(400, 'InvalidVolume.NotFound', `The volume '${volumeId}' does not exist.`);
    const snapshot: FakeSnapshot = {
      snapshotId: hexId('snap'),
      volumeId,
      volumeSize: volume.size,
      description: p['Description'] ?? '',
      tags: tagsFor(p, 'snapshot'),
      startTime: Date.now(),
      encrypted: volume.encrypted,
    };
    if (volume.kmsKeyId) snapshot.kmsKeyId = volume.kmsKeyId;
    this.snapshots.set(snapshot.snapshotId, snapshot);
    return this.snapshotXml(snapshot);
  }

  private page<T>(items: T[], p: Record<string, string>): { items: T[]; next?: string } {
    const max = Math.min(this.pageSize, p['MaxResults'] ? Number(p['MaxResults']) : Infinity);
    const start = p['NextToken'] ? Number(Buffer.from(p['NextToken'], 'base64').toString('utf8')) : 0;
    if (!Number.isInteger(start)) throw new ApiError(400, 'InvalidParameterValue', 'Invalid NextToken');
    const slice = items.slice(start, start + max);
    const end = start + slice.length;
    return end < items.length ? { items: slice, next: Buffer.from(String(end)).toString('base64') } : { items: slice };
  }

  private describeSnapshots(p: Record<string, string>): string {
    const ids = listParam(p, 'SnapshotId');
    for (const id of ids) {
      if (!this.snapshots.has(id)) throw new ApiError(400, 'InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
    }
    const visibleSince = Date.now() - this.consistencyLagMs;
    let items = (ids.length ? ids.map((id) => this.snapshots.get(id)!) : this.listSnapshots()).filter((s) => s.startTime <= visibleSince);
    for (const f of filtersOf(p)) {
      items = items.filter((s) => {
        const value = (() => {
          if (f.name.startsWith('tag:')) return s.tags[f.name.slice(4)];
          switch (f.name) {
            case 'status':
              return this.snapshotState(s).state;
            case 'volume-id':
              return s.volumeId;
            case 'snapshot-id':
              return s.snapshotId;
            case 'owner-id':
              return this.ownerId;
            case 'tag-key':
              return f.values.find((v) => v in s.tags);
            default:
              throw new ApiError(400, 'InvalidParameterValue', `The filter '${f.name}' is invalid`);
          }
        })();
        return value !== undefined && f.values.includes(value);
      });
    }
    const page = this.page(items, p);
    return `<snapshotSet>${page.items.map((s) => `<item>${this.snapshotXml(s)}</item>`).join('')}</snapshotSet>${el('nextToken', page.next)}`;
  }

  private deleteSnapshot(p: Record<string, string>): string {
    const id = p['SnapshotId'] ?? '';
    if (!this.snapshots.has(id)) throw new ApiError(400, 'InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
    this.snapshots.delete(id);
    return el('return', true);
  }

  private createVolume(p: Record<string, string>): string {
    const token = p['ClientToken'];
    if (token) {
      const existing = this.listVolumes().find((v) => v.clientToken === token);
      if (existing) {
        // EC2 answers a repeated ClientToken with the first volume, or a mismatch error when the request differs.
        if (existing.snapshotId !== p['SnapshotId'] || existing.zone !== p['AvailabilityZone']) {
          throw new ApiError(400, 'IdempotentParameterMismatch', 'The client token you have provided is associated with a resource that is already deleted or has different parameters.');
        }
        return this.volumeXml(existing);
      }
    }
    const zone = p['AvailabilityZone'];
    if (!zone) throw new ApiError(400, 'MissingParameter', "The request must contain the parameter 'AvailabilityZone'");
    const snapshotId = p['SnapshotId'];
    if (!snapshotId) throw new ApiError(400, 'MissingParameter', 'a snapshot is required by this fake');
    const snapshot = this.snapshots.get(snapshotId);
    if (!snapshot) throw new ApiError(400, 'InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`);
    if (this.snapshotState(snapshot).state !== 'completed') {
      throw new ApiError(400, 'IncorrectState', `Snapshot is in invalid state - ${this.snapshotState(snapshot).state}`);
    }
    const size = p['Size'] ? Number(p['Size']) : snapshot.volumeSize;
    if (size < snapshot.volumeSize) {
      throw new ApiError(400, 'InvalidParameterValue', `The volume size is invalid for the given snapshot. Minimum is ${snapshot.volumeSize}`);
    }
    const volumeType = p['VolumeType'] ?? 'gp2';
    if (!VOLUME_TYPES.has(volumeType)) throw new ApiError(400, 'InvalidParameterValue', `Value (${volumeType}) for parameter volumeType is invalid.`);
    if ((volumeType === 'io1' || volumeType === 'io2') && !p['Iops']) {
      throw new ApiError(400, 'InvalidParameterCombination', `The parameter iops must be specified for ${volumeType} volumes.`);
    }
    if (p['KmsKeyId'] && p['Encrypted'] !== 'true') {
      throw new ApiError(400, 'InvalidParameterDependency', 'The parameter KmsKeyId requires the parameter Encrypted to be set.');
    }
    const now = Date.now();
    const volume: FakeVolume = {
      volumeId: hexId('vol'),
      zone,
      size,
      snapshotId,
      volumeType,
      encrypted: p['Encrypted'] === 'true' || snapshot.encrypted,
      tags: tagsFor(p, 'volume'),
      createTime: now,
      readyAt: now + this.volumeCreationMs,
    };
    if (p['Iops']) volume.iops = Number(p['Iops']);
    if (p['Throughput']) volume.throughput = Number(p['Throughput']);
    if (p['KmsKeyId']) volume.kmsKeyId = p['KmsKeyId'];
    if (token) volume.clientToken = token;
    this.volumes.set(volume.volumeId, volume);
    return this.volumeXml(volume);
  }

  private describeVolumes(p: Record<string, string>): string {
    const ids = listParam(p, 'VolumeId');
    for (const id of ids) {
      if (!this.volumes.has(id)) throw new ApiError(400, 'InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
    }
    let items = ids.length ? ids.map((id) => this.volumes.get(id)!) : this.listVolumes();
    for (const f of filtersOf(p)) {
      items = items.filter((v) => {
        const value = f.name.startsWith('tag:')
          ? v.tags[f.name.slice(4)]
          : f.name === 'status'
            ? this.volumeState(v)
            : f.name === 'availability-zone'
              ? v.zone
              : f.name === 'snapshot-id'
                ? v.snapshotId
                : undefined;
        return value !== undefined && f.values.includes(value);
      });
    }
    const page = this.page(items, p);
    return `<volumeSet>${page.items.map((v) => `<item>${this.volumeXml(v)}</item>`).join('')}</volumeSet>${el('nextToken', page.next)}`;
  }

  private deleteVolume(p: Record<string, string>): string {
    const id = p['VolumeId'] ?? '';
    if (!this.volumes.has(id)) throw new ApiError(400, 'InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
    this.volumes.delete(id);
    return el('return', true);
  }
}
