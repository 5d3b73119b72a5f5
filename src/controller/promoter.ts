// The promoter: an external provisioner (sig-storage-lib-external-provisioner's shape) for claims of a class whose
// provisioner is volumesnapshot.external-storage.k8s.io/snapshot-promoter that restore one of our snapshots.
// Creating the volume and the PV is idempotent by the PV name `pvc-<claim uid>`; released PVs it made with reclaim
// Delete lose their cloud volume first, then the PV.

import type { Registry } from '../apimachinery/registry.js';
import { StatusError } from '../apimachinery/status-error.js';
import { PROMOTER_PROVISIONER, type VolumeSnapshot, type VolumeSnapshotData } from '../apis/volumesnapshot/v1/types.js';
import { isCloudError, type CloudProvider } from '../cloud/index.js';
import {
  isAlreadyExists,
  type MainCluster,
  type ObjectRef,
  type PersistentVolume,
  type PersistentVolumeClaim,
} from '../cluster/main-cluster.js';
import type { EventRecorder } from './event-recorder.js';
import type { OperationTracker } from './metrics.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_STORAGE_PROVISIONER,
  buildRestoredPv,
  quantityBytes,
  restoreProblem,
  restoreSnapshotName,
  restoredPvName,
  shouldDeleteReleased,
  shouldProvision,
  volumeRefOfPv,
} from './restore-rules.js';
import { VOLUME_SNAPSHOTS, VOLUME_SNAPSHOT_DATAS } from './snapshotter.js';
import { fsTypeOfPv, snapshotIdOfData, sourceKindOfPv, volumeZoneOfPv } from './volume-source-from-pv.js';
import type { ProcessResult } from './work-queue.js';

export interface PromoterLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PromoterOptions {
  registry: Registry;
  cluster: MainCluster;
  cloud: CloudProvider;
  events: EventRecorder;
  log: PromoterLogger;
  /** `snapshotProvisionerIdentity` of the PVs this replica creates. */
  identity: string;
  operations?: OperationTracker;
}

function isStatus(err: unknown, reason: string): boolean {
  return err instanceof StatusError && err.reason === reason;
}

function claimRef(pvc: PersistentVolumeClaim): ObjectRef {
  return { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid };
}

export class Promoter {
  constructor(private readonly o: PromoterOptions) {}

