// core/v1 persistentvolumes for the local cluster: schema, defaults (SetDefaults_PersistentVolume and the strategy's
// Pending phase with lastPhaseTransitionTime), ValidatePersistentVolume / ValidatePersistentVolumeUpdate, and
// `kubectl get pv`'s columns (printers.go printPersistentVolume).

import type { KubeObject, ResourceDefinition } from '../apimachinery/resource-definition.js';
import { ageColumn, textOrEmpty } from '../apimachinery/table-cells.js';
import { fieldErrors, type FieldError } from '../apimachinery/status-error.js';
import type { JsonSchema } from '../apimachinery/json-schema.js';
import { objectReference, objectSchema, resourceList, stringList, stringMap } from './schema-parts.js';
import {
  PV_PHASES,
  PV_RECLAIM_POLICIES,
  VOLUME_MODES,
  HOST_PATH_TYPES,
  accessModesString,
  assertQuantitiesDecode,
  isObject,
  persistentVolumeSourceOf,
  quantityString,
  semanticEqual,
  validateAccessModes,
  validateClassName,
  validatePersistentVolumeSource,
  validatePositiveQuantity,
  validateVolumeMode,
} from './core-validation.js';
import { BETA_STORAGE_CLASS_ANNOTATION } from './persistent-volume-claims.js';

export interface VolumeShape {
  metadata: KubeObject['metadata'] & { annotations?: Record<string, string>; labels?: Record<string, string>; uid?: string };
  spec?: Record<string, unknown> & {
    capacity?: Record<string, string | number>;
    accessModes?: string[];
    claimRef?: { kind?: string; apiVersion?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string } | null;
    persistentVolumeReclaimPolicy?: string;
    storageClassName?: string;
    mountOptions?: string[];
    volumeMode?: string | null;
    nodeAffinity?: unknown;
    volumeAttributesClassName?: string | null;
  };
  status?: { phase?: string; message?: string; reason?: string; lastPhaseTransitionTime?: string };
}

function view(o: KubeObject): VolumeShape {
  return o as unknown as VolumeShape;
}

/** GetPersistentVolumeClass: the beta annotation, else spec.storageClassName, else "". */
export function volumeClass(o: KubeObject): string {
  const v = view(o);
  const ann = v.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (ann !== undefined) return ann;
  return v.spec?.storageClassName ?? '';
}

const obj = (description: string, properties: Record<string, JsonSchema>, required?: string[]): JsonSchema =>
  (required ? { type: 'object', description, properties, required } : { type: 'object', description, properties }) as JsonSchema;
const s = (description: string): JsonSchema => ({ type: 'string', description });
const b = (description: string): JsonSchema => ({ type: 'boolean', description });
const i = (description: string): JsonSchema => ({ type: 'integer', format: 'int32', description });

const nodeSelectorTerms: JsonSchema = {
  type: 'array',
  description: 'Required. A list of node selector terms. The terms are ORed.',
  items: {
    type: 'object',
    properties: {
      matchExpressions: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      matchFields: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
    },
  },
};

