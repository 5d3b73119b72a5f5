// The contract between the worker and a cloud: plain inputs, plain results, no Kubernetes objects.
// Every method may throw a CloudError (see cloud-error.ts); nothing else escapes a provider.

/** A volume to snapshot, as the provider understands it (the worker derives it from the PV, see volume-source.ts). */
export type VolumeSource =
  | { type: 'aws-ebs'; volumeId: string; zone?: string }
  | { type: 'gce-pd'; disk: string; zone: string; project?: string }
  | { type: 'hostpath'; path: string };

/** What the cloud snapshot carries back to its VolumeSnapshot (tags on AWS, labels on GCE, a metadata file on hostpath). */
export interface SnapshotTags {
  namespace: string;
  name: string;
  uid: string;
}

export type SnapshotState = 'pending' | 'ready' | 'error';

export interface SnapshotInfo {
  /** What the VolumeSnapshotData records: `snap-…` (AWS), the snapshot name (GCE), the snapshot directory (hostpath). */
  id: string;
  state: SnapshotState;
  message?: string;
  /** 0–100 where the cloud reports it. */
  progress?: number;
  /** Size of the source volume: the minimum size a restore needs. */
  sizeBytes?: number;
  createdAt?: Date;
}

export interface CreateSnapshotInput {
  volume: VolumeSource;
  tags: SnapshotTags;
  description?: string;
}

export type VolumeKind = 'awsElasticBlockStore' | 'gcePersistentDisk' | 'hostPath' | 'csi';

/**
 * A restored volume, in the shape a PV needs:
 * - awsElasticBlockStore: `volumeID: aws://<zone>/<volumeId>`
 * - gcePersistentDisk: `pdName: <volumeId>` (+ zone label)
 * - csi: `driver`, `volumeHandle: <volumeId>` (`vol-…` for EBS, `projects/<p>/zones/<z>/disks/<d>` for PD)
 * - hostPath: `path: <volumeId>`
 */
export interface VolumeInfo {
  kind: VolumeKind;
  volumeId: string;
  zone?: string;
  sizeBytes: number;
  fsType?: string;
  driver?: string;
  state: 'creating' | 'available' | 'error';
  message?: string;
}

export interface CreateVolumeInput {
  /** SnapshotInfo.id of the snapshot to restore. */
  snapshotId: string;
  /** The target PV name: the idempotency key (a retry with the same name yields the same volume). */
  name: string;
  /** Requested size; rounded up to whole GiB and raised to the snapshot's size. */
  sizeBytes: number;
  /** Zone from the claim's topology or the source volume; the `zone` parameter wins. */
  zone?: string;
  /** StorageClass parameters; an unknown key is a terminal error naming it. */
  parameters: Record<string, string>;
  /** Which PV source to describe the new volume with (in-tree by default). */
  sourceKind?: 'in-tree' | 'csi';
  fsType?: string;
}

/** Identifies a volume created by createVolume (or any volume of the provider). */
export interface VolumeRef {
  volumeId: string;
  zone?: string;
}

export interface CloudProvider {
  readonly name: 'aws' | 'gce' | 'hostpath';
  /** Idempotent by tags.uid: an existing snapshot for that uid is returned instead of creating a second one. */
  createSnapshot(input: CreateSnapshotInput): Promise<SnapshotInfo>;
  findSnapshotByUid(uid: string, volume?: VolumeSource): Promise<SnapshotInfo | undefined>;
  /** Throws CloudError with notFound=true when the snapshot does not exist. */
  getSnapshot(id: string): Promise<SnapshotInfo>;
  /** Already gone = success. */
  deleteSnapshot(id: string): Promise<void>;
  /** Idempotent by input.name; resolves once the volume is available (or throws). */
  createVolume(input: CreateVolumeInput): Promise<VolumeInfo>;
  /** Throws CloudError with notFound=true when the volume does not exist. */
  getVolume(ref: VolumeRef): Promise<VolumeInfo>;
  /** Already gone = success. */
  deleteVolume(ref: VolumeRef): Promise<void>;
  /** Releases clients and timers. */
  close(): Promise<void>;
}

export const GiB = 1024 * 1024 * 1024;

/** Whole GiB, rounded up, at least 1. */
export function roundUpToGiB(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / GiB));
}
