// Pieces of the core/v1, storage.k8s.io/v1 and coordination.k8s.io/v1 OpenAPI schemas that several local-cluster
// kinds share (descriptions from k8s.io/api's generated swagger docs, shortened). Only the fields the worker and
// kubectl use are declared; anything else is pruned as an unknown field, as a CRD would prune it.

import type { JsonSchema } from '../apimachinery/json-schema.js';

export const apiVersionProp: JsonSchema = {
  type: 'string',
  description:
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
};

export const kindProp: JsonSchema = {
  type: 'string',
  description:
    'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
};

export const metadataProp: JsonSchema = {
  type: 'object',
  description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
};

/** A resource.Quantity: a string ("1Gi") or a number; the syntax is checked by the strategies (Quantity.parse). */
export const quantity = (description: string): JsonSchema => ({
  description,
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
});

export const resourceList = (description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: quantity('A quantity.'),
});

export const stringMap = (description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});

export const stringList = (description: string, listType: 'atomic' | 'set' = 'atomic'): JsonSchema => ({
  type: 'array',
  description,
  items: { type: 'string' },
  'x-kubernetes-list-type': listType,
});

export const objectReference = (description: string): JsonSchema => ({
  type: 'object',
  description,
  'x-kubernetes-map-type': 'atomic',
  properties: {
    apiVersion: { type: 'string', description: 'API version of the referent.' },
    fieldPath: { type: 'string', description: 'If referring to a piece of an object instead of an entire object, a JSON path to it.' },
    kind: { type: 'string', description: 'Kind of the referent.' },
    name: { type: 'string', description: 'Name of the referent.' },
    namespace: { type: 'string', description: 'Namespace of the referent.' },
    resourceVersion: { type: 'string', description: 'Specific resourceVersion to which this reference is made, if any.' },
    uid: { type: 'string', description: 'UID of the referent.' },
  },
});

export const labelSelector = (description: string): JsonSchema => ({
  type: 'object',
  description,
  'x-kubernetes-map-type': 'atomic',
  properties: {
    matchLabels: stringMap('matchLabels is a map of {key,value} pairs; each is ANDed with the others.'),
    matchExpressions: {
      type: 'array',
      description: 'matchExpressions is a list of label selector requirements. The requirements are ANDed.',
      'x-kubernetes-list-type': 'atomic',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string', description: 'key is the label key that the selector applies to.' },
          operator: { type: 'string', description: "operator is a key's relationship to a set of values: In, NotIn, Exists and DoesNotExist." },
          values: stringList('values is an array of string values; non-empty for In and NotIn, empty for Exists and DoesNotExist.'),
        },
      },
    },
  },
});

export const typedLocalObjectReference = (description: string, withNamespace = false): JsonSchema => ({
  type: 'object',
  description,
  required: ['kind', 'name'],
  'x-kubernetes-map-type': 'atomic',
  properties: {
    apiGroup: { type: 'string', description: 'APIGroup is the group for the resource being referenced; empty for the core group.' },
    kind: { type: 'string', description: 'Kind is the type of resource being referenced.' },
    name: { type: 'string', description: 'Name is the name of resource being referenced.' },
    ...(withNamespace ? { namespace: { type: 'string', description: 'Namespace is the namespace of resource being referenced.' } } : {}),
  },
});

/** A top-level object schema: apiVersion, kind, metadata plus the kind's own properties. */
export function objectSchema(description: string, properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  const schema: JsonSchema = {
    type: 'object',
    description,
    properties: { apiVersion: apiVersionProp, kind: kindProp, metadata: metadataProp, ...properties },
  };
  if (required.length) (schema as { required?: string[] }).required = required;
  return schema;
}
