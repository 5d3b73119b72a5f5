// GCE Persistent Disk through @google-cloud/compute 6 (REST transport). Idempotency by name, as the PD CSI
// driver does (pkg/gce-cloud-provider/compute/gce-compute.go): a snapshot's name is derived from its
// VolumeSnapshot's uid and a restored disk's from the PV name, so every creation first GETs the name, and
// `alreadyExists` on insert means an earlier attempt (whose answer was lost) succeeded.
// google-gax's own retries are off (retryCodes []); CallPacer retries, re-checking before re-creating.

import { createHash } from 'node:crypto';
import { DisksClient, GlobalOperationsClient, SnapshotsClient, ZoneOperationsClient, type protos } from '@google-cloud/compute';
import { CloudError, classifyGceError, isGceAlreadyExists } from './cloud-error.js';
import { StaticTokenAuth } from './gce-auth.js';
import type {
  CloudProvider,
  CreateSnapshotInput,
  CreateVolumeInput,
  SnapshotInfo,
  VolumeInfo,
  VolumeRef,
  VolumeSource,
} from './provider.js';
import { GiB, roundUpToGiB } from './provider.js';
import { CallPacer, TokenBucket, defaultRetryOptions, realClock, type Clock, type RetryOptions } from './rate-limiter.js';
import { parsePdParameters } from './volume-parameters.js';
import { PD_CSI_DRIVER } from './volume-source.js';

type ISnapshot = protos.google.cloud.compute.v1.ISnapshot;
type IDisk = protos.google.cloud.compute.v1.IDisk;
type IOperation = protos.google.cloud.compute.v1.IOperation;
type ClientOptions = NonNullable<ConstructorParameters<typeof DisksClient>[0]>;

export const LABEL_NAMESPACE = 'kubernetes-io-created-for-snapshot-namespace';
export const LABEL_NAME = 'kubernetes-io-created-for-snapshot-name';
export const LABEL_UID = 'kubernetes-io-created-for-snapshot-uid';
export const LABEL_PV_NAME = 'kubernetes-io-created-for-pv-name';

export interface GceProviderOptions {
  /** --gce-project; else the project of the application default credentials. */
  project?: string;
  /** Endpoint override: host (default compute.googleapis.com), port and protocol. */
  apiEndpoint?: string;
  port?: number;
  protocol?: 'http' | 'https';
  /** A fixed bearer token instead of application default credentials. */
  accessToken?: string;
  /** --cluster-id: label `kubernetes-io-cluster-<id>=owned`. */
  clusterId?: string;
  qps?: number;
  burst?: number;
  retry?: Partial<RetryOptions>;
  /** Per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
  /** Interval between operation / disk status reads. Default 2 s. */
  pollIntervalMs?: number;
  /** How long a disk insert or a delete operation is waited on before a retryable error. Default 5 min. */
  operationTimeoutMs?: number;
  clock?: Clock;
}

const RFC1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The snapshot name for a VolumeSnapshot uid: a valid RFC 1035 label of at most 63 characters. */
export function snapshotNameForUid(uid: string): string {
  // Kubernetes uids are lowercase UUIDs; anything else gets a hash so that distinct uids keep distinct names.
  return /^[a-z0-9]([-a-z0-9]{0,52}[a-z0-9])?$/.test(uid)
    ? `snapshot-${uid}`
    : `snapshot-${createHash('sha256').update(uid).digest('hex').slice(0, 40)}`;
}

