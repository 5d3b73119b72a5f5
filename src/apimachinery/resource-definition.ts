// A resource served by the generic machinery, as data: the analogue of a CRD's spec plus the strategy hooks of
// k8s.io/apiserver/pkg/registry/rest (RESTCreateStrategy, RESTUpdateStrategy) and a CRD's additionalPrinterColumns.
// Adding a resource (the local cluster's core/v1 PVCs, say) is adding one of these; handlers are never copied.

import type { FieldError } from './status-error.js';
import type { JsonSchema } from './json-schema.js';
import type { ProtoMessage } from './protobuf-body.js';
import type { UserInfo } from './user-info.js';

/** An object as the registry handles it: plain JSON with Kubernetes metadata. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface StrategyContext {
  /** The subresource being written (`status`), or undefined for the main resource. */
  subresource?: string;
}

export interface ResourceStrategy {
  /** Defaulting and clean-up before a create is validated (status is already reset by the registry). */
  prepareForCreate?(obj: KubeObject): void;
  /** Clean-up before an update is validated; `obj` already carries the old status (or old spec for /status). */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): void;
  /** Rules beyond the JSON Schema and the generic ObjectMeta rules; field paths as upstream prints them. */
  validate?(obj: KubeObject): FieldError[];
  /** Update rules (immutability, set-once…); runs in addition to `validate` on the new object. */
  validateUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): FieldError[];
}

export interface ColumnDefinition {
  name: string;
  /** OpenAPI type: string, integer, number, boolean, date. */
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0 = always shown; >0 = shown with `-o wide`. */
  priority: number;
  /** The cell for one object; `undefined`/null render as <none> in kubectl. */
  cell(obj: KubeObject): string | number | boolean | null | undefined;
}

export interface ResourceDefinition {
  /** '' for the core group (served under /api/v1). */
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** The one schema of the kind: validation (ajv), pruning of unknown fields, OpenAPI and explain. */
  schema: JsonSchema;
  subresources: { status?: boolean };
  /** Top-level fields that are status: dropped from main-resource writes, the only thing /status writes. */
  statusFields?: string[];
  strategy: ResourceStrategy;
  /** Printer columns after Name (Age included where wanted); Name is added by the table builder. */
  columns: ColumnDefinition[];
  /** The kind's protobuf message layout, for clients that send built-in kinds as protobuf; absent = JSON/YAML only. */
  protobuf?: ProtoMessage;
  /** Name goes last and only into `-o wide` instead of first (core Events print it so). */
  nameColumnLastAndWide?: boolean;
  /** Field selectors beyond metadata.name/metadata.namespace, which are always selectable. */
  selectableFields?: Record<string, (obj: KubeObject) => string | undefined>;
  /** Storage key; defaults to `${group}/${plural}` (`core/${plural}` for the core group). */
  resource?: string;
  /**
   * The verbs served, in discovery and routing; default RESOURCE_VERBS. Any other verb is a 405, and OpenAPI lists
   * only these operations.
   */
  verbs?: readonly string[];
  /**
   * A virtual kind (k8s.io/apiserver's rest.Creater with no storage, e.g. SelfSubjectAccessReview): a POST computes
   * the answer from the decoded body and the caller, nothing is stored; give it with `verbs: ['create']`.
   */
  computeCreate?: (obj: KubeObject, ctx: ComputeCreateContext) => Promise<KubeObject> | KubeObject;
}

export interface ComputeCreateContext {
  /** The authenticated caller (absent only when the server runs without authentication). */
  user?: UserInfo;
}

export function apiVersionOf(def: Pick<ResourceDefinition, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export function storageResourceOf(def: ResourceDefinition): string {
  return def.resource ?? `${def.group || 'core'}/${def.plural}`;
}

export function statusFieldsOf(def: ResourceDefinition): string[] {
  if (def.statusFields) return def.statusFields;
  return def.subresources.status ? ['status'] : [];
}

/** The URL prefix of the group/version: `/apis/<g>/<v>`, or `/api/v1` for the core group. */
export function groupVersionPath(def: Pick<ResourceDefinition, 'group' | 'version'>): string {
  return def.group ? `/apis/${def.group}/${def.version}` : `/api/${def.version}`;
}

/** Field values a field selector can match: metadata.name, metadata.namespace (when namespaced) and the definition's. */
export function selectableFieldValues(def: ResourceDefinition, obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = { 'metadata.name': obj.metadata.name };
  if (def.namespaced) out['metadata.namespace'] = obj.metadata.namespace ?? '';
  for (const [field, get] of Object.entries(def.selectableFields ?? {})) out[field] = get(obj) ?? '';
  return out;
}

export function selectableFieldNames(def: ResourceDefinition): string[] {
  return ['metadata.name', ...(def.namespaced ? ['metadata.namespace'] : []), ...Object.keys(def.selectableFields ?? {})];
}

/** Verbs every definition serves (kube's discovery order). */
export const RESOURCE_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
export const STATUS_VERBS = ['get', 'patch', 'update'];

export function verbsOf(def: Pick<ResourceDefinition, 'verbs'>): readonly string[] {
  return def.verbs ?? RESOURCE_VERBS;
}
