// The promoter's rules (pure): which claims it provisions, whether a snapshot can serve a claim now (defence in
// depth behind admission), and the PersistentVolume it creates (sig-storage-lib-external-provisioner's
// controller.go provisionClaimOperation + external-storage snapshot/pkg/volume/*/processor.go).

import { Quantity } from '../apimachinery/quantity.js';
import { GROUP, PROMOTER_PROVISIONER, SNAPSHOT_ANNOTATION, type VolumeSnapshot } from '../apis/volumesnapshot/v1/types.js';
import type { VolumeInfo } from '../cloud/index.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../cluster/main-cluster.js';
import { isTrue } from './snapshot-conditions.js';
import { ZONE_LABEL } from './volume-source-from-pv.js';

export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_PROVISIONER_IDENTITY = 'snapshotProvisionerIdentity';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';

/** The snapshot a claim restores: our annotation first, else a dataSource/dataSourceRef of our kind. */
export function restoreSnapshotName(pvc: PersistentVolumeClaim): string | undefined {
  const ann = pvc.metadata.annotations?.[SNAPSHOT_ANNOTATION];
  if (ann) return ann;
  for (const ref of [pvc.spec?.dataSource, pvc.spec?.dataSourceRef]) {
    if (ref && ref.apiGroup === GROUP && ref.kind === 'VolumeSnapshot' && ref.name) return ref.name;
  }
  return undefined;
}

/** The PV name of a claim: `pvc-<claim uid>`, the idempotency key of the restore. */
export function restoredPvName(pvc: PersistentVolumeClaim): string {
  return `pvc-${pvc.metadata.uid ?? ''}`;
}

/**
 * Whether the promoter should act on the claim now: unbound, not deleting, restoring a snapshot, of a class we
 * provision, and (when the PV controller has said who provisions it) addressed to us.
 */
export function shouldProvision(pvc: PersistentVolumeClaim, sc: StorageClass | undefined): boolean {
  if (pvc.metadata.deletionTimestamp || pvc.spec?.volumeName) return false;
  if (pvc.status?.phase && pvc.status.phase !== 'Pending') return false;
  if (!restoreSnapshotName(pvc) || !sc || sc.provisioner !== PROMOTER_PROVISIONER) return false;
  const ann = pvc.metadata.annotations ?? {};
  const named = ann[ANN_STORAGE_PROVISIONER] ?? ann[ANN_BETA_STORAGE_PROVISIONER];
  return named === undefined || named === PROMOTER_PROVISIONER;
}

export function quantityBytes(q: string | undefined): bigint | undefined {
  if (q === undefined) return undefined;
  try {
    return Quantity.parse(String(q)).ceilInt();
  } catch {
    return undefined;
  }
}

/** Why the snapshot cannot be restored into the claim now, or undefined when it can. */
export function restoreProblem(pvc: PersistentVolumeClaim, snapshot: VolumeSnapshot | undefined, name: string): string | undefined {
  const prefix = `cannot restore from VolumeSnapshot "${name}": `;
  if (!snapshot) return `${prefix}it does not exist in namespace "${pvc.metadata.namespace ?? ''}"`;
  // A snapshot being deleted still serves the claims made before (its finalizer waits for them).
  if (!isTrue(snapshot.status?.conditions, 'Ready')) return `${prefix}it is not Ready`;
  if (!snapshot.spec.snapshotDataName) return `${prefix}it names no VolumeSnapshotData`;
  const requested = quantityBytes(pvc.spec?.resources?.requests?.storage);
  if (requested === undefined) return `${prefix}the claim requests no storage size`;
  const size = quantityBytes(snapshot.status?.restoreSize);
  if (size !== undefined && requested < size) {
    return `${prefix}requested volume size ${pvc.spec?.resources?.requests?.storage} is less than the size ${snapshot.status?.restoreSize} of the snapshot`;
  }
  return undefined;
}

function capacityOf(bytes: number): string {
  const GiB = 1024 ** 3;
  return bytes % GiB === 0 ? `${bytes / GiB}Gi` : String(bytes);
}