export const persistentVolumeSchema: JsonSchema = objectSchema(
  'PersistentVolume (PV) is a storage resource provisioned by an administrator. It is analogous to a node.',
  {
    spec: {
      type: 'object',
      description: 'spec defines a specification of a persistent volume owned by the cluster. Provisioned by an administrator.',
      properties: {
        capacity: resourceList("capacity is the description of the persistent volume's resources and capacity."),
        accessModes: stringList('accessModes contains all ways the volume can be mounted: ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod.'),
        claimRef: objectReference('claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
        persistentVolumeReclaimPolicy: {
          type: 'string',
          enum: [...PV_RECLAIM_POLICIES],
          description: 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim: Retain (default), Delete or Recycle.',
        },
        storageClassName: s('storageClassName is the name of StorageClass to which this persistent volume belongs. Empty value means that this volume does not belong to any StorageClass.'),
        mountOptions: stringList('mountOptions is the list of mount options, e.g. ["ro", "soft"].'),
        volumeMode: { type: 'string', enum: [...VOLUME_MODES], description: 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.' },
        volumeAttributesClassName: s('Name of VolumeAttributesClass to which this persistent volume belongs.'),
        nodeAffinity: obj('nodeAffinity defines constraints that limit what nodes this volume can be accessed from.', {
          required: obj('required specifies hard node constraints that must be met.', { nodeSelectorTerms }),
        }),
        hostPath: obj(
          'hostPath represents a directory on the host. Provisioned by a developer or tester. This is useful for single-node development and testing only!',
          { path: s('path of the directory on the host.'), type: s(`type for HostPath Volume: ${HOST_PATH_TYPES.filter((t) => t).join(', ')} or "".`) },
        ),
        local: obj('local represents directly-attached storage with node affinity', { path: s('path of the full path to the volume on the node.'), fsType: s('fsType is the filesystem type to mount.') }),
        awsElasticBlockStore: obj('awsElasticBlockStore represents an AWS Disk resource that is attached to a kubelet\'s host machine and then exposed to the pod.', {
          volumeID: s('volumeID is unique ID of the persistent disk resource in AWS (Amazon EBS volume).'),
          fsType: s('fsType is the filesystem type of the volume that you want to mount.'),
          partition: i('partition is the partition in the volume that you want to mount.'),
          readOnly: b('readOnly value true will force the readOnly setting in VolumeMounts.'),
        }),
        gcePersistentDisk: obj('gcePersistentDisk represents a GCE Disk resource that is attached to a kubelet\'s host machine and then exposed to the pod.', {
          pdName: s('pdName is unique name of the PD resource in GCE.'),
          fsType: s('fsType is filesystem type of the volume that you want to mount.'),
          partition: i('partition is the partition in the volume that you want to mount.'),
          readOnly: b('readOnly here will force the ReadOnly setting in VolumeMounts.'),
        }),
        csi: obj('csi represents storage that is handled by an external CSI driver.', {
          driver: s('driver is the name of the driver to use for this volume. Required.'),
          volumeHandle: s('volumeHandle is the unique volume name returned by the CSI volume plugin’s CreateVolume to refer to the volume on all subsequent calls. Required.'),
          fsType: s('fsType to mount.'),
          readOnly: b('readOnly value to pass to ControllerPublishVolumeRequest.'),
          volumeAttributes: stringMap('volumeAttributes of the volume to publish.'),
        }),
        nfs: obj('nfs represents an NFS mount on the host.', {
          server: s('server is the hostname or IP address of the NFS server.'),
          path: s('path that is exported by the NFS server.'),
          readOnly: b('readOnly here will force the NFS export to be mounted with read-only permissions.'),
        }),
      },
    },
    status: {
      type: 'object',
      description: 'status represents the current information/status for the persistent volume. Read-only.',
      properties: {
        phase: { type: 'string', enum: [...PV_PHASES], description: 'phase indicates if a volume is available, bound to a claim, or released by a claim.' },
        message: s('message is a human-readable message indicating details about why the volume is in this state.'),
        reason: s('reason is a brief CamelCase string that describes any failure.'),
        lastPhaseTransitionTime: { type: 'string', format: 'date-time', description: 'lastPhaseTransitionTime is the time the phase transitioned from one to another.' },
      },
    },
  },
);

function decodeCheck(o: KubeObject): void {
  assertQuantitiesDecode('PersistentVolume', [view(o).spec?.capacity]);
}

export function validatePersistentVolume(o: KubeObject): FieldError[] {
  const spec = isObject(view(o).spec) ? view(o).spec! : {};
  const errs: FieldError[] = [];
  errs.push(...validateAccessModes(spec.accessModes, 'spec.accessModes'));
  const capacity = isObject(spec.capacity) ? spec.capacity : {};
  const keys = Object.keys(capacity);
  if (keys.length === 0) errs.push(fieldErrors.required('spec.capacity'));
  if (!('storage' in capacity) || keys.length > 1) errs.push(fieldErrors.notSupported('spec.capacity', capacity, ['storage']));
  for (const k of keys) errs.push(...validatePositiveQuantity(capacity[k], `spec.capacity[${k}]`));
  errs.push(...validateClassName(spec.storageClassName, 'spec.storageClassName'));
  errs.push(...validateVolumeMode(spec.volumeMode, 'spec.volumeMode'));
  const policy = spec.persistentVolumeReclaimPolicy;
  if (!policy) errs.push(fieldErrors.required('spec.persistentVolumeReclaimPolicy'));
  else if (!(PV_RECLAIM_POLICIES as readonly string[]).includes(policy)) {
    errs.push(fieldErrors.notSupported('spec.persistentVolumeReclaimPolicy', policy, [...PV_RECLAIM_POLICIES]));
  }
  errs.push(...validatePersistentVolumeSource(spec, 'spec'));
  const hostPath = spec.hostPath as { path?: string } | undefined;
  if (hostPath && typeof hostPath.path === 'string' && /^\/+$/.test(hostPath.path) && policy === 'Recycle') {
    errs.push(fieldErrors.forbidden('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
  }
  if (spec.local && !spec.nodeAffinity) errs.push(fieldErrors.required('spec.nodeAffinity', 'Local volume requires node affinity'));
  return errs;
}

/** ValidatePersistentVolumeUpdate: the volume source and volumeMode are fixed; nodeAffinity may only be set once. */
export function validatePersistentVolumeUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = view(o).spec ?? {};
  const prev = view(old).spec ?? {};
  if (!semanticEqual(persistentVolumeSourceOf(spec), persistentVolumeSourceOf(prev))) {
    errs.push(fieldErrors.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  }
  if ((spec.volumeMode ?? null) !== (prev.volumeMode ?? null)) errs.push(fieldErrors.immutable('volumeMode', spec.volumeMode ?? null));
  if (prev.nodeAffinity && !semanticEqual(spec.nodeAffinity, prev.nodeAffinity)) {
    errs.push(fieldErrors.immutable('nodeAffinity', spec.nodeAffinity ?? null));
  }
  return errs;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function defaultSpec(o: KubeObject): void {
  const spec = view(o).spec;
  if (!isObject(spec)) return;
  if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
  if (spec.volumeMode === undefined || spec.volumeMode === null) spec.volumeMode = 'Filesystem';
}

/** The PV definition; `clock` stamps status.lastPhaseTransitionTime as the upstream strategy does. */
export function persistentVolumeDefinition(clock: () => Date = () => new Date()): ResourceDefinition {
  return {
    group: '',
    version: 'v1',
    kind: 'PersistentVolume',
    listKind: 'PersistentVolumeList',
    plural: 'persistentvolumes',
    singular: 'persistentvolume',
    namespaced: false,
    shortNames: ['pv'],
    categories: [],
    schema: persistentVolumeSchema,
    subresources: { status: true },
    strategy: {
      prepareForCreate(o) {
        decodeCheck(o);
        defaultSpec(o);
        view(o).status = { phase: 'Pending', lastPhaseTransitionTime: rfc3339(clock()) };
      },
      prepareForUpdate(o, old, ctx) {
        decodeCheck(o);
        defaultSpec(o);
        const status = view(o).status;
        if (ctx.subresource === 'status' && isObject(status) && status.phase !== view(old).status?.phase) {
          status.lastPhaseTransitionTime = rfc3339(clock());
        }
      },
      validate: validatePersistentVolume,
      validateUpdate: (o, old, ctx) => (ctx.subresource === 'status' ? [] : validatePersistentVolumeUpdate(o, old)),
    },
    columns: [
      { name: 'Capacity', type: 'string', description: "capacity is the description of the persistent volume's resources and capacity.", priority: 0, cell: (o) => quantityString(view(o).spec?.capacity?.storage) },
      { name: 'Access Modes', type: 'string', description: 'accessModes contains all ways the volume can be mounted.', priority: 0, cell: (o) => accessModesString(view(o).spec?.accessModes) },
      { name: 'Reclaim Policy', type: 'string', description: 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.', priority: 0, cell: (o) => textOrEmpty(view(o).spec?.persistentVolumeReclaimPolicy) },
      { name: 'Status', type: 'string', description: 'phase indicates if a volume is available, bound to a claim, or released by a claim.', priority: 0, cell: (o) => (o.metadata.deletionTimestamp ? 'Terminating' : textOrEmpty(view(o).status?.phase)) },
      {
        name: 'Claim',
        type: 'string',
        description: 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.',
        priority: 0,
        cell: (o) => {
          const ref = view(o).spec?.claimRef;
          return ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '';
        },
      },
      { name: 'StorageClass', type: 'string', description: 'storageClassName is the name of StorageClass to which this persistent volume belongs.', priority: 0, cell: (o) => volumeClass(o) },
      { name: 'VolumeAttributesClass', type: 'string', description: 'Name of VolumeAttributesClass to which this persistent volume belongs.', priority: 0, cell: (o) => view(o).spec?.volumeAttributesClassName || '<unset>' },
      { name: 'Reason', type: 'string', description: 'reason is a brief CamelCase string that describes any failure.', priority: 0, cell: (o) => textOrEmpty(view(o).status?.reason) },
      ageColumn,
      { name: 'VolumeMode', type: 'string', description: 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', priority: 1, cell: (o) => textOrEmpty(view(o).spec?.volumeMode) },
    ],
    selectableFields: {
      'status.phase': (o) => textOrEmpty(view(o).status?.phase),
    },
  };
}
