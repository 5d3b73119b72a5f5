// core/v1 persistentvolumeclaims for the local cluster: schema, defaults (SetDefaults_PersistentVolumeClaim), the
// rules of ValidatePersistentVolumeClaim / ValidatePersistentVolumeClaimUpdate, and `kubectl get pvc`'s columns
// (pkg/printers/internalversion/printers.go printPersistentVolumeClaim).

import type { KubeObject, ResourceDefinition } from '../apimachinery/resource-definition.js';
import { ageColumn, textOrEmpty } from '../apimachinery/table-cells.js';
import { fieldErrors, type FieldError } from '../apimachinery/status-error.js';
import {
  labelSelector,
  objectSchema,
  resourceList,
  stringMap,
  typedLocalObjectReference,
} from './schema-parts.js';
import {
  PVC_PHASES,
  VOLUME_MODES,
  accessModesString,
  assertQuantitiesDecode,
  isObject,
  quantityOf,
  quantityString,
  semanticEqual,
  validateAccessModes,
  validateClassName,
  validateLabelSelector,
  validatePositiveQuantity,
  validateVolumeMode,
} from './core-validation.js';
import type { JsonSchema } from '../apimachinery/json-schema.js';

/** The beta annotation that still wins over spec.storageClassName (GetPersistentVolumeClaimClass). */
export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

export interface ClaimShape {
  metadata: KubeObject['metadata'] & { annotations?: Record<string, string>; uid?: string; labels?: Record<string, string> };
  spec?: {
    accessModes?: string[];
    selector?: Record<string, unknown> | null;
    resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
    volumeName?: string;
    storageClassName?: string | null;
    volumeMode?: string | null;
    volumeAttributesClassName?: string | null;
    dataSource?: unknown;
    dataSourceRef?: unknown;
  };
  status?: {
    phase?: string;
    accessModes?: string[];
    capacity?: Record<string, string | number>;
    conditions?: unknown[];
    allocatedResources?: Record<string, string | number>;
  };
}

function view(o: KubeObject): ClaimShape {
  return o as unknown as ClaimShape;
}

/** GetPersistentVolumeClaimClass: the beta annotation, else spec.storageClassName, else "". */
export function claimClass(o: KubeObject): string {
  const c = view(o);
  const ann = c.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (ann !== undefined) return ann;
  return c.spec?.storageClassName ?? '';
}

const accessModesSchema: JsonSchema = {
  type: 'array',
  description: 'accessModes contains the desired access modes the volume should have: ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.',
  'x-kubernetes-list-type': 'atomic',
  items: { type: 'string' },
};

export const persistentVolumeClaimSchema: JsonSchema = objectSchema(
  "PersistentVolumeClaim is a user's request for and claim to a persistent volume",
  {
    spec: {
      type: 'object',
      description: 'spec defines the desired characteristics of a volume requested by a pod author.',
      properties: {
        accessModes: accessModesSchema,
        selector: labelSelector('selector is a label query over volumes to consider for binding.'),
        resources: {
          type: 'object',
          description: 'resources represents the minimum resources the volume should have.',
          properties: {
            limits: resourceList('Limits describes the maximum amount of compute resources allowed.'),
            requests: resourceList('Requests describes the minimum amount of compute resources required.'),
          },
        },
        volumeName: { type: 'string', description: 'volumeName is the binding reference to the PersistentVolume backing this claim.' },
        storageClassName: { type: 'string', description: 'storageClassName is the name of the StorageClass required by the claim.' },
        volumeMode: {
          type: 'string',
          enum: [...VOLUME_MODES],
          description: 'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.',
        },
        volumeAttributesClassName: { type: 'string', description: 'volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.' },
        dataSource: typedLocalObjectReference('dataSource field can be used to specify an existing VolumeSnapshot or PVC to restore from.'),
        dataSourceRef: typedLocalObjectReference('dataSourceRef specifies the object from which to populate the volume with data.', true),
      },
    },
    status: {
      type: 'object',
      description: 'status represents the current information/status of a persistent volume claim. Read-only.',
      properties: {
        phase: { type: 'string', enum: [...PVC_PHASES], description: 'phase represents the current phase of PersistentVolumeClaim.' },
        accessModes: { ...accessModesSchema, description: 'accessModes contains the actual access modes the volume backing the PVC has.' },
        capacity: resourceList('capacity represents the actual resources of the underlying volume.'),
        allocatedResources: resourceList('allocatedResources tracks the resources allocated to a PVC including its capacity.'),
        conditions: {
          type: 'array',
          description: 'conditions is the current Condition of persistent volume claim.',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['type'],
          items: {
            type: 'object',
            required: ['type', 'status'],
            properties: {
              type: { type: 'string' },
              status: { type: 'string' },
              lastProbeTime: { type: 'string', format: 'date-time' },
              lastTransitionTime: { type: 'string', format: 'date-time' },
              reason: { type: 'string' },
              message: { type: 'string' },
            },
          },
        },
        allocatedResourceStatuses: stringMap('allocatedResourceStatuses stores status of resource being resized.'),
      },
    },
  },
);

