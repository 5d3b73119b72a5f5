// The OpenAPI v3 schema subset a structural CRD schema may use (k8s.io/apiextensions-apiserver/pkg/apis/apiextensions
// JSONSchemaProps), plus the x-kubernetes-* extensions. One schema feeds validation (ajv), pruning, managed fields and
// the published OpenAPI documents, so this type is deliberately descriptive rather than clever.

export type JsonSchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface JsonSchema {
  /** One of JsonSchemaType; typed as string so that schema pieces written as plain object literals still fit. */
  type?: JsonSchemaType | (string & Record<never, never>);
  format?: string;
  title?: string;
  description?: string;
  default?: unknown;
  example?: unknown;
  nullable?: boolean;
  enum?: unknown[];

  // objects
  properties?: Record<string, JsonSchema>;
  /** A schema for the values of free-form keys; `true`/`false` as in JSON Schema (false = no extra keys). */
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  minProperties?: number;
  maxProperties?: number;

  // arrays
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;

  // strings
  pattern?: string;
  minLength?: number;
  maxLength?: number;

  // numbers
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;

  // combinators (value validation only in a structural schema: they never declare fields for pruning)
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  not?: JsonSchema;

  /** Keep fields the schema does not declare, below this node. */
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  /** The value is a whole Kubernetes object: apiVersion, kind and metadata are kept and metadata is pruned as ObjectMeta. */
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string; reason?: string; fieldPath?: string }[];
  /** Any other vendor extension (x-kubernetes-group-version-kind in OpenAPI, …). */
  [extension: `x-${string}`]: unknown;
}
