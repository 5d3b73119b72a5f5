// The JSON Schemas of volumesnapshot.external-storage.k8s.io/v1: the one source of validation (ajv), of unknown-field
// pruning, of OpenAPI v2/v3 and so of `kubectl explain`. Faithful to external-storage's
// snapshot/pkg/apis/crd/v1/types.go (descriptions adapted from its comments), plus status.restoreSize (ours).

import type { JsonSchema } from '../../../apimachinery/json-schema.js';

const apiVersion: JsonSchema = {
  type: 'string',
  description:
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
};

const kind: JsonSchema = {
  type: 'string',
  description:
    'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
};

const metadata: JsonSchema = {
  type: 'object',
  description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
};

const condition: JsonSchema = {
  type: 'object',
  description: 'VolumeSnapshotCondition describes the state of a volume snapshot at a certain point.',
  required: ['type', 'status'],
  properties: {
    type: {
      type: 'string',
      description: 'Type of the condition: Pending (the snapshot is being taken), Ready (it can be restored from) or Error.',
      enum: ['Pending', 'Ready', 'Error'],
    },
    status: {
      type: 'string',
      description: 'Status of the condition, one of True, False, Unknown.',
      enum: ['True', 'False', 'Unknown'],
    },
    lastTransitionTime: {
      type: 'string',
      format: 'date-time',
      nullable: true,
      description: 'The last time the condition transitioned from one status to another.',
    },
    reason: { type: 'string', description: "The reason for the condition's last transition." },
    message: { type: 'string', description: 'A human readable message indicating details about the transition.' },
  },
};

const conditions: JsonSchema = {
  type: 'array',
  description:
    'The latest available observations about the snapshot. A condition of a new type is appended; one of an existing type replaces it.',
  items: condition,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
};

const statusCreationTimestamp: JsonSchema = {
  type: 'string',
  format: 'date-time',
  nullable: true,
  description: 'The time the snapshot was successfully created; null until then.',
};

const objectReference: (description: string) => JsonSchema = (description) => ({
  type: 'object',
  description,
  properties: {
    kind: { type: 'string', description: 'Kind of the referent.' },
    namespace: { type: 'string', description: 'Namespace of the referent.' },
    name: { type: 'string', description: 'Name of the referent.' },
    uid: { type: 'string', description: 'UID of the referent.' },
    apiVersion: { type: 'string', description: 'API version of the referent.' },
    resourceVersion: { type: 'string', description: 'Specific resourceVersion to which this reference is made, if any.' },
    fieldPath: { type: 'string', description: 'If referring to a piece of an object instead of an entire object, the path to it.' },
  },
});

export const volumeSnapshotSchema: JsonSchema = {
  type: 'object',
  description:
    'VolumeSnapshot is a user\'s request for taking a point-in-time snapshot of a PersistentVolumeClaim. Upon successful creation of the snapshot, a VolumeSnapshotData object is created and bound to it.',
  required: ['spec'],
  properties: {
    apiVersion,
    kind,
    metadata,
    spec: {
      type: 'object',
      description: 'Spec defines the desired characteristics of the snapshot requested by a user.',
      required: ['persistentVolumeClaimName'],
      properties: {
        persistentVolumeClaimName: {
          type: 'string',
          description:
            'PersistentVolumeClaimName is the name of the PVC (in the snapshot\'s namespace) being snapshotted. Required, and immutable once set.',
        },
        snapshotDataName: {
          type: 'string',
          description:
            'SnapshotDataName binds the VolumeSnapshot object with the VolumeSnapshotData. Set once, by the snapshot worker.',
        },
      },
    },
    status: {
      type: 'object',
      description: 'Status represents the latest observed state of the snapshot. Written only through the status subresource.',
      properties: {
        creationTimestamp: statusCreationTimestamp,
        conditions,
        restoreSize: {
          type: 'string',
          description:
            'RestoreSize is the size of the source volume (a Kubernetes quantity such as "5Gi"): the minimum size of a volume restored from this snapshot.',
        },
      },
    },
  },
};

export const volumeSnapshotDataSchema: JsonSchema = {
  type: 'object',
  description:
    'VolumeSnapshotData represents the actual snapshot taken by the storage provider (a cloud or host snapshot), bound to a VolumeSnapshot.',
  required: ['spec'],
  properties: {
    apiVersion,
    kind,
    metadata,
    spec: {
      type: 'object',
      description: 'Spec represents the source of the snapshot and its bindings. Exactly one source must be set.',
      properties: {
        volumeSnapshotRef: objectReference('VolumeSnapshotRef is part of the bi-directional binding between VolumeSnapshot and VolumeSnapshotData.'),
        persistentVolumeRef: objectReference('PersistentVolumeRef represents the PersistentVolume that the snapshot has been taken from.'),
        persistentVolumeReclaimPolicy: {
          type: 'string',
          enum: ['Delete', 'Retain'],
          description: 'What happens to the provider snapshot when this object is deleted: Delete (default) removes it, Retain keeps it.',
        },
        awsElasticBlockStore: {
          type: 'object',
          description: 'AWSElasticBlockStore represents an AWS EBS snapshot.',
          required: ['snapshotId'],
          properties: {
            snapshotId: { type: 'string', description: 'Unique id of the EBS snapshot (snap-…).' },
            fsType: { type: 'string', description: 'Filesystem type of the snapshotted volume, e.g. "ext4".' },
          },
        },
        gcePersistentDisk: {
          type: 'object',
          description: 'GCEPersistentDiskSnapshotSource represents a GCE PD snapshot.',
          required: ['snapshotId'],
          properties: {
            snapshotId: { type: 'string', description: 'Unique name of the GCE snapshot.' },
          },
        },
        hostPath: {
          type: 'object',
          description: 'HostPath represents a snapshot of a hostPath volume (a directory on the node), for development and tests.',
          required: ['snapshot'],
          properties: {
            snapshot: { type: 'string', description: 'Path of the snapshot archive on the host.' },
          },
        },
      },
    },
    status: {
      type: 'object',
      description: 'Status represents the latest observed state of the snapshot data. Written only through the status subresource.',
      properties: {
        creationTimestamp: statusCreationTimestamp,
        conditions,
      },
    },
  },
};