/** The 400 a malformed quantity gets while decoding, before validation. */
function decodeCheck(obj: KubeObject): void {
  const c = view(obj);
  assertQuantitiesDecode('PersistentVolumeClaim', [
    c.spec?.resources?.requests,
    c.spec?.resources?.limits,
    c.status?.capacity,
    c.status?.allocatedResources,
  ]);
}

export function validatePersistentVolumeClaim(obj: KubeObject): FieldError[] {
  const c = view(obj);
  const spec = isObject(c.spec) ? c.spec : {};
  const errs: FieldError[] = [];
  errs.push(...validateAccessModes(spec.accessModes, 'spec.accessModes', 'at least 1 access mode is required'));
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const requests = spec.resources?.requests;
  const storage = isObject(requests) ? requests.storage : undefined;
  if (storage === undefined) errs.push(fieldErrors.required('spec.resources[storage]'));
  else errs.push(...validatePositiveQuantity(storage, 'spec.resources[storage]'));
  errs.push(...validateClassName(spec.storageClassName, 'spec.storageClassName'));
  errs.push(...validateVolumeMode(spec.volumeMode, 'spec.volumeMode'));
  const status = c.status;
  if (isObject(status) && isObject(status.capacity)) {
    for (const [k, v] of Object.entries(status.capacity)) {
      const q = quantityOf(v);
      if (q && q.sign() < 0) errs.push(fieldErrors.invalid(`status.capacity[${k}]`, q.toString(), 'must be greater than or equal to 0'));
    }
  }
  return errs;
}

/** The spec with its resource quantities in canonical form (apiequality.Semantic compares quantities by value). */
function canonicalQuantities(spec: NonNullable<ClaimShape['spec']>): unknown {
  const out = structuredClone(spec);
  for (const key of ['requests', 'limits'] as const) {
    const list = out.resources?.[key];
    if (!isObject(list)) continue;
    for (const [k, v] of Object.entries(list)) list[k] = quantityOf(v)?.toString() ?? v;
  }
  return out;
}

/**
 * ValidatePersistentVolumeClaimUpdate: the spec is immutable except `volumeName` while empty, `storageClassName`
 * while unset, and `resources.requests` (growth only) of a bound claim.
 */
export function validatePersistentVolumeClaimUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const next = structuredClone(view(obj).spec ?? {});
  const prev = view(old).spec ?? {};
  if (!prev.volumeName) next.volumeName = prev.volumeName;
  if ((prev.storageClassName === undefined || prev.storageClassName === null) && !view(old).metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION]) {
    next.storageClassName = prev.storageClassName;
  }
  const bound = view(obj).status?.phase === 'Bound';
  if (bound && isObject(next.resources?.requests)) {
    const oldStorage = prev.resources?.requests?.storage;
    if (oldStorage === undefined) delete next.resources.requests.storage;
    else next.resources.requests.storage = oldStorage;
  }
  // volumeAttributesClassName may change on bound claims (VolumeAttributesClass feature).
  if (bound) next.volumeAttributesClassName = prev.volumeAttributesClassName;
  if (!semanticEqual(canonicalQuantities(next), canonicalQuantities(prev))) {
    errs.push(fieldErrors.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  }
  const newSize = quantityOf(view(obj).spec?.resources?.requests?.storage);
  const oldSize = quantityOf(prev.resources?.requests?.storage);
  if (newSize && oldSize && newSize.cmp(oldSize) < 0) {
    errs.push(fieldErrors.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  }
  return errs;
}

export const persistentVolumeClaimDefinition: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  listKind: 'PersistentVolumeClaimList',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  namespaced: true,
  shortNames: ['pvc'],
  categories: [],
  schema: persistentVolumeClaimSchema,
  subresources: { status: true },
  strategy: {
    prepareForCreate(obj) {
      decodeCheck(obj);
      const c = view(obj);
      if (isObject(c.spec) && (c.spec.volumeMode === undefined || c.spec.volumeMode === null)) c.spec.volumeMode = 'Filesystem';
      // The defaulted phase that upstream's decoder adds on every read.
      c.status = { phase: 'Pending' };
    },
    prepareForUpdate(obj) {
      decodeCheck(obj);
      const c = view(obj);
      if (isObject(c.spec) && (c.spec.volumeMode === undefined || c.spec.volumeMode === null)) c.spec.volumeMode = 'Filesystem';
      if (isObject(c.status) && !c.status.phase) c.status.phase = 'Pending';
    },
    validate: validatePersistentVolumeClaim,
    validateUpdate(obj, old, ctx) {
      return ctx.subresource === 'status' ? [] : validatePersistentVolumeClaimUpdate(obj, old);
    },
  },
  columns: [
    {
      name: 'Status',
      type: 'string',
      description: 'phase represents the current phase of PersistentVolumeClaim.',
      priority: 0,
      cell: (o) => (o.metadata.deletionTimestamp ? 'Terminating' : textOrEmpty(view(o).status?.phase)),
    },
    {
      name: 'Volume',
      type: 'string',
      description: 'volumeName is the binding reference to the PersistentVolume backing this claim.',
      priority: 0,
      cell: (o) => textOrEmpty(view(o).spec?.volumeName),
    },
    {
      name: 'Capacity',
      type: 'string',
      description: 'capacity represents the actual resources of the underlying volume.',
      priority: 0,
      cell: (o) => (view(o).spec?.volumeName ? quantityString(view(o).status?.capacity?.storage) : ''),
    },
    {
      name: 'Access Modes',
      type: 'string',
      description: 'accessModes contains the actual access modes the volume backing the PVC has.',
      priority: 0,
      cell: (o) => (view(o).spec?.volumeName ? accessModesString(view(o).status?.accessModes) : ''),
    },
    {
      name: 'StorageClass',
      type: 'string',
      description: 'storageClassName is the name of the StorageClass required by the claim.',
      priority: 0,
      cell: (o) => claimClass(o),
    },
    {
      name: 'VolumeAttributesClass',
      type: 'string',
      description: 'volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.',
      priority: 0,
      cell: (o) => view(o).spec?.volumeAttributesClassName || '<unset>',
    },
    ageColumn,
    {
      name: 'VolumeMode',
      type: 'string',
      description: 'volumeMode defines what type of volume is required by the claim.',
      priority: 1,
      cell: (o) => textOrEmpty(view(o).spec?.volumeMode),
    },
  ],
  selectableFields: {
    'spec.volumeName': (o) => textOrEmpty(view(o).spec?.volumeName),
    'status.phase': (o) => textOrEmpty(view(o).status?.phase),
  },
};
