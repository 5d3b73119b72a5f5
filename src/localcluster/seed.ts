// What a fresh local cluster starts with: namespaces `default` and `kube-system`, and the restore StorageClass
// `snapshot-promoter`. Each is created only when absent, so restarts (and a user's edits) are left alone.

import type { Registry } from '../apimachinery/registry.js';
import { StatusError } from '../apimachinery/status-error.js';
import { NAMESPACES, STORAGE_CLASSES } from './definitions.js';

/** Same values as src/apis/volumesnapshot/v1/types.ts (not importable from this layer). */
export const DEFAULT_RESTORE_STORAGE_CLASS = 'snapshot-promoter';
export const PROMOTER_PROVISIONER = 'volumesnapshot.external-storage.k8s.io/snapshot-promoter';

export const SEED_OBJECTS: { resource: string; object: Record<string, unknown> }[] = [
  { resource: NAMESPACES, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } },
  { resource: NAMESPACES, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } } },
  {
    resource: STORAGE_CLASSES,
    object: {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: DEFAULT_RESTORE_STORAGE_CLASS },
      provisioner: PROMOTER_PROVISIONER,
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    },
  },
];

/** Creates the seed objects that do not exist; returns the names it created. */
export async function seedLocalCluster(registry: Registry): Promise<string[]> {
  const created: string[] = [];
  for (const { resource, object } of SEED_OBJECTS) {
    const name = (object.metadata as { name: string }).name;
    try {
      await registry.get(resource, { name });
      continue;
    } catch (err) {
      if (!(err instanceof StatusError && err.reason === 'NotFound')) throw err;
    }
    try {
      await registry.create(resource, structuredClone(object), { fieldManager: 'volumesnapshot-apiserver' });
      created.push(`${resource}/${name}`);
    } catch (err) {
      // Another replica (or a user) made it in between: fine.
      if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
    }
  }
  return created;
}
