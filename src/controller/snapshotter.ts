// The snapshotter: one VolumeSnapshot key at a time, from "new" to Ready, and back to nothing on deletion.
// Each step is idempotent and re-derives what is done from what exists (the object, the VolumeSnapshotData named
// after the snapshot's uid, the cloud snapshot found by uid), so a crash at any point is resumed, never repeated:
// no duplicate cloud snapshot (external-storage's FindSnapshot was a stub) and no leak on deletion (it had no
// finalizer). Objects are written through the Registry, like every REST request.

import type { Registry } from '../apimachinery/registry.js';
import { StatusError } from '../apimachinery/status-error.js';
import type { KubeObject } from '../apimachinery/resource-definition.js';
import {
  API_VERSION,
  GROUP,
  type VolumeSnapshot,
  type VolumeSnapshotCondition,
  type VolumeSnapshotData,
} from '../apis/volumesnapshot/v1/types.js';
import { CloudError, isCloudError, type CloudProvider, type SnapshotInfo, type VolumeSource } from '../cloud/index.js';
import { ClusterError, type MainCluster, type ObjectRef, type PersistentVolume } from '../cluster/main-cluster.js';
import type { Clock } from './clock.js';
import type { EventRecorder } from './event-recorder.js';
import type { OperationTracker } from './metrics.js';
import {
  PENDING_MESSAGE,
  READY_MESSAGE,
  conditionOf,
  isTrue,
  pendingMessage,
  transitionTo,
} from './snapshot-conditions.js';
import { dataSourceFor, fsTypeOfPv, snapshotIdOfData, volumeSourceFromPv } from './volume-source-from-pv.js';
import type { ProcessResult } from './work-queue.js';

export const VOLUME_SNAPSHOTS = `volumesnapshots.${GROUP}`;
export const VOLUME_SNAPSHOT_DATAS = `volumesnapshotdatas.${GROUP}`;
export const SNAPSHOT_FINALIZER = `${GROUP}/snapshot-protection`;
/** On the VolumeSnapshotData: deleting it alone would orphan the cloud snapshot, so only the snapshot's deletion removes it. */
export const DATA_FINALIZER = `${GROUP}/snapshot-data-protection`;
/** Change (or set) this annotation to retry a snapshot that failed for good. */
export const RETRY_ANNOTATION = `${GROUP}/retry`;
/** Where the snapshotter remembers which attempt failed for good: `<generation>/<retry annotation>`. */
export const FAILED_ATTEMPT_ANNOTATION = `${GROUP}/failed-attempt`;
export const LABEL_TIMESTAMP = 'SnapshotMetadata-Timestamp';
export const LABEL_PV_NAME = 'SnapshotMetadata-PVName';
export const FIELD_MANAGER = 'volumesnapshot-controller';

/** external-storage's naming: the data object of snapshot `uid`, so a retry finds the one it made. */
export function snapshotDataName(uid: string): string {
  return `k8s-volume-snapshot-${uid}`;
}

export function attemptToken(snap: Pick<VolumeSnapshot, 'metadata'>): string {
  return `${snap.metadata.generation ?? 0}/${snap.metadata.annotations?.[RETRY_ANNOTATION] ?? ''}`;
}

/** True when the snapshot failed for good and the user has not acted since (spec change or retry annotation). */
export function isGivenUp(snap: VolumeSnapshot): boolean {
  return isTrue(snap.status?.conditions, 'Error') && snap.metadata.annotations?.[FAILED_ATTEMPT_ANNOTATION] === attemptToken(snap);
}

/** A failure that is worth another try later (the claim is not bound yet, the main cluster is unreachable…). */
export class RetryableError extends Error {}

export interface SnapshotterLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SnapshotterOptions {
  registry: Registry;
  cluster: MainCluster;
  cloud: CloudProvider;
  events: EventRecorder;
  clock: Clock;
  log: SnapshotterLogger;
  operations?: OperationTracker;
  /** True while a claim restoring from the snapshot is still being provisioned. */
  restoreInProgress?: (snapshot: VolumeSnapshot) => boolean;
  /** How long to wait before looking again at a snapshot whose deletion waits for a restore. */
  restoreWaitMs?: number;
}

