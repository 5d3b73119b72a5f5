// AdmissionDeps over the local registry: the snapshots, their data objects and the storage classes the restore
// rules look up, read in-process exactly as the webhooks read them from the store in cluster mode.

import type { Registry } from '../apimachinery/registry.js';
import type { KubeObject } from '../apimachinery/resource-definition.js';
import { StatusError } from '../apimachinery/status-error.js';
import type { AdmissionDeps } from '../admission/admission-review.js';
import { STORAGE_CLASSES } from './definitions.js';
import { DEFAULT_RESTORE_STORAGE_CLASS } from './seed.js';

export const VOLUME_SNAPSHOTS = 'volumesnapshots.volumesnapshot.external-storage.k8s.io';
export const VOLUME_SNAPSHOT_DATAS = 'volumesnapshotdatas.volumesnapshot.external-storage.k8s.io';

type Snapshot = NonNullable<Awaited<ReturnType<AdmissionDeps['getSnapshot']>>>;
type SnapshotData = NonNullable<Awaited<ReturnType<AdmissionDeps['getSnapshotData']>>>;
type StorageClass = NonNullable<Awaited<ReturnType<AdmissionDeps['getStorageClass']>>>;

export interface LocalAdmissionOptions {
  /** `--restore-storage-class` (default `snapshot-promoter`). */
  restoreStorageClass?: string;
  log?: AdmissionDeps['log'];
}

async function getOrUndefined(registry: Registry, resource: string, target: { namespace?: string; name: string }): Promise<KubeObject | undefined> {
  try {
    return await registry.get(resource, target);
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}

export function localAdmissionDeps(registry: Registry, options: LocalAdmissionOptions = {}): AdmissionDeps {
  const deps: AdmissionDeps = {
    restoreStorageClass: options.restoreStorageClass ?? DEFAULT_RESTORE_STORAGE_CLASS,
    async getSnapshot(namespace, name) {
      return (await getOrUndefined(registry, VOLUME_SNAPSHOTS, { namespace, name })) as Snapshot | undefined;
    },
    async getSnapshotData(name) {
      return (await getOrUndefined(registry, VOLUME_SNAPSHOT_DATAS, { name })) as SnapshotData | undefined;
    },
    async getStorageClass(name) {
      const sc = await getOrUndefined(registry, STORAGE_CLASSES, { name });
      if (!sc) return undefined;
      const s = sc as unknown as { provisioner?: string; parameters?: Record<string, string> };
      const info: StorageClass = {
        metadata: { name: sc.metadata.name, annotations: sc.metadata.annotations as Record<string, string> | undefined },
        provisioner: s.provisioner ?? '',
      };
      if (s.parameters) info.parameters = s.parameters;
      return info;
    },
  };
  if (options.log) deps.log = options.log;
  return deps;
}
