// volumesnapshot.external-storage.k8s.io/v1 as data for the generic machinery.
import type { ResourceDefinition } from '../../../apimachinery/resource-definition.js';
import { volumeSnapshotDefinition } from './volume-snapshot.js';
import { volumeSnapshotDataDefinition } from './volume-snapshot-data.js';

export { volumeSnapshotDefinition, volumeSnapshotDataDefinition };

export const volumeSnapshotDefinitions: ResourceDefinition[] = [volumeSnapshotDefinition, volumeSnapshotDataDefinition];
