// core/v1 namespaces for the local cluster: cluster-scoped, status.phase Active (the strategy's PrepareForCreate),
// names are DNS-1123 labels, `kubectl get ns` shows NAME STATUS AGE. No `kubernetes` spec finalizer is added: there is
// no namespace controller here to remove it, and a delete must not hang (REFERENCE §8).

import type { KubeObject, ResourceDefinition } from '../apimachinery/resource-definition.js';
import { ageColumn, textOrEmpty } from '../apimachinery/table-cells.js';
import { fieldErrors, type FieldError } from '../apimachinery/status-error.js';
import { isDNS1123Label } from '../apimachinery/object-meta-validation.js';
import { objectSchema, stringList } from './schema-parts.js';
import { isObject } from './core-validation.js';
import { OBJECT_META, type ProtoMessage } from '../apimachinery/protobuf-body.js';

interface NamespaceShape {
  spec?: { finalizers?: string[] };
  status?: { phase?: string; conditions?: unknown[] };
}

function view(o: KubeObject): NamespaceShape {
  return o as unknown as NamespaceShape;
}

export const namespaceSchema = objectSchema('Namespace provides a scope for Names. Use of multiple namespaces is optional.', {
  spec: {
    type: 'object',
    description: 'Spec defines the behavior of the Namespace.',
    properties: { finalizers: stringList('Finalizers is an opaque list of values that must be empty to permanently remove object from storage.') },
  },
  status: {
    type: 'object',
    description: 'Status describes the current status of a Namespace.',
    properties: {
      phase: { type: 'string', enum: ['Active', 'Terminating'], description: 'Phase is the current lifecycle phase of the namespace.' },
      conditions: {
        type: 'array',
        description: 'Represents the latest available observations of a namespace\'s current state.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  },
});

export function validateNamespace(o: KubeObject): FieldError[] {
  const name = o.metadata.name;
  if (typeof name !== 'string' || name === '') return [];
  return isDNS1123Label(name).map((msg) => fieldErrors.invalid('metadata.name', name, msg));
}

// core/v1 generated.proto: Namespace, NamespaceSpec, NamespaceStatus, NamespaceCondition (`kubectl create namespace`
// sends protobuf).
const namespaceProtobuf: ProtoMessage = {
  1: { name: 'metadata', type: 'message', message: OBJECT_META },
  2: { name: 'spec', type: 'message', message: { 1: { name: 'finalizers', type: 'string', repeated: true } } },
  3: {
    name: 'status',
    type: 'message',
    message: {
      1: { name: 'phase', type: 'string' },
      2: {
        name: 'conditions',
        type: 'message',
        repeated: true,
        message: {
          1: { name: 'type', type: 'string' },
          2: { name: 'status', type: 'string' },
          4: { name: 'lastTransitionTime', type: 'time' },
          5: { name: 'reason', type: 'string' },
          6: { name: 'message', type: 'string' },
        },
      },
    },
  },
};

export const namespaceDefinition: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  plural: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  schema: namespaceSchema,
  protobuf: namespaceProtobuf,
  subresources: { status: true },
  strategy: {
    prepareForCreate(o) {
      view(o).status = { phase: 'Active' };
    },
    prepareForUpdate(o) {
      const status = view(o).status;
      if (isObject(status) && !status.phase) status.phase = 'Active';
    },
    validate: validateNamespace,
  },
  columns: [
    { name: 'Status', type: 'string', description: 'The status of the namespace', priority: 0, cell: (o) => textOrEmpty(view(o).status?.phase) },
    ageColumn,
  ],
  selectableFields: { 'status.phase': (o) => textOrEmpty(view(o).status?.phase) },
};