/** The disk name for PV `name` (PV names `pvc-<uid>` are already valid; anything else is hashed). */
export function diskNameFor(name: string): string {
  return RFC1035.test(name) ? name : `pv-${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}

/** A GCE label value: lowercase letters, digits, `_` and `-`, at most 63 characters. */
export function labelValue(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .slice(0, 63);
}

/** Maps a Compute snapshot status; an unknown status is reported, never fatal. */
export function snapshotInfoOf(s: ISnapshot, id: string): SnapshotInfo {
  const info: SnapshotInfo = { id, state: 'pending' };
  const status = String(s.status ?? '');
  switch (status) {
    case 'READY':
      info.state = 'ready';
      break;
    case 'CREATING':
    case 'UPLOADING':
      info.state = 'pending';
      break;
    case 'FAILED':
      info.state = 'error';
      info.message = 'the GCE snapshot failed (status FAILED)';
      break;
    case 'DELETING':
      info.state = 'error';
      info.message = 'the GCE snapshot is being deleted';
      break;
    default:
      info.state = 'pending';
      info.message = `unknown GCE snapshot status "${status}"`;
  }
  if (s.diskSizeGb !== undefined && s.diskSizeGb !== null) info.sizeBytes = Number(s.diskSizeGb) * GiB;
  if (s.creationTimestamp) info.createdAt = new Date(s.creationTimestamp);
  return info;
}

/** The error an operation ended with, classified; undefined when it has none. */
export function operationError(op: IOperation): CloudError | undefined {
  const errors = op.error?.errors ?? [];
  if (!errors.length) return undefined;
  const first = errors[0]!;
  const code = first.code ?? 'OPERATION_FAILED';
  const message = errors.map((e) => e.message ?? e.code ?? '').join('; ') || code;
  const http = op.httpErrorStatusCode ?? 0;
  if (code === 'RESOURCE_NOT_FOUND' || http === 404) return CloudError.notFound(code, message);
  if (/RATE_LIMIT/.test(code)) return new CloudError({ code, message, retryable: true, throttled: true });
  if (code === 'INTERNAL_ERROR' || http >= 500) return new CloudError({ code, message, retryable: true });
  return CloudError.terminal(code, message);
}

const SNAPSHOT_PATH = /^projects\/([^/]+)\/global\/snapshots\/([^/]+)$/;
const DISK_HANDLE = /^projects\/([^/]+)\/zones\/([^/]+)\/disks\/([^/]+)$/;

export class GceProvider implements CloudProvider {
  readonly name = 'gce' as const;
  readonly pacer: CallPacer;
  private readonly clientOptions: ClientOptions;
  // Built on first use: each client parses Compute's large protobuf description.
  private disksClient: DisksClient | undefined;
  private snapshotsClient: SnapshotsClient | undefined;
  private zoneOpsClient: ZoneOperationsClient | undefined;
  private globalOpsClient: GlobalOperationsClient | undefined;
  private readonly clock: Clock;
  private projectId: string | undefined;
  /** createSnapshot operations still running, so a 404 right after creation reads as pending (or the op's error). */
  private readonly pendingCreates = new Map<string, { project: string; zone: string; operation: string }>();
  private readonly callOptions: { timeout: number; retry: { retryCodes: number[] } };

  constructor(private readonly options: GceProviderOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.projectId = options.project || undefined;
    const retry = { ...defaultRetryOptions, ...options.retry };
    this.pacer = new CallPacer(
      new TokenBucket(options.qps ?? 0, options.burst ?? 1, this.clock),
      retry,
      classifyGceError,
      this.clock,
      options.requestTimeoutMs ?? 30_000,
    );
    const clientOptions: ClientOptions = { fallback: true };
    if (options.apiEndpoint) clientOptions.apiEndpoint = options.apiEndpoint;
    if (options.port) clientOptions.port = options.port;
    if (options.protocol) clientOptions.protocol = options.protocol;
    if (options.accessToken) clientOptions.auth = new StaticTokenAuth(options.accessToken) as unknown as ClientOptions['auth'];
    this.clientOptions = clientOptions;
    this.callOptions = { timeout: options.requestTimeoutMs ?? 30_000, retry: { retryCodes: [] } };
  }

  private get disks(): DisksClient {
    return (this.disksClient ??= new DisksClient({ ...this.clientOptions }));
  }

  private get snapshots(): SnapshotsClient {
    return (this.snapshotsClient ??= new SnapshotsClient({ ...this.clientOptions }));
  }

  private get zoneOps(): ZoneOperationsClient {
    return (this.zoneOpsClient ??= new ZoneOperationsClient({ ...this.clientOptions }));
  }

  private get globalOps(): GlobalOperationsClient {
    return (this.globalOpsClient ??= new GlobalOperationsClient({ ...this.clientOptions }));
  }

  private async project(): Promise<string> {
    if (this.projectId) return this.projectId;
    try {
      this.projectId = await this.disks.getProjectId();
    } catch (err) {
      throw CloudError.terminal('MissingProject', `the GCE project is unknown: set --gce-project (${(err as Error).message})`);
    }
    return this.projectId;
  }

  /** `name` in the default project, `projects/<p>/global/snapshots/<name>` elsewhere. */
  private async snapshotRef(id: string): Promise<{ project: string; name: string }> {
    const m = SNAPSHOT_PATH.exec(id);
    if (m) return { project: m[1]!, name: m[2]! };
    if (!RFC1035.test(id)) throw CloudError.terminal('InvalidSnapshotId', `invalid GCE snapshot name "${id}"`);
    return { project: await this.project(), name: id };
  }

  private async snapshotId(project: string, name: string): Promise<string> {
    return project === (await this.project().catch(() => undefined)) ? name : `projects/${project}/global/snapshots/${name}`;
  }

  private async getSnapshotResource(project: string, name: string): Promise<ISnapshot | undefined> {
    try {
      const [s] = await this.pacer.once(() => this.snapshots.get({ project, snapshot: name }, this.callOptions));
      return s;
    } catch (err) {
      if (classifyGceError(err).notFound) return undefined;
      throw err;
    }
  }

  async createSnapshot(input: CreateSnapshotInput): Promise<SnapshotInfo> {
    const disk = this.pdVolume(input.volume);
    const project = disk.project ?? (await this.project());
    const name = snapshotNameForUid(input.tags.uid);
    const id = await this.snapshotId(project, name);
    const labels: Record<string, string> = {
      [LABEL_NAMESPACE]: labelValue(input.tags.namespace),
      [LABEL_NAME]: labelValue(input.tags.name),
      [LABEL_UID]: labelValue(input.tags.uid),
    };
    if (this.options.clusterId) labels[labelValue(`kubernetes-io-cluster-${this.options.clusterId}`)] = 'owned';
    const description =
      input.description ?? `Created by volumesnapshot-apiserver for ${input.tags.namespace}/${input.tags.name} (uid ${input.tags.uid})`;
    return this.pacer.withRetry(async () => {
      const existing = await this.getSnapshotResource(project, name);
      if (existing) return snapshotInfoOf(existing, id);
      let op: IOperation;
      try {
        const [lro] = await this.pacer.once(() =>
          this.disks.createSnapshot(
            { project, zone: disk.zone, disk: disk.disk, snapshotResource: { name, labels, description } },
            this.callOptions,
          ),
        );
        op = (lro as unknown as { latestResponse: IOperation }).latestResponse;
      } catch (err) {
        if (!isGceAlreadyExists(err)) throw err;
        const raced = await this.getSnapshotResource(project, name);
        return raced ? snapshotInfoOf(raced, id) : { id, state: 'pending' };
      }
      const failed = operationError(op);
      if (failed) throw failed;
      if (op.name && op.status !== 'DONE') this.pendingCreates.set(id, { project, zone: disk.zone, operation: op.name });
      const created = await this.getSnapshotResource(project, name);
      return created ? snapshotInfoOf(created, id) : { id, state: 'pending' };
    });
  }

  async findSnapshotByUid(uid: string, volume?: VolumeSource): Promise<SnapshotInfo | undefined> {
    const project = (volume?.type === 'gce-pd' ? volume.project : undefined) ?? (await this.project());
    const name = snapshotNameForUid(uid);
    const s = await this.pacer.withRetry(() => this.getSnapshotResource(project, name));
    return s ? snapshotInfoOf(s, await this.snapshotId(project, name)) : undefined;
  }

  async getSnapshot(id: string): Promise<SnapshotInfo> {
    const ref = await this.snapshotRef(id);
    const s = await this.pacer.withRetry(() => this.getSnapshotResource(ref.project, ref.name));
    if (s) {
      this.pendingCreates.delete(id);
      return snapshotInfoOf(s, id);
    }
    const pending = this.pendingCreates.get(id);
    if (pending) {
      const [op] = await this.pacer.call(() =>
        this.zoneOps.get({ project: pending.project, zone: pending.zone, operation: pending.operation }, this.callOptions),
      );
      const failed = operationError(op);
      if (failed) {
        this.pendingCreates.delete(id);
        return { id, state: 'error', message: `${failed.code}: ${failed.message}` };
      }
      if (op.status !== 'DONE') return { id, state: 'pending' };
      this.pendingCreates.delete(id);
    }
    throw CloudError.notFound('notFound', `GCE snapshot "${id}" not found`);
  }

  async deleteSnapshot(id: string): Promise<void> {
    const ref = await this.snapshotRef(id);
    this.pendingCreates.delete(id);
    let op: IOperation;
    try {
      const [lro] = await this.pacer.call(() => this.snapshots.delete({ project: ref.project, snapshot: ref.name }, this.callOptions));
      op = (lro as unknown as { latestResponse: IOperation }).latestResponse;
    } catch (err) {
      if (classifyGceError(err).notFound) return;
      throw err;
    }
    try {
      await this.waitOperation(ref.project, undefined, op);
    } catch (err) {
      if (err instanceof CloudError && err.notFound) return;
      throw err;
    }
  }

  async createVolume(input: CreateVolumeInput): Promise<VolumeInfo> {
    const params = parsePdParameters(input.parameters);
    const ref = await this.snapshotRef(input.snapshotId);
    const snapshot = await this.pacer.withRetry(() => this.getSnapshotResource(ref.project, ref.name));
    if (!snapshot) throw CloudError.notFound('notFound', `GCE snapshot "${input.snapshotId}" not found`);
    if (snapshot.status !== 'READY') {
      throw CloudError.terminal('SnapshotNotReady', `snapshot ${input.snapshotId} is ${String(snapshot.status)}, not READY`);
    }
    const sizeGb = Math.max(roundUpToGiB(input.sizeBytes), Number(snapshot.diskSizeGb ?? 0));
    const zone = params.zone ?? input.zone;
    if (!zone) throw CloudError.terminal('MissingZone', 'no zone for the new disk: set the "zone" parameter');
    const project = await this.project();
    const name = diskNameFor(input.name);
    const sourceSnapshot = `projects/${ref.project}/global/snapshots/${ref.name}`;
    const labels: Record<string, string> = { [LABEL_PV_NAME]: labelValue(input.name) };
    if (this.options.clusterId) labels[labelValue(`kubernetes-io-cluster-${this.options.clusterId}`)] = 'owned';
    await this.pacer.withRetry(async () => {
      const existing = await this.getDiskResource(project, zone, name);
      if (existing) {
        if (!String(existing.sourceSnapshot ?? '').endsWith(sourceSnapshot)) {
          throw CloudError.terminal('DiskNameConflict', `disk ${name} in ${zone} exists and was not restored from ${sourceSnapshot}`);
        }
        return;
      }
      let op: IOperation;
      try {
        const [lro] = await this.pacer.once(() =>
          this.disks.insert(
            {
              project,
              zone,
              diskResource: { name, sizeGb: String(sizeGb), sourceSnapshot, type: `zones/${zone}/diskTypes/${params.diskType}`, labels },
            },
            this.callOptions,
          ),
        );
        op = (lro as unknown as { latestResponse: IOperation }).latestResponse;
      } catch (err) {
        if (isGceAlreadyExists(err)) return;
        throw err;
      }
      await this.waitOperation(project, zone, op);
    });
    const disk = await this.waitDiskReady(project, zone, name);
    return this.volumeInfoOf(disk, project, zone, input.sourceKind ?? 'in-tree', params.fsType ?? input.fsType);
  }

  private async getDiskResource(project: string, zone: string, disk: string): Promise<IDisk | undefined> {
    try {
      const [d] = await this.pacer.once(() => this.disks.get({ project, zone, disk }, this.callOptions));
      return d;
    } catch (err) {
      if (classifyGceError(err).notFound) return undefined;
      throw err;
    }
  }

  private async waitOperation(project: string, zone: string | undefined, initial: IOperation): Promise<void> {
    const deadline = this.clock.now() + (this.options.operationTimeoutMs ?? 300_000);
    let op = initial;
    while (true) {
      const failed = operationError(op);
      if (failed) throw failed;
      if (op.status === 'DONE' || !op.name) return;
      if (this.clock.now() >= deadline) {
        throw new CloudError({ code: 'OperationTimeout', message: `operation ${op.name} is still ${String(op.status)}`, retryable: true });
      }
      await this.clock.sleep(this.options.pollIntervalMs ?? 2_000);
      const operation = op.name;
      [op] = zone
        ? await this.pacer.call(() => this.zoneOps.get({ project, zone, operation }, this.callOptions))
        : await this.pacer.call(() => this.globalOps.get({ project, operation }, this.callOptions));
    }
  }

  private async waitDiskReady(project: string, zone: string, name: string): Promise<IDisk> {
    const deadline = this.clock.now() + (this.options.operationTimeoutMs ?? 300_000);
    while (true) {
      const disk = await this.pacer.withRetry(() => this.getDiskResource(project, zone, name));
      if (!disk) throw CloudError.notFound('notFound', `disk ${name} in ${zone} disappeared while being created`);
      if (disk.status === 'READY') return disk;
      if (disk.status === 'FAILED') throw CloudError.terminal('VolumeCreationFailed', `disk ${name} in ${zone} failed to create`);
      if (this.clock.now() >= deadline) {
        throw new CloudError({ code: 'VolumeNotReady', message: `disk ${name} is still ${String(disk.status)}`, retryable: true });
      }
      await this.clock.sleep(this.options.pollIntervalMs ?? 2_000);
    }
  }

  private volumeInfoOf(d: IDisk, project: string, zone: string, sourceKind: 'in-tree' | 'csi', fsType?: string): VolumeInfo {
    const status = String(d.status ?? '');
    const state = status === 'READY' ? 'available' : status === 'CREATING' || status === 'RESTORING' ? 'creating' : 'error';
    const name = d.name ?? '';
    const info: VolumeInfo = {
      kind: sourceKind === 'csi' ? 'csi' : 'gcePersistentDisk',
      volumeId: sourceKind === 'csi' ? `projects/${project}/zones/${zone}/disks/${name}` : name,
      zone,
      sizeBytes: Number(d.sizeGb ?? 0) * GiB,
      state,
    };
    if (state === 'error') info.message = `disk status "${status}"`;
    if (sourceKind === 'csi') info.driver = PD_CSI_DRIVER;
    if (fsType) info.fsType = fsType;
    return info;
  }

  private async diskRef(ref: VolumeRef): Promise<{ project: string; zone: string; disk: string; csi: boolean }> {
    const m = DISK_HANDLE.exec(ref.volumeId);
    if (m) return { project: m[1]!, zone: m[2]!, disk: m[3]!, csi: true };
    if (!ref.zone) throw CloudError.terminal('MissingZone', `GCE disk "${ref.volumeId}" needs a zone`);
    return { project: await this.project(), zone: ref.zone, disk: ref.volumeId, csi: false };
  }

  async getVolume(ref: VolumeRef): Promise<VolumeInfo> {
    const r = await this.diskRef(ref);
    const d = await this.pacer.withRetry(() => this.getDiskResource(r.project, r.zone, r.disk));
    if (!d) throw CloudError.notFound('notFound', `GCE disk "${ref.volumeId}" not found`);
    return this.volumeInfoOf(d, r.project, r.zone, r.csi ? 'csi' : 'in-tree');
  }

  async deleteVolume(ref: VolumeRef): Promise<void> {
    const r = await this.diskRef(ref);
    let op: IOperation;
    try {
      const [lro] = await this.pacer.call(() => this.disks.delete({ project: r.project, zone: r.zone, disk: r.disk }, this.callOptions));
      op = (lro as unknown as { latestResponse: IOperation }).latestResponse;
    } catch (err) {
      if (classifyGceError(err).notFound) return;
      throw err;
    }
    try {
      await this.waitOperation(r.project, r.zone, op);
    } catch (err) {
      if (err instanceof CloudError && err.notFound) return;
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.disksClient?.close(), this.snapshotsClient?.close(), this.zoneOpsClient?.close(), this.globalOpsClient?.close()]);
  }

  private pdVolume(source: VolumeSource): { disk: string; zone: string; project?: string } {
    if (source.type !== 'gce-pd') throw CloudError.terminal('UnsupportedVolumeSource', `the gce provider cannot snapshot a ${source.type} volume`);
    return source.project ? { disk: source.disk, zone: source.zone, project: source.project } : { disk: source.disk, zone: source.zone };
  }
}
