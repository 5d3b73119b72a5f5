// The public face of src/cloud for the worker and main.ts.

export type {
  CloudProvider,
  CreateSnapshotInput,
  CreateVolumeInput,
  SnapshotInfo,
  SnapshotState,
  SnapshotTags,
  VolumeInfo,
  VolumeKind,
  VolumeRef,
  VolumeSource,
} from './provider.js';
export { GiB, roundUpToGiB } from './provider.js';
export { CloudError, isCloudError } from './cloud-error.js';
export { toVolumeSource, parseEbsVolumeId, EBS_CSI_DRIVER, PD_CSI_DRIVER, type PlainVolumeSource } from './volume-source.js';
export {
  createCloudProvider,
  CLOUD_PROVIDERS,
  DEFAULT_CLOUD_BURST,
  DEFAULT_CLOUD_QPS,
  type CloudProviderName,
  type CloudProviderOptions,
} from './create-cloud-provider.js';