/** The `spec` source of the restored PV, in the same family (in-tree or CSI) as the volume info says. */
export function pvSourceOf(volume: VolumeInfo): Record<string, unknown> {
  const fs = volume.fsType ? { fsType: volume.fsType } : {};
  switch (volume.kind) {
    case 'awsElasticBlockStore':
      return { awsElasticBlockStore: { volumeID: volume.zone ? `aws://${volume.zone}/${volume.volumeId}` : volume.volumeId, ...fs } };
    case 'gcePersistentDisk':
      return { gcePersistentDisk: { pdName: volume.volumeId, ...fs } };
    case 'csi':
      return { csi: { driver: volume.driver ?? '', volumeHandle: volume.volumeId, ...fs } };
    case 'hostPath':
      return { hostPath: { path: volume.volumeId, type: 'Directory' } };
  }
}

export interface RestoredPvInput {
  pvc: PersistentVolumeClaim;
  storageClass: StorageClass;
  volume: VolumeInfo;
  /** Identity of this provisioner instance (`snapshotProvisionerIdentity`). */
  identity: string;
}

export function buildRestoredPv({ pvc, storageClass, volume, identity }: RestoredPvInput): PersistentVolume {
  const labels: Record<string, string> = {};
  const spec: Record<string, unknown> = {
    capacity: { storage: capacityOf(volume.sizeBytes) },
    accessModes: pvc.spec?.accessModes?.length ? [...pvc.spec.accessModes] : ['ReadWriteOnce'],
    claimRef: {
      kind: 'PersistentVolumeClaim',
      apiVersion: 'v1',
      namespace: pvc.metadata.namespace,
      name: pvc.metadata.name,
      uid: pvc.metadata.uid,
      resourceVersion: pvc.metadata.resourceVersion,
    },
    persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
    storageClassName: storageClass.metadata.name,
    volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
    ...pvSourceOf(volume),
  };
  if (storageClass.mountOptions?.length) spec.mountOptions = [...storageClass.mountOptions];
  if (volume.zone) {
    labels[ZONE_LABEL] = volume.zone;
    spec.nodeAffinity = {
      required: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_LABEL, operator: 'In', values: [volume.zone] }] }] },
    };
  }
  const metadata: PersistentVolume['metadata'] = {
    name: restoredPvName(pvc),
    annotations: { [ANN_PROVISIONED_BY]: PROMOTER_PROVISIONER, [ANN_PROVISIONER_IDENTITY]: identity },
  };
  if (Object.keys(labels).length) metadata.labels = labels;
  return { apiVersion: 'v1', kind: 'PersistentVolume', metadata, spec: spec as PersistentVolume['spec'] };
}

/** A PV the promoter must clean up: Released, reclaim Delete, provisioned by us. */
export function shouldDeleteReleased(pv: PersistentVolume): boolean {
  return (
    pv.status?.phase === 'Released' &&
    pv.spec?.persistentVolumeReclaimPolicy === 'Delete' &&
    pv.metadata.annotations?.[ANN_PROVISIONED_BY] === PROMOTER_PROVISIONER &&
    !pv.metadata.deletionTimestamp
  );
}

/** The cloud volume behind a PV we provisioned. */
export function volumeRefOfPv(pv: PersistentVolume): { volumeId: string; zone?: string } | undefined {
  const s = pv.spec ?? {};
  const zone = pv.metadata.labels?.[ZONE_LABEL];
  const z = zone ? { zone } : {};
  if (s.awsElasticBlockStore) {
    const m = /^aws:\/\/([^/]*)\/(.+)$/.exec(s.awsElasticBlockStore.volumeID);
    return m ? { volumeId: m[2]!, ...(m[1] ? { zone: m[1] } : z) } : { volumeId: s.awsElasticBlockStore.volumeID, ...z };
  }
  if (s.gcePersistentDisk) return { volumeId: s.gcePersistentDisk.pdName, ...z };
  if (s.csi) return { volumeId: s.csi.volumeHandle, ...z };
  if (s.hostPath) return { volumeId: s.hostPath.path };
  return undefined;
}
