// volumesnapshot.external-storage.k8s.io/v1, faithful to external-storage's snapshot/pkg/apis/crd/v1/types.go,
// plus `status.restoreSize` (ours: the source volume's size, which admission needs).

export const GROUP = 'volumesnapshot.external-storage.k8s.io';
export const VERSION = 'v1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<Record<string, unknown>>;
  finalizers?: string[];
  managedFields?: Array<Record<string, unknown>>;
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

export type ConditionType = 'Pending' | 'Ready' | 'Error';

export interface VolumeSnapshotCondition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface VolumeSnapshot {
  apiVersion: typeof API_VERSION;
  kind: 'VolumeSnapshot';
  metadata: ObjectMeta;
  spec: {
    persistentVolumeClaimName: string;
    snapshotDataName?: string;
  };
  status?: {
    creationTimestamp?: string | null;
    conditions?: VolumeSnapshotCondition[];
    /** A Kubernetes quantity, e.g. "5Gi". */
    restoreSize?: string;
  };
}

export interface VolumeSnapshotData {
  apiVersion: typeof API_VERSION;
  kind: 'VolumeSnapshotData';
  metadata: ObjectMeta;
  spec: {
    volumeSnapshotRef?: ObjectReference;
    persistentVolumeRef?: ObjectReference;
    /** Delete (default) removes the cloud snapshot with the object; Retain keeps it. */
    persistentVolumeReclaimPolicy?: 'Delete' | 'Retain';
    awsElasticBlockStore?: { snapshotId: string; fsType?: string };
    gcePersistentDisk?: { snapshotId: string };
    hostPath?: { snapshot: string };
  };
  status?: {
    creationTimestamp?: string | null;
    conditions?: VolumeSnapshotCondition[];
  };
}

/** PVC annotation naming the VolumeSnapshot (same namespace) to restore from. */
export const SNAPSHOT_ANNOTATION = 'snapshot.alpha.kubernetes.io/snapshot';
/** The provisioner name of the restore StorageClass. */
export const PROMOTER_PROVISIONER = 'volumesnapshot.external-storage.k8s.io/snapshot-promoter';
export const DEFAULT_RESTORE_STORAGE_CLASS = 'snapshot-promoter';
