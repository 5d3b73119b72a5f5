// storage.k8s.io/v1 storageclasses for the local cluster: cluster-scoped, no status, the class fields at the top
// level; defaults (SetDefaults_StorageClass), ValidateStorageClass / ValidateStorageClassUpdate
// (pkg/apis/storage/validation) and `kubectl get sc`'s columns.

import type { KubeObject, ResourceDefinition } from '../apimachinery/resource-definition.js';
import { ageColumn, textOrEmpty } from '../apimachinery/table-cells.js';
import { fieldErrors, type FieldError } from '../apimachinery/status-error.js';
import { isQualifiedName } from '../apimachinery/object-meta-validation.js';
import { objectSchema, stringList, stringMap } from './schema-parts.js';
import { SC_RECLAIM_POLICIES, VOLUME_BINDING_MODES, isObject, semanticEqual } from './core-validation.js';

export const STORAGE_GROUP = 'storage.k8s.io';
/** storage/validation: at most 512 parameters, 256 KiB of keys and values together. */
const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_BYTES = 256 * 1024;

export interface StorageClassShape {
  metadata: KubeObject['metadata'] & { annotations?: Record<string, string> };
  provisioner?: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: string;
  volumeBindingMode?: string;
  allowVolumeExpansion?: boolean;
  mountOptions?: string[];
  allowedTopologies?: unknown[];
}

function view(o: KubeObject): StorageClassShape {
  return o as unknown as StorageClassShape;
}

export const storageClassSchema = objectSchema(
  'StorageClass describes the parameters for a class of storage for which PersistentVolumes can be dynamically provisioned.',
  {
    provisioner: { type: 'string', description: 'provisioner indicates the type of the provisioner.' },
    parameters: stringMap('parameters holds the parameters for the provisioner that should create volumes of this storage class.'),
    reclaimPolicy: {
      type: 'string',
      enum: [...SC_RECLAIM_POLICIES],
      description: 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.',
    },
    volumeBindingMode: {
      type: 'string',
      enum: [...VOLUME_BINDING_MODES],
      description: 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound. When unset, VolumeBindingImmediate is used.',
    },
    allowVolumeExpansion: { type: 'boolean', description: 'allowVolumeExpansion shows whether the storage class allow volume expand.' },
    mountOptions: stringList('mountOptions controls the mountOptions for dynamically provisioned PersistentVolumes of this storage class.'),
    allowedTopologies: {
      type: 'array',
      description: 'allowedTopologies restrict the node topologies where volumes can be dynamically provisioned.',
      'x-kubernetes-list-type': 'atomic',
      items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  },
  ['provisioner'],
);

export function validateStorageClass(o: KubeObject): FieldError[] {
  const sc = view(o);
  const errs: FieldError[] = [];
  const provisioner = sc.provisioner;
  if (typeof provisioner === 'string' && provisioner !== '') {
    for (const msg of isQualifiedName(provisioner.toLowerCase())) errs.push(fieldErrors.invalid('provisioner', provisioner, msg));
  } else if (provisioner === '') {
    errs.push(fieldErrors.required('provisioner'));
  }
  if (isObject(sc.parameters)) {
    const entries = Object.entries(sc.parameters);
    let bytes = 0;
    for (const [k, v] of entries) {
      if (k === '') errs.push(fieldErrors.invalid('parameters', sc.parameters, 'field can not be empty.'));
      bytes += k.length + String(v).length;
    }
    if (entries.length > MAX_PARAMETERS) errs.push(fieldErrors.tooMany('parameters', entries.length, MAX_PARAMETERS));
    if (bytes > MAX_PARAMETERS_BYTES) errs.push(fieldErrors.tooLong('parameters', MAX_PARAMETERS_BYTES));
  }
  if (sc.reclaimPolicy && !(SC_RECLAIM_POLICIES as readonly string[]).includes(sc.reclaimPolicy)) {
    errs.push(fieldErrors.notSupported('reclaimPolicy', sc.reclaimPolicy, [...SC_RECLAIM_POLICIES]));
  }
  if (!sc.volumeBindingMode) errs.push(fieldErrors.required('volumeBindingMode'));
  else if (!(VOLUME_BINDING_MODES as readonly string[]).includes(sc.volumeBindingMode)) {
    errs.push(fieldErrors.notSupported('volumeBindingMode', sc.volumeBindingMode, [...VOLUME_BINDING_MODES]));
  }
  return errs;
}

export function validateStorageClassUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const sc = view(o);
  const prev = view(old);
  const errs: FieldError[] = [];
  if (!semanticEqual(sc.parameters ?? {}, prev.parameters ?? {})) errs.push(fieldErrors.forbidden('parameters', 'updates to parameters are forbidden.'));
  if (sc.provisioner !== prev.provisioner) errs.push(fieldErrors.forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (sc.reclaimPolicy !== prev.reclaimPolicy) errs.push(fieldErrors.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  if (sc.volumeBindingMode !== prev.volumeBindingMode) errs.push(fieldErrors.immutable('volumeBindingMode', sc.volumeBindingMode ?? null));
  return errs;
}

function defaults(o: KubeObject): void {
  const sc = view(o);
  if (!sc.reclaimPolicy) sc.reclaimPolicy = 'Delete';
  if (!sc.volumeBindingMode) sc.volumeBindingMode = 'Immediate';
  if (sc.allowVolumeExpansion === undefined) sc.allowVolumeExpansion = false;
}

export const storageClassDefinition: ResourceDefinition = {
  group: STORAGE_GROUP,
  version: 'v1',
  kind: 'StorageClass',
  listKind: 'StorageClassList',
  plural: 'storageclasses',
  singular: 'storageclass',
  namespaced: false,
  shortNames: ['sc'],
  categories: [],
  schema: storageClassSchema,
  subresources: {},
  strategy: {
    prepareForCreate: defaults,
    prepareForUpdate: defaults,
    validate: validateStorageClass,
    validateUpdate: validateStorageClassUpdate,
  },
  columns: [
    { name: 'Provisioner', type: 'string', description: 'provisioner indicates the type of the provisioner.', priority: 0, cell: (o) => textOrEmpty(view(o).provisioner) },
    { name: 'ReclaimPolicy', type: 'string', description: 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.', priority: 0, cell: (o) => textOrEmpty(view(o).reclaimPolicy) },
    { name: 'VolumeBindingMode', type: 'string', description: 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.', priority: 0, cell: (o) => textOrEmpty(view(o).volumeBindingMode) },
    { name: 'AllowVolumeExpansion', type: 'string', description: 'allowVolumeExpansion shows whether the storage class allow volume expand.', priority: 0, cell: (o) => String(view(o).allowVolumeExpansion === true) },
    ageColumn,
  ],
};
