// Unknown-field pruning, as for custom resources: k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning
// (algorithm.go) for the schema-described part, and schema/objectmeta (Coerce) for metadata, which is cut down to
// ObjectMeta's own fields. The paths returned are those of upstream's strict decoding errors (`spec.bogus`,
// `spec.items[0].x`, `metadata.foo`): the schema's sorted first, then metadata's.

import type { JsonSchema } from './json-schema.js';
import { compareGoStrings } from './go-string-order.js';

export interface PruneOptions {
  /**
   * The value is a whole object of a resource (the default): apiVersion, kind and metadata are never pruned by the
   * schema, and metadata is cut down to ObjectMeta.
   */
  isResourceRoot?: boolean;
}

type Obj = Record<string, unknown>;

const metaFields = new Set(['apiVersion', 'kind', 'metadata']);

/** metav1.ObjectMeta's JSON fields, and those of the two structs nested in it. */
export const objectMetaFields: ReadonlySet<string> = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);
const ownerReferenceFields = new Set(['apiVersion', 'kind', 'name', 'uid', 'controller', 'blockOwnerDeletion']);
const managedFieldsEntryFields = new Set(['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1', 'subresource']);

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** `additionalProperties: true` keeps everything below; `false` (or absent) declares nothing. */
function additionalSchema(s: JsonSchema): JsonSchema | undefined {
  const ap = s.additionalProperties;
  if (ap === true) return { 'x-kubernetes-preserve-unknown-fields': true };
  if (ap === false || ap === undefined) return undefined;
  return ap;
}

function declared(s: JsonSchema, k: string): JsonSchema | undefined {
  return s.properties && Object.hasOwn(s.properties, k) ? s.properties[k] : undefined;
}

class Pruner {
  readonly schemaPaths: string[] = [];
  readonly metaPaths: string[] = [];
  /** Embedded objects whose metadata must be cut to ObjectMeta, with the metadata's path. */
  private readonly embedded: { obj: Obj; path: string }[] = [];

  prune(x: unknown, s: JsonSchema | undefined, path: string): void {
    if (s?.['x-kubernetes-preserve-unknown-fields']) {
      this.skipPrune(x, s, path);
      return;
    }
    if (Array.isArray(x)) {
      x.forEach((v, i) => this.prune(v, s?.items, `${path}[${i}]`));
      return;
    }
    if (!isObject(x)) return;
    if (s === undefined) {
      for (const k of Object.keys(x)) {
        this.schemaPaths.push(child(path, k));
        delete x[k];
      }
      return;
    }
    if (s['x-kubernetes-embedded-resource']) this.embedded.push({ obj: x, path });
    const extra = additionalSchema(s);
    for (const k of Object.keys(x)) {
      if (s['x-kubernetes-embedded-resource'] && metaFields.has(k)) continue;
      const prop = declared(s, k);
      if (prop) this.prune(x[k], prop, child(path, k));
      else if (extra) this.prune(x[k], extra, child(path, k));
      else {
        // apiVersion/kind/metadata at the very root are the root's business, not an unknown field
        if (!metaFields.has(k) || path !== '') this.schemaPaths.push(child(path, k));
        delete x[k];
      }
    }
  }

  /** Below x-kubernetes-preserve-unknown-fields: nothing is removed here, but declared fields are still pruned. */
  private skipPrune(x: unknown, s: JsonSchema, path: string): void {
    if (Array.isArray(x)) {
      if (s.items) x.forEach((v, i) => this.skipPrune(v, s.items as JsonSchema, `${path}[${i}]`));
      return;
    }
    if (!isObject(x)) return;
    if (s['x-kubernetes-embedded-resource']) this.embedded.push({ obj: x, path });
    const extra = additionalSchema(s);
    for (const k of Object.keys(x)) {
      if (s['x-kubernetes-embedded-resource'] && metaFields.has(k)) continue;
      const prop = declared(s, k);
      if (prop) this.prune(x[k], prop, child(path, k));
      else if (extra) this.prune(x[k], extra, child(path, k));
    }
  }

  /** schema/objectmeta Coerce: metadata of the root and of every embedded resource cut down to ObjectMeta. */
  coerceMetadata(): void {
    for (const { obj, path } of this.embedded) {
      const meta = obj.metadata;
      if (!isObject(meta)) continue;
      const metaPath = child(path, 'metadata');
      this.dropUnknown(meta, objectMetaFields, metaPath);
      this.dropUnknownInItems(meta.ownerReferences, ownerReferenceFields, `${metaPath}.ownerReferences`);
      this.dropUnknownInItems(meta.managedFields, managedFieldsEntryFields, `${metaPath}.managedFields`);
    }
  }

  private dropUnknown(o: Obj, known: ReadonlySet<string>, path: string): void {
    for (const k of Object.keys(o)) {
      if (!known.has(k)) {
        this.metaPaths.push(`${path}.${k}`);
        delete o[k];
      }
    }
  }

  private dropUnknownInItems(list: unknown, known: ReadonlySet<string>, path: string): void {
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => {
      if (isObject(item)) this.dropUnknown(item, known, `${path}[${i}]`);
    });
  }
}

/**
 * Removes, in place, every field of `obj` the structural schema does not declare, and returns their paths.
 * Values of the wrong type are left for validation to report, as upstream leaves them.
 */
export function pruneUnknownFields(obj: unknown, schema: JsonSchema, opts: PruneOptions = {}): string[] {
  const pruner = new Pruner();
  let s = schema;
  if (opts.isResourceRoot ?? true) {
    if (!s['x-kubernetes-embedded-resource']) s = { ...s, 'x-kubernetes-embedded-resource': true };
  }
  pruner.prune(obj, s, '');
  pruner.coerceMetadata();
  return [...pruner.schemaPaths.sort(compareGoStrings), ...pruner.metaPaths];
}