  /** Provisions the claim `namespace/name` when it is ours to provision. */
  async syncClaim(namespace: string, name: string): Promise<ProcessResult> {
    const pvc = await this.o.cluster.getPersistentVolumeClaim(namespace, name);
    if (!pvc || !restoreSnapshotName(pvc)) return;
    const sc = pvc.spec?.storageClassName ? await this.o.cluster.getStorageClass(pvc.spec.storageClassName) : undefined;
    if (!shouldProvision(pvc, sc) || !sc) return;
    const pvName = restoredPvName(pvc);
    if (await this.o.cluster.getPersistentVolume(pvName)) return;
    const key = `${namespace}/${name}`;
    const snapshotName = restoreSnapshotName(pvc)!;
    this.o.operations?.start('RestoreVolume', key);

    const snapshot = await this.getSnapshot(namespace, snapshotName);
    const problem = restoreProblem(pvc, snapshot, snapshotName);
    if (problem) return this.fail(pvc, problem, true);
    let data: VolumeSnapshotData;
    try {
      data = (await this.o.registry.get(VOLUME_SNAPSHOT_DATAS, { name: snapshot!.spec.snapshotDataName! })) as unknown as VolumeSnapshotData;
    } catch (err) {
      if (isStatus(err, 'NotFound')) return this.fail(pvc, `VolumeSnapshotData "${snapshot!.spec.snapshotDataName}" not found`, true);
      throw err;
    }
    const snapshotId = snapshotIdOfData(data);
    if (!snapshotId) return this.fail(pvc, `VolumeSnapshotData "${data.metadata.name}" records no snapshot`, false);
    const original = data.spec.persistentVolumeRef?.name ? await this.o.cluster.getPersistentVolume(data.spec.persistentVolumeRef.name) : undefined;
    const zone = original ? volumeZoneOfPv(original) : undefined;
    const requested = Number(quantityBytes(pvc.spec?.resources?.requests?.storage) ?? 0n);
    const fsType = (original && fsTypeOfPv(original)) ?? data.spec.awsElasticBlockStore?.fsType;

    this.o.log.info({ claim: key, snapshot: snapshotName, pv: pvName }, 'provisioning a volume from a snapshot');
    let volume;
    try {
      volume = await this.o.cloud.createVolume({
        snapshotId,
        name: pvName,
        sizeBytes: requested,
        ...(zone ? { zone } : {}),
        parameters: sc.parameters ?? {},
        sourceKind: sourceKindOfPv(original),
        ...(fsType ? { fsType } : {}),
      });
    } catch (err) {
      if (isCloudError(err)) return this.fail(pvc, `failed to create volume from snapshot: ${err.message}`, err.retryable);
      throw err;
    }
    if (volume.state === 'error') return this.fail(pvc, volume.message ?? `volume ${volume.volumeId} failed`, true);
    const pv = buildRestoredPv({ pvc, storageClass: sc, volume, identity: this.o.identity });
    try {
      await this.o.cluster.createPersistentVolume(pv);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    await this.o.events.record(claimRef(pvc), 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
    this.o.operations?.end('RestoreVolume', key, 'success');
    return;
  }

  /** Deletes the cloud volume, then the PV, of a released PV we provisioned with reclaim Delete. */
  async syncVolume(name: string): Promise<ProcessResult> {
    const pv = await this.o.cluster.getPersistentVolume(name);
    if (!pv || !shouldDeleteReleased(pv)) return;
    const ref = volumeRefOfPv(pv);
    this.o.operations?.start('DeleteVolume', name);
    try {
      if (ref) await this.o.cloud.deleteVolume(ref);
    } catch (err) {
      const message = isCloudError(err) ? err.message : String(err);
      this.o.log.warn({ pv: name, err: message }, 'could not delete a released volume');
      await this.o.events.record(this.pvRef(pv), 'Warning', 'VolumeFailedDelete', message);
      return { backoff: 'error' };
    }
    await this.o.cluster.deletePersistentVolume(name, pv.metadata.uid);
    this.o.operations?.end('DeleteVolume', name, 'success');
    this.o.log.info({ pv: name }, 'released volume deleted');
    return;
  }

  private pvRef(pv: PersistentVolume): ObjectRef {
    return { kind: 'PersistentVolume', apiVersion: 'v1', name: pv.metadata.name, uid: pv.metadata.uid };
  }

  private async getSnapshot(namespace: string, name: string): Promise<VolumeSnapshot | undefined> {
    try {
      return (await this.o.registry.get(VOLUME_SNAPSHOTS, { namespace, name })) as unknown as VolumeSnapshot;
    } catch (err) {
      if (isStatus(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  private async fail(pvc: PersistentVolumeClaim, message: string, retry: boolean): Promise<ProcessResult> {
    const key = `${pvc.metadata.namespace}/${pvc.metadata.name}`;
    this.o.log.warn({ claim: key, err: message }, 'provisioning failed');
    await this.o.events.record(claimRef(pvc), 'Warning', 'ProvisioningFailed', message);
    if (!retry) this.o.operations?.end('RestoreVolume', key, 'failure');
    // The claim stays Pending; a later change (or the resync) brings it back even after a terminal failure.
    return retry ? { backoff: 'error' } : undefined;
  }
}

/**
 * True while a claim restoring `snapshot` could still be provisioned from it: the snapshot must not vanish under it.
 * Claims that cannot work (too small, …) do not hold the deletion, or a finalizer would block it for ever.
 */
export function restoreInProgress(claims: readonly PersistentVolumeClaim[], snapshot: VolumeSnapshot): boolean {
  return claims.some(
    (c) =>
      c.metadata.namespace === snapshot.metadata.namespace &&
      // Addressed to us by the PV controller: a claim nobody will provision must not hold the snapshot for ever.
      (c.metadata.annotations?.[ANN_STORAGE_PROVISIONER] ?? c.metadata.annotations?.[ANN_BETA_STORAGE_PROVISIONER]) === PROMOTER_PROVISIONER &&
      !c.metadata.deletionTimestamp &&
      !c.spec?.volumeName &&
      (c.status?.phase ?? 'Pending') === 'Pending' &&
      restoreSnapshotName(c) === snapshot.metadata.name &&
      restoreProblem(c, snapshot, snapshot.metadata.name ?? '') === undefined,
  );
}
