// PV (JSON) → the cloud's VolumeSource, and the snapshot id ↔ VolumeSnapshotData source mapping.
// In-tree sources: kubernetes/pkg/volume/awsebs, gcepd; CSI handles: the EBS and PD CSI drivers.

import { CloudError, toVolumeSource, type PlainVolumeSource, type VolumeSource } from '../cloud/index.js';
import type { PersistentVolume } from '../cluster/main-cluster.js';
import type { VolumeSnapshotData } from '../apis/volumesnapshot/v1/types.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const BETA_ZONE_LABEL = 'failure-domain.beta.kubernetes.io/zone';

interface NodeSelectorTerm {
  matchExpressions?: Array<{ key?: string; operator?: string; values?: string[] }>;
}

/** The PV's zone: its zone label (GA, then beta), else a single-zone `In` term of its node affinity. */
export function zoneOfPv(pv: PersistentVolume): string | undefined {
  const labels = pv.metadata.labels ?? {};
  const label = labels[ZONE_LABEL] ?? labels[BETA_ZONE_LABEL];
  // A multi-zone label (`a__b`) names no single zone.
  if (label && !label.includes('__')) return label;
  const terms = (pv.spec?.nodeAffinity as { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } } | undefined)?.required
    ?.nodeSelectorTerms;
  for (const term of terms ?? []) {
    for (const e of term.matchExpressions ?? []) {
      if (e.operator === 'In' && e.values?.length === 1 && /(^|\/)zone$/.test(e.key ?? '')) return e.values[0];
    }
  }
  return undefined;
}

/** The zone of the PV's volume: its labels or node affinity, else what its volume ID says (`aws://<zone>/vol-…`). */
export function volumeZoneOfPv(pv: PersistentVolume): string | undefined {
  const zone = zoneOfPv(pv);
  if (zone) return zone;
  try {
    const source = volumeSourceFromPv(pv);
    return source.type === 'hostpath' ? undefined : source.zone;
  } catch {
    return undefined;
  }
}

/** The plain description of a PV's source, or a terminal CloudError naming what is not supported. */
export function plainSourceOfPv(pv: PersistentVolume): PlainVolumeSource {
  const spec = pv.spec ?? {};
  const zone = zoneOfPv(pv);
  const withZone = <T extends object>(s: T): T & { zone?: string } => (zone ? { ...s, zone } : s);
  if (spec.awsElasticBlockStore) return withZone({ kind: 'awsElasticBlockStore' as const, volumeID: spec.awsElasticBlockStore.volumeID });
  if (spec.gcePersistentDisk) return withZone({ kind: 'gcePersistentDisk' as const, pdName: spec.gcePersistentDisk.pdName });
  if (spec.csi) return withZone({ kind: 'csi' as const, driver: spec.csi.driver, volumeHandle: spec.csi.volumeHandle });
  if (spec.hostPath) return { kind: 'hostPath', path: spec.hostPath.path };
  const known = ['awsElasticBlockStore', 'gcePersistentDisk', 'csi', 'hostPath'];
  const other = Object.keys(spec).find((k) => !known.includes(k) && spec[k] && typeof spec[k] === 'object' && !['capacity', 'claimRef', 'nodeAffinity'].includes(k));
  throw CloudError.terminal(
    'UnsupportedVolumeSource',
    `PersistentVolume "${pv.metadata.name ?? ''}" has a volume source that cannot be snapshotted${other ? ` (${other})` : ''}`,
  );
}

export function volumeSourceFromPv(pv: PersistentVolume): VolumeSource {
  return toVolumeSource(plainSourceOfPv(pv));
}

export function fsTypeOfPv(pv: PersistentVolume): string | undefined {
  const s = pv.spec ?? {};
  return s.awsElasticBlockStore?.fsType ?? s.gcePersistentDisk?.fsType ?? s.csi?.fsType;
}

/** Whether restored volumes should be described like the original: in-tree or CSI. */
export function sourceKindOfPv(pv: PersistentVolume | undefined): 'in-tree' | 'csi' {
  return pv?.spec?.csi ? 'csi' : 'in-tree';
}

export type SnapshotDataSource = Pick<VolumeSnapshotData['spec'], 'awsElasticBlockStore' | 'gcePersistentDisk' | 'hostPath'>;

/** The VolumeSnapshotData source recording the cloud snapshot `id` of `provider`. */
export function dataSourceFor(provider: 'aws' | 'gce' | 'hostpath', id: string, fsType?: string): SnapshotDataSource {
  switch (provider) {
    case 'aws':
      return { awsElasticBlockStore: fsType ? { snapshotId: id, fsType } : { snapshotId: id } };
    case 'gce':
      return { gcePersistentDisk: { snapshotId: id } };
    case 'hostpath':
      return { hostPath: { snapshot: id } };
  }
}

/** The cloud snapshot id a VolumeSnapshotData records, whichever source it has. */
export function snapshotIdOfData(data: Pick<VolumeSnapshotData, 'spec'>): string | undefined {
  const s = data.spec ?? {};
  return s.awsElasticBlockStore?.snapshotId ?? s.gcePersistentDisk?.snapshotId ?? s.hostPath?.snapshot;
}
