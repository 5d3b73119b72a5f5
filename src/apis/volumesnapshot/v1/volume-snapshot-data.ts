// volumesnapshotdatas: cluster-scoped records of the provider snapshot behind a VolumeSnapshot.

import type { KubeObject, ResourceDefinition } from '../../../apimachinery/resource-definition.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/status-error.js';
import { ageColumn, textOrNone } from '../../../apimachinery/table-cells.js';
import { GROUP, VERSION } from './types.js';
import { volumeSnapshotDataSchema } from './schemas.js';
import { conditionStatus } from './conditions.js';
import { validateConditions, validateStatusTimestamp } from './status-rules.js';

/** The snapshot sources, in the order the message names them; exactly one must be set. */
export const SNAPSHOT_SOURCES = ['awsElasticBlockStore', 'gcePersistentDisk', 'hostPath'] as const;

interface DataShape {
  spec?: Record<string, unknown> & {
    volumeSnapshotRef?: { namespace?: string; name?: string };
    persistentVolumeRef?: { name?: string };
    awsElasticBlockStore?: { snapshotId?: string };
    gcePersistentDisk?: { snapshotId?: string };
    hostPath?: { snapshot?: string };
  };
  status?: { conditions?: unknown; creationTimestamp?: unknown };
}

function view(obj: KubeObject): DataShape {
  return obj as unknown as DataShape;
}

export function validateVolumeSnapshotData(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = view(obj).spec;
  if (spec && typeof spec === 'object') {
    // Worded like a PersistentVolume's volume source (core/validation: "must specify a volume type").
    const present = SNAPSHOT_SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== null);
    if (present.length === 0) errs.push(fieldErrors.required('spec', 'must specify a snapshot source'));
    for (const extra of present.slice(1)) {
      errs.push(fieldErrors.forbidden(`spec.${extra}`, 'may not specify more than 1 snapshot source'));
    }
    if (spec.awsElasticBlockStore && !spec.awsElasticBlockStore.snapshotId) {
      errs.push(fieldErrors.required('spec.awsElasticBlockStore.snapshotId'));
    }
    if (spec.gcePersistentDisk && !spec.gcePersistentDisk.snapshotId) errs.push(fieldErrors.required('spec.gcePersistentDisk.snapshotId'));
    if (spec.hostPath && !spec.hostPath.snapshot) errs.push(fieldErrors.required('spec.hostPath.snapshot'));
  }
  const status = view(obj).status;
  if (status && typeof status === 'object') {
    errs.push(...validateConditions(status.conditions, 'status.conditions'));
    errs.push(...validateStatusTimestamp(status.creationTimestamp));
  }
  return errs;
}

export function validateVolumeSnapshotDataUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = view(obj).spec ?? {};
  const oldSpec = view(old).spec ?? {};
  for (const s of SNAPSHOT_SOURCES) {
    if (JSON.stringify(spec[s]) !== JSON.stringify(oldSpec[s])) errs.push(fieldErrors.immutable(`spec.${s}`, spec[s] ?? null));
  }
  return errs;
}

/** SOURCE column: `<provider>:<id>`. */
export function sourceOf(obj: KubeObject): string | undefined {
  const spec = view(obj).spec;
  if (!spec) return undefined;
  if (spec.awsElasticBlockStore) return `aws:${spec.awsElasticBlockStore.snapshotId ?? ''}`;
  if (spec.gcePersistentDisk) return `gce:${spec.gcePersistentDisk.snapshotId ?? ''}`;
  if (spec.hostPath) return `hostPath:${spec.hostPath.snapshot ?? ''}`;
  return undefined;
}

export const volumeSnapshotDataDefinition: ResourceDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'VolumeSnapshotData',
  listKind: 'VolumeSnapshotDataList',
  plural: 'volumesnapshotdatas',
  singular: 'volumesnapshotdata',
  namespaced: false,
  // `vsc` belongs to CSI's volumesnapshotcontents.
  shortNames: ['vsnapdata'],
  categories: [],
  schema: volumeSnapshotDataSchema,
  subresources: { status: true },
  strategy: {
    validate: validateVolumeSnapshotData,
    validateUpdate: validateVolumeSnapshotDataUpdate,
  },
  columns: [
    {
      name: 'Snapshot',
      type: 'string',
      description: 'The bound VolumeSnapshot, namespace/name.',
      priority: 0,
      cell: (o) => {
        const ref = view(o).spec?.volumeSnapshotRef;
        return ref?.name ? `${ref.namespace ?? ''}/${ref.name}` : undefined;
      },
    },
    {
      name: 'PV',
      type: 'string',
      description: 'The PersistentVolume the snapshot was taken from.',
      priority: 0,
      cell: (o) => textOrNone(view(o).spec?.persistentVolumeRef?.name),
    },
    { name: 'Source', type: 'string', description: 'The provider and its snapshot id.', priority: 0, cell: sourceOf },
    {
      name: 'Status',
      type: 'string',
      description: 'Pending, Ready or Error, from the conditions.',
      priority: 0,
      cell: (o) => conditionStatus(view(o).status?.conditions),
    },
    ageColumn,
  ],
  selectableFields: {
    'spec.volumeSnapshotRef.name': (o) => textOrNone(view(o).spec?.volumeSnapshotRef?.name),
    'spec.volumeSnapshotRef.namespace': (o) => textOrNone(view(o).spec?.volumeSnapshotRef?.namespace),
  },
};
