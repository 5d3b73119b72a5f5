// volumesnapshots: namespaced requests for a point-in-time snapshot of a PVC (external-storage's VolumeSnapshot).

import type { KubeObject, ResourceDefinition } from '../../../apimachinery/resource-definition.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/status-error.js';
import { ageColumn, textOrNone } from '../../../apimachinery/table-cells.js';
import { isDNS1123Subdomain } from '../../../apimachinery/object-meta-validation.js';
import { Quantity } from '../../../apimachinery/quantity.js';
import { GROUP, VERSION } from './types.js';
import { volumeSnapshotSchema } from './schemas.js';
import { conditionStatus, currentCondition } from './conditions.js';
import { validateConditions, validateStatusTimestamp } from './status-rules.js';

interface SnapshotShape {
  spec?: { persistentVolumeClaimName?: unknown; snapshotDataName?: unknown };
  status?: { conditions?: unknown; restoreSize?: unknown; creationTimestamp?: unknown };
}

function view(obj: KubeObject): SnapshotShape {
  return obj as unknown as SnapshotShape;
}

export function validateVolumeSnapshot(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = view(obj).spec;
  if (spec && typeof spec === 'object') {
    const pvc = spec.persistentVolumeClaimName;
    if (pvc === '') errs.push(fieldErrors.required('spec.persistentVolumeClaimName'));
    else if (typeof pvc === 'string') {
      for (const msg of isDNS1123Subdomain(pvc)) errs.push(fieldErrors.invalid('spec.persistentVolumeClaimName', pvc, msg));
    }
    const data = spec.snapshotDataName;
    if (typeof data === 'string' && data !== '') {
      for (const msg of isDNS1123Subdomain(data)) errs.push(fieldErrors.invalid('spec.snapshotDataName', data, msg));
    }
  }
  const status = view(obj).status;
  if (status && typeof status === 'object') {
    errs.push(...validateConditions(status.conditions, 'status.conditions'));
    errs.push(...validateStatusTimestamp(status.creationTimestamp));
    if (typeof status.restoreSize === 'string') {
      try {
        Quantity.parse(status.restoreSize);
      } catch (err) {
        errs.push(fieldErrors.invalid('status.restoreSize', status.restoreSize, (err as Error).message));
      }
    }
  }
  return errs;
}

export function validateVolumeSnapshotUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = view(obj).spec ?? {};
  const oldSpec = view(old).spec ?? {};
  if (spec.persistentVolumeClaimName !== oldSpec.persistentVolumeClaimName) {
    errs.push(fieldErrors.immutable('spec.persistentVolumeClaimName', spec.persistentVolumeClaimName));
  }
  // Set once: free while empty, fixed afterwards.
  if (oldSpec.snapshotDataName && spec.snapshotDataName !== oldSpec.snapshotDataName) {
    errs.push(fieldErrors.immutable('spec.snapshotDataName', spec.snapshotDataName ?? ''));
  }
  return errs;
}

export const volumeSnapshotDefinition: ResourceDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'VolumeSnapshot',
  listKind: 'VolumeSnapshotList',
  plural: 'volumesnapshots',
  singular: 'volumesnapshot',
  namespaced: true,
  // `vs` belongs to snapshot.storage.k8s.io (CSI); ours must never be ambiguous with it.
  shortNames: ['vsnap'],
  categories: [],
  schema: volumeSnapshotSchema,
  subresources: { status: true },
  strategy: {
    validate: validateVolumeSnapshot,
    validateUpdate: validateVolumeSnapshotUpdate,
  },
  columns: [
    {
      name: 'PVC',
      type: 'string',
      description: 'The PersistentVolumeClaim being snapshotted.',
      priority: 0,
      cell: (o) => textOrNone(view(o).spec?.persistentVolumeClaimName),
    },
    {
      name: 'Status',
      type: 'string',
      description: 'Pending, Ready or Error, from the conditions.',
      priority: 0,
      cell: (o) => conditionStatus(view(o).status?.conditions),
    },
    {
      name: 'RestoreSize',
      type: 'string',
      description: 'The minimum size of a volume restored from this snapshot.',
      priority: 0,
      cell: (o) => textOrNone(view(o).status?.restoreSize),
    },
    ageColumn,
    {
      name: 'SnapshotData',
      type: 'string',
      description: 'The bound VolumeSnapshotData.',
      priority: 1,
      cell: (o) => textOrNone(view(o).spec?.snapshotDataName),
    },
    {
      name: 'Message',
      type: 'string',
      description: 'The message of the current condition.',
      priority: 1,
      cell: (o) => textOrNone(currentCondition(view(o).status?.conditions)?.message),
    },
  ],
  selectableFields: {
    'spec.persistentVolumeClaimName': (o) => textOrNone(view(o).spec?.persistentVolumeClaimName),
    'spec.snapshotDataName': (o) => textOrNone(view(o).spec?.snapshotDataName),
  },
};