function iso(clock: Clock): string {
  return new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isStatus(err: unknown, reason: string): boolean {
  return err instanceof StatusError && err.reason === reason;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Snapshotter {
  constructor(private readonly o: SnapshotterOptions) {}

  /** Reconciles the VolumeSnapshot `namespace/name`. */
  async sync(key: string): Promise<ProcessResult> {
    const [namespace, name] = key.split('/') as [string, string];
    let snap: VolumeSnapshot;
    try {
      snap = (await this.o.registry.get(VOLUME_SNAPSHOTS, { namespace, name })) as unknown as VolumeSnapshot;
    } catch (err) {
      if (isStatus(err, 'NotFound')) return;
      throw err;
    }
    if (snap.metadata.deletionTimestamp) return this.syncDeletion(snap);
    return this.syncCreation(snap);
  }

  // ------------------------------------------------------------------ creation

  private async syncCreation(initial: VolumeSnapshot): Promise<ProcessResult> {
    let snap = initial;
    const key = `${snap.metadata.namespace}/${snap.metadata.name}`;
    // Finalizer first: from here on, deletion cannot skip our cleanup, whatever state the snapshot is in.
    if (!(snap.metadata.finalizers ?? []).includes(SNAPSHOT_FINALIZER)) {
      snap = await this.writeMeta(snap, (s) => {
        s.metadata.finalizers = [...(s.metadata.finalizers ?? []), SNAPSHOT_FINALIZER];
      });
    }
    if (isGivenUp(snap)) return;
    const dataName = snap.spec.snapshotDataName || snapshotDataName(snap.metadata.uid!);
    const conditions = snap.status?.conditions;
    if (isTrue(conditions, 'Ready') && snap.spec.snapshotDataName) {
      const data = await this.getData(dataName);
      if (data && isTrue(data.status?.conditions, 'Ready')) return;
    }

    this.o.operations?.start('CreateSnapshot', key);
    this.o.operations?.start('CreateSnapshotAndReady', key);
    try {
      return await this.create(snap, dataName);
    } catch (err) {
      if (isStatus(err, 'Conflict')) throw err;
      const retryable = !(isCloudError(err) && !err.retryable);
      const message = messageOf(err);
      this.o.log.warn({ snapshot: key, err: message, retryable }, 'snapshot creation failed');
      const fresh = await this.reread(snap);
      if (!fresh || fresh.metadata.deletionTimestamp) return fresh ? { afterMs: 0 } : undefined;
      await this.o.events.record(this.ref(fresh), 'Warning', 'SnapshotCreationFailed', `Failed to create snapshot: ${message}`);
      let updated = await this.writeStatus(fresh, (st) => {
        st.conditions = transitionTo(st.conditions, 'Error', 'SnapshotCreationFailed', message, iso(this.o.clock));
      });
      if (retryable) return { backoff: 'error' };
      updated = await this.writeMeta(updated, (s) => {
        s.metadata.annotations = { ...(s.metadata.annotations ?? {}), [FAILED_ATTEMPT_ANNOTATION]: attemptToken(updated) };
      });
      this.o.operations?.end('CreateSnapshot', key, 'failure');
      this.o.operations?.end('CreateSnapshotAndReady', key, 'failure');
      return;
    }
  }

  private async create(initial: VolumeSnapshot, dataName: string): Promise<ProcessResult> {
    let snap = initial;
    const key = `${snap.metadata.namespace}/${snap.metadata.name}`;
    const uid = snap.metadata.uid!;
    let data = await this.getData(dataName);
    if (data?.spec.volumeSnapshotRef?.uid && data.spec.volumeSnapshotRef.uid !== uid) {
      throw CloudError.terminal('SnapshotDataConflict', `VolumeSnapshotData "${dataName}" belongs to another VolumeSnapshot`);
    }

    let pv: PersistentVolume | undefined;
    let volume: VolumeSource | undefined;
    if (!data) {
      // The source is needed only while nothing is recorded yet.
      pv = await this.resolvePv(snap);
      volume = volumeSourceFromPv(pv);
    }
    if (!conditionOf(snap.status?.conditions, 'Pending') && !isTrue(snap.status?.conditions, 'Ready')) {
      snap = await this.writeStatus(snap, (st) => {
        st.conditions = transitionTo(st.conditions, 'Pending', 'SnapshotCreating', PENDING_MESSAGE, iso(this.o.clock));
      });
      await this.o.events.record(this.ref(snap), 'Normal', 'CreatingSnapshot', `Creating snapshot of claim "${snap.spec.persistentVolumeClaimName}"`);
    }

    let info: SnapshotInfo | undefined;
    if (!data) {
      info = await this.o.cloud.findSnapshotByUid(uid, volume);
      if (!info) {
        info = await this.o.cloud.createSnapshot({
          volume: volume!,
          tags: { namespace: snap.metadata.namespace!, name: snap.metadata.name!, uid },
          description: `Created by volumesnapshot-apiserver for VolumeSnapshot ${key} (${uid})`,
        });
        await this.o.events.record(this.ref(snap), 'Normal', 'SnapshotCreated', `Created cloud snapshot ${info.id}`);
      }
      this.o.operations?.end('CreateSnapshot', key, 'success');
      data = await this.createData(snap, dataName, pv!, info);
    }
    snap = await this.bindSnapshot(snap, data, pv);

    const snapshotId = snapshotIdOfData(data);
    if (!snapshotId) throw CloudError.terminal('InvalidSnapshotData', `VolumeSnapshotData "${dataName}" records no snapshot`);
    if (!info || info.id !== snapshotId || info.state !== 'ready') info = await this.o.cloud.getSnapshot(snapshotId);

    switch (info.state) {
      case 'pending': {
        const message = pendingMessage(info.progress);
        const current = conditionOf(snap.status?.conditions, 'Pending');
        if (!(current?.status === 'True' && current.message === message)) {
          await this.writeStatus(snap, (st) => {
            st.conditions = transitionTo(st.conditions, 'Pending', 'SnapshotCreating', message, iso(this.o.clock));
          });
        }
        return { backoff: 'poll' };
      }
      case 'error':
        throw CloudError.terminal('SnapshotFailed', info.message ?? `cloud snapshot ${info.id} failed`);
      case 'ready': {
        const created = (info.createdAt ?? new Date(this.o.clock.now())).toISOString().replace(/\.\d{3}Z$/, 'Z');
        const now = iso(this.o.clock);
        await this.writeDataStatus(data, (st) => {
          st.conditions = transitionTo(st.conditions, 'Ready', 'SnapshotReady', READY_MESSAGE, now);
          st.creationTimestamp ??= created;
        });
        const wasReady = isTrue(snap.status?.conditions, 'Ready');
        await this.writeStatus(snap, (st) => {
          st.conditions = transitionTo(st.conditions, 'Ready', 'SnapshotReady', READY_MESSAGE, now);
          st.creationTimestamp ??= created;
        });
        this.o.operations?.end('CreateSnapshotAndReady', key, 'success');
        if (!wasReady) await this.o.events.record(this.ref(snap), 'Normal', 'SnapshotReady', `Snapshot ${key} is ready to use`);
        return;
      }
    }
  }

  private async resolvePv(snap: VolumeSnapshot): Promise<PersistentVolume> {
    const ns = snap.metadata.namespace!;
    const claim = snap.spec.persistentVolumeClaimName;
    const pvc = await this.cluster(() => this.o.cluster.getPersistentVolumeClaim(ns, claim));
    if (!pvc) throw new RetryableError(`PersistentVolumeClaim "${claim}" not found in namespace "${ns}"`);
    if (pvc.status?.phase !== 'Bound' || !pvc.spec?.volumeName) {
      throw new RetryableError(`PersistentVolumeClaim "${claim}" is not Bound (phase ${pvc.status?.phase ?? 'Pending'})`);
    }
    const pv = await this.cluster(() => this.o.cluster.getPersistentVolume(pvc.spec!.volumeName!));
    if (!pv) throw new RetryableError(`PersistentVolume "${pvc.spec.volumeName}" of claim "${claim}" not found`);
    return pv;
  }

  private async cluster<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ClusterError) throw new RetryableError(`main cluster: ${err.message}`);
      throw err;
    }
  }

  private async createData(snap: VolumeSnapshot, name: string, pv: PersistentVolume, info: SnapshotInfo): Promise<VolumeSnapshotData> {
    const body: VolumeSnapshotData = {
      apiVersion: API_VERSION,
      kind: 'VolumeSnapshotData',
      metadata: { name, finalizers: [DATA_FINALIZER] },
      spec: {
        volumeSnapshotRef: {
          kind: 'VolumeSnapshot',
          apiVersion: API_VERSION,
          namespace: snap.metadata.namespace,
          name: snap.metadata.name,
          uid: snap.metadata.uid,
        },
        persistentVolumeRef: { kind: 'PersistentVolume', apiVersion: 'v1', name: pv.metadata.name, uid: pv.metadata.uid },
        persistentVolumeReclaimPolicy: 'Delete',
        ...dataSourceFor(this.o.cloud.name, info.id, fsTypeOfPv(pv)),
      },
    };
    try {
      return (await this.o.registry.create(VOLUME_SNAPSHOT_DATAS, body, { fieldManager: FIELD_MANAGER })) as unknown as VolumeSnapshotData;
    } catch (err) {
      if (!isStatus(err, 'AlreadyExists')) throw err;
      return (await this.o.registry.get(VOLUME_SNAPSHOT_DATAS, { name })) as unknown as VolumeSnapshotData;
    }
  }

  /** spec.snapshotDataName, the original's labels (the user's win) and status.restoreSize. */
  private async bindSnapshot(initial: VolumeSnapshot, data: VolumeSnapshotData, pv: PersistentVolume | undefined): Promise<VolumeSnapshot> {
    let snap = initial;
    const labels = snap.metadata.labels ?? {};
    const pvName = data.spec.persistentVolumeRef?.name ?? pv?.metadata.name;
    if (snap.spec.snapshotDataName !== data.metadata.name || labels[LABEL_TIMESTAMP] === undefined || (pvName && labels[LABEL_PV_NAME] === undefined)) {
      snap = await this.writeMeta(snap, (s) => {
        s.spec.snapshotDataName = data.metadata.name;
        const ours: Record<string, string> = { [LABEL_TIMESTAMP]: String(BigInt(this.o.clock.now()) * 1_000_000n) };
        if (pvName) ours[LABEL_PV_NAME] = pvName;
        s.metadata.labels = { ...ours, ...(s.metadata.labels ?? {}) };
      });
    }
    if (!snap.status?.restoreSize) {
      const source = pv ?? (pvName ? await this.cluster(() => this.o.cluster.getPersistentVolume(pvName)) : undefined);
      const size = source?.spec?.capacity?.storage;
      if (size) snap = await this.writeStatus(snap, (st) => void (st.restoreSize = size));
    }
    return snap;
  }

  // ------------------------------------------------------------------ deletion

  private async syncDeletion(snap: VolumeSnapshot): Promise<ProcessResult> {
    if (!(snap.metadata.finalizers ?? []).includes(SNAPSHOT_FINALIZER)) return;
    const key = `${snap.metadata.namespace}/${snap.metadata.name}`;
    const uid = snap.metadata.uid!;
    if (this.o.restoreInProgress?.(snap)) {
      this.o.log.info({ snapshot: key }, 'deletion waits for a restore in progress');
      return { afterMs: this.o.restoreWaitMs ?? 5000 };
    }
    this.o.operations?.start('DeleteSnapshot', key);
    this.o.operations?.end('CreateSnapshot', key, 'cancel');
    this.o.operations?.end('CreateSnapshotAndReady', key, 'cancel');
    try {
      const dataName = snap.spec.snapshotDataName || snapshotDataName(uid);
      let data = await this.getData(dataName);
      if (data?.spec.volumeSnapshotRef?.uid && data.spec.volumeSnapshotRef.uid !== uid) data = undefined;
      if (data?.spec.persistentVolumeReclaimPolicy !== 'Retain') {
        const recorded = data ? snapshotIdOfData(data) : undefined;
        if (recorded) await this.o.cloud.deleteSnapshot(recorded);
        // Also what a crash may have left unrecorded (created in the cloud, never written to a data object).
        const found = await this.o.cloud.findSnapshotByUid(uid);
        if (found) await this.o.cloud.deleteSnapshot(found.id);
      }
      if (data) {
        try {
          if ((data.metadata.finalizers ?? []).includes(DATA_FINALIZER)) {
            data = await this.writeDataMeta(data, (d) => {
              d.metadata.finalizers = (d.metadata.finalizers ?? []).filter((f) => f !== DATA_FINALIZER);
            });
          }
          await this.o.registry.delete(VOLUME_SNAPSHOT_DATAS, { name: dataName, preconditions: { uid: data.metadata.uid } });
        } catch (err) {
          if (!isStatus(err, 'NotFound')) throw err;
        }
      }
      await this.writeMeta(snap, (s) => {
        s.metadata.finalizers = (s.metadata.finalizers ?? []).filter((f) => f !== SNAPSHOT_FINALIZER);
      });
      this.o.operations?.end('DeleteSnapshot', key, 'success');
      this.o.log.info({ snapshot: key }, 'snapshot deleted');
      return;
    } catch (err) {
      if (isStatus(err, 'Conflict') || isStatus(err, 'NotFound')) throw err;
      const message = messageOf(err);
      this.o.log.warn({ snapshot: key, err: message }, 'snapshot deletion failed');
      await this.o.events.record(this.ref(snap), 'Warning', 'SnapshotDeleteError', `Failed to delete snapshot: ${message}`);
      return { backoff: 'error' };
    }
  }

  // ------------------------------------------------------------------ object plumbing

  ref(snap: VolumeSnapshot): ObjectRef {
    return { kind: 'VolumeSnapshot', apiVersion: API_VERSION, namespace: snap.metadata.namespace, name: snap.metadata.name, uid: snap.metadata.uid };
  }

  private async getData(name: string): Promise<VolumeSnapshotData | undefined> {
    try {
      return (await this.o.registry.get(VOLUME_SNAPSHOT_DATAS, { name })) as unknown as VolumeSnapshotData;
    } catch (err) {
      if (isStatus(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  private async reread(snap: VolumeSnapshot): Promise<VolumeSnapshot | undefined> {
    try {
      const fresh = (await this.o.registry.get(VOLUME_SNAPSHOTS, {
        namespace: snap.metadata.namespace,
        name: snap.metadata.name!,
      })) as unknown as VolumeSnapshot;
      return fresh.metadata.uid === snap.metadata.uid ? fresh : undefined;
    } catch (err) {
      if (isStatus(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  /** Writes spec/metadata changes (PUT on the main resource, guarded by resourceVersion). */
  private async writeMeta(snap: VolumeSnapshot, change: (s: VolumeSnapshot) => void): Promise<VolumeSnapshot> {
    const next = structuredClone(snap);
    change(next);
    return (await this.o.registry.update(VOLUME_SNAPSHOTS, next as unknown as KubeObject, {
      namespace: snap.metadata.namespace,
      name: snap.metadata.name!,
      fieldManager: FIELD_MANAGER,
    })) as unknown as VolumeSnapshot;
  }

  private async writeStatus(snap: VolumeSnapshot, change: (st: NonNullable<VolumeSnapshot['status']>) => void): Promise<VolumeSnapshot> {
    const next = structuredClone(snap);
    next.status = { ...(next.status ?? {}) };
    change(next.status);
    return (await this.o.registry.updateStatus(VOLUME_SNAPSHOTS, next as unknown as KubeObject, {
      namespace: snap.metadata.namespace,
      name: snap.metadata.name!,
      fieldManager: FIELD_MANAGER,
    })) as unknown as VolumeSnapshot;
  }

  private async writeDataMeta(data: VolumeSnapshotData, change: (d: VolumeSnapshotData) => void): Promise<VolumeSnapshotData> {
    const next = structuredClone(data);
    change(next);
    return (await this.o.registry.update(VOLUME_SNAPSHOT_DATAS, next as unknown as KubeObject, {
      name: data.metadata.name!,
      fieldManager: FIELD_MANAGER,
    })) as unknown as VolumeSnapshotData;
  }

  private async writeDataStatus(
    data: VolumeSnapshotData,
    change: (st: { conditions?: VolumeSnapshotCondition[]; creationTimestamp?: string | null }) => void,
  ): Promise<VolumeSnapshotData> {
    // Re-read: the data object may have been written since we fetched it.
    const fresh = (await this.getData(data.metadata.name!)) ?? data;
    const next = structuredClone(fresh);
    next.status = { ...(next.status ?? {}) };
    change(next.status);
    return (await this.o.registry.updateStatus(VOLUME_SNAPSHOT_DATAS, next as unknown as KubeObject, {
      name: data.metadata.name!,
      fieldManager: FIELD_MANAGER,
    })) as unknown as VolumeSnapshotData;
  }
}
