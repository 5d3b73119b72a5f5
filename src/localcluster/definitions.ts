// Every kind the local cluster serves, as ResourceDefinitions for the one generic API machinery.

import type { ResourceDefinition } from '../apimachinery/resource-definition.js';
import { namespaceDefinition } from './namespaces.js';
import { persistentVolumeClaimDefinition } from './persistent-volume-claims.js';
import { persistentVolumeDefinition } from './persistent-volumes.js';
import { eventDefinition } from './events.js';
import { storageClassDefinition } from './storage-classes.js';
import { leaseDefinition } from './leases.js';
import { podDefinition } from './pods.js';

/** Resource names as the Registry resolves them (`plural` for core, `plural.group` otherwise). */
export const NAMESPACES = 'namespaces';
export const PERSISTENT_VOLUME_CLAIMS = 'persistentvolumeclaims';
export const PERSISTENT_VOLUMES = 'persistentvolumes';
export const EVENTS = 'events';
export const PODS = 'pods';
export const STORAGE_CLASSES = 'storageclasses.storage.k8s.io';
export const LEASES = 'leases.coordination.k8s.io';

export function localClusterDefinitions(options: { clock?: () => Date } = {}): ResourceDefinition[] {
  return [
    namespaceDefinition,
    persistentVolumeClaimDefinition,
    persistentVolumeDefinition(options.clock),
    eventDefinition,
    podDefinition,
    storageClassDefinition,
    leaseDefinition,
  ];
}
