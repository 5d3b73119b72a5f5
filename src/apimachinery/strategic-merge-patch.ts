// Strategic merge patch (`application/strategic-merge-patch+json`): the apply half of
// k8s.io/apimachinery/pkg/util/strategicpatch/patch.go (StrategicMergeMapPatch, with MergeParallelList and
// IgnoreUnmatchedNulls, as kube-apiserver's handlers/patch.go calls it), driven by the kind's JSON Schema instead of
// Go struct tags:
//
//   - `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key` on a field win when present (upstream's tags);
//   - otherwise a list with `x-kubernetes-list-type: map` and ONE `x-kubernetes-list-map-keys` entry merges its items
//     by that key, a `set` of scalars merges as a union, and any other list (atomic, unmarked, multi-key maps) is
//     replaced whole; objects are merged key by key (a `replace` strategy replaces them).
//
// The same rule feeds the published OpenAPI (openApiPatchExtensions), so that kubectl's client-side apply — which
// computes its patch from the x-kubernetes-patch-* extensions it reads there — and this server agree on every list.
// Errors are worded as upstream words them and classified as interpretStrategicMergePatchError does (the mergepatch
// sentinel errors become 400 BadRequest or a generic 422) with one deliberate difference: the errors kube-apiserver
// lets through as a 500 (an unknown $patch directive, an item without its merge key, …) are the patch's fault, so
// they are a 400 here too — bad input never gets a 5xx.

import type { JsonSchema } from './json-schema.js';
import { StatusError } from './status-error.js';

type Obj = Record<string, unknown>;

const DIRECTIVE_MARKER = '$patch';
const DELETE_DIRECTIVE = 'delete';
const REPLACE_DIRECTIVE = 'replace';
const MERGE_DIRECTIVE = 'merge';
const RETAIN_KEYS_STRATEGY = 'retainKeys';
const DELETE_FROM_PRIMITIVE_LIST_PREFIX = '$deleteFromPrimitiveList';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const SET_ELEMENT_ORDER_PREFIX = '$setElementOrder';

const PATCH_STRATEGY = 'x-kubernetes-patch-strategy';
const PATCH_MERGE_KEY = 'x-kubernetes-patch-merge-key';

// ---- errors (k8s.io/apimachinery/pkg/util/mergepatch/errors.go) ----

const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST = 'invalid patch format of setElementOrder list';

/** handlers/patch.go interpretStrategicMergePatchError: which sentinel errors are the client's fault, and how. */
function badRequest(message: string): StatusError {
  return StatusError.badRequest(message);
}

/** ErrNoListOfLists ("lists of lists are not supported"), as NewGenericServerResponse(422, …) words it: without it. */
function unprocessable(): StatusError {
  return new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
}

/** An error upstream leaves unclassified (a 500 there): the patch cannot be applied, so 400 with the same text. */
function malformed(message: string): StatusError {
  return StatusError.badRequest(message);
}

function errNoMergeKey(m: Obj, key: string): StatusError {
  return malformed(`map: ${goString(m)} does not contain declared merge key: ${key}`);
}

function errBadArgType(expected: 'map' | 'slice', actual: unknown): StatusError {
  const names = { map: 'map[string]interface {}', slice: '[]interface {}' };
  return malformed(`expected a ${names[expected]}, but received a ${goTypeName(actual)}`);
}

function errBadPatchType(t: unknown, m: Obj): StatusError {
  const text = typeof t === 'string' ? t : `%!s(${goTypeName(t)}=${goString(t)})`;
  return malformed(`unknown patch type: ${text} in map: ${goString(m)}`);
}

// ---- Go formatting of decoded JSON (fmt's %v of map[string]interface{} and friends) ----

function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'object') return 'map[string]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

function goFloat(n: number): string {
  // %v of a float64 is %g: exponent with at least two digits (1e-07, 1e+21).
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** fmt.Sprintf("%v", v) for JSON data: `map[a:1 b:[x y]]`, keys sorted, strings bare, nil as <nil>. */
export function goString(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as Obj).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${keys.map((k) => `${k}:${goString((v as Obj)[k])}`).join(' ')}]`;
  }
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : goFloat(v);
  return String(v);
}

// ---- JSON helpers ----

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function has(o: Obj, k: string): boolean {
  return Object.hasOwn(o, k);
}

function setOwn(obj: Obj, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

function copyJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(copyJson) as T;
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, child] of Object.entries(v)) setOwn(out, k, copyJson(child));
    return out as T;
  }
  return v;
}

/** reflect.TypeOf for decoded JSON: what mergeMap compares before recursing. */
type JsonKind = 'map' | 'slice' | 'string' | 'number' | 'bool' | 'nil';

function kindOf(v: unknown): JsonKind {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number') return 'number';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

/** Go's == on interface values holding JSON scalars (maps and slices never compare equal here). */
function scalarEqual(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  return a === b && (typeof a !== 'object' || a === null);
}

// ---- patch metadata from the schema ----

export interface PatchMeta {
  /** `merge`, `replace`, `retainKeys` — possibly two of them (`merge,retainKeys`). */
  strategies: string[];
  /** The merge key of a list of objects that merges; '' otherwise. */
  mergeKey: string;
}

/**
 * The patch strategy of a field: upstream's explicit extensions if present, else what the list-type markers imply
 * (see the top of this file). Objects merge unless marked `replace`.
 */
export function patchMetaOf(schema: JsonSchema | undefined): PatchMeta {
  if (!schema) return { strategies: [], mergeKey: '' };
  const explicit = schema[PATCH_STRATEGY];
  if (typeof explicit === 'string') {
    const key = schema[PATCH_MERGE_KEY];
    return { strategies: explicit.split(','), mergeKey: typeof key === 'string' ? key : '' };
  }
  if (schema.type !== 'array' && !schema.items) return { strategies: [], mergeKey: '' };
  const listType = schema['x-kubernetes-list-type'];
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  if (listType === 'map' && keys.length === 1) return { strategies: [MERGE_DIRECTIVE], mergeKey: keys[0] };
  const itemsAreObjects = schema.items?.type === 'object' || !!schema.items?.properties;
  if (listType === 'set' && !itemsAreObjects) return { strategies: [MERGE_DIRECTIVE], mergeKey: '' };
  return { strategies: [], mergeKey: '' };
}

/** ObjectMeta's patch tags (k8s.io/apimachinery/pkg/apis/meta/v1/types.go), for kinds whose schema leaves metadata opaque. */
export const OBJECT_META_PATCH_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set', [PATCH_STRATEGY]: MERGE_DIRECTIVE },
    ownerReferences: {
      type: 'array',
      items: { type: 'object' },
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
      [PATCH_STRATEGY]: MERGE_DIRECTIVE,
      [PATCH_MERGE_KEY]: 'uid',
    },
    managedFields: { type: 'array', items: { type: 'object' } },
  },
};

/** The schema of field `key` of an object schema (declared property, else the additionalProperties schema). */
function fieldSchema(schema: JsonSchema | undefined, key: string): JsonSchema | undefined {
  if (!schema) return undefined;
  let sub = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
  if (!sub && isObj(schema.additionalProperties)) sub = schema.additionalProperties as JsonSchema;
  if (key === 'metadata' && (schema['x-strategic-root'] === true || schema['x-kubernetes-embedded-resource'] === true)) {
    return { ...OBJECT_META_PATCH_SCHEMA, ...sub, properties: { ...OBJECT_META_PATCH_SCHEMA.properties, ...sub?.properties } };
  }
  return sub;
}

/** LookupPatchMetadataForStruct: the field's schema and its patch metadata. */
function lookupStruct(schema: JsonSchema | undefined, key: string): [JsonSchema | undefined, PatchMeta] {
  const sub = fieldSchema(schema, key);
  return [sub, patchMetaOf(sub)];
}

/** LookupPatchMetadataForSlice: the schema of the list's items and the list's patch metadata. */
function lookupSlice(schema: JsonSchema | undefined, key: string): [JsonSchema | undefined, PatchMeta] {
  const sub = fieldSchema(schema, key);
  return [sub?.items, patchMetaOf(sub)];
}

/** The Name() upstream's PatchMetaFromStruct gives an element type: its reflect.Kind. */
function kindName(schema: JsonSchema | undefined): string {
  return schema?.properties ? 'struct' : 'map';
}

function extractRetainKeysPatchStrategy(strategies: string[]): [boolean, string] {
  switch (strategies.length) {
    case 0:
      return [false, ''];
    case 1:
      return strategies[0] === RETAIN_KEYS_STRATEGY ? [true, ''] : [false, strategies[0]];
    case 2:
      if (strategies[0] === RETAIN_KEYS_STRATEGY) return [true, strategies[1]];
      if (strategies[1] === RETAIN_KEYS_STRATEGY) return [true, strategies[0]];
      break;
  }
  throw malformed(`unexpected patch strategy: [${strategies.join(' ')}]`);
}

/** The published OpenAPI's view of a schema: every list this module merges gets the extensions kubectl reads. */
export function openApiPatchExtensions(schema: JsonSchema): JsonSchema {
  const walk = (s: JsonSchema): JsonSchema => {
    const out: JsonSchema = { ...s };
    if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, walk(v)]));
    if (isObj(s.additionalProperties)) out.additionalProperties = walk(s.additionalProperties as JsonSchema);
    if (s.items) out.items = walk(s.items);
    if ((s.type === 'array' || s.items) && typeof s[PATCH_STRATEGY] !== 'string') {
      const meta = patchMetaOf(s);
      if (meta.strategies.length) {
        out[PATCH_STRATEGY] = meta.strategies.join(',');
        if (meta.mergeKey) out[PATCH_MERGE_KEY] = meta.mergeKey;
      }
    }
    return out;
  };
  return walk(schema);
}

// ---- the merge (patch.go, apply half) ----

/**
 * Applies a strategic merge patch to `original` as kube-apiserver's strategicPatchObject does, with `schema` the kind's
 * JSON Schema (metadata is patched with ObjectMeta's tags). Neither argument is modified. A null patch is empty;
 * a patch that is not a JSON object is a 400, as decoding it into map[string]interface{} fails upstream.
 */
export function applyStrategicMergePatch(original: Obj, patch: unknown, schema: JsonSchema): Obj {
  if (patch === null || patch === undefined) patch = {};
  if (!isObj(patch)) {
    const what = Array.isArray(patch) ? 'array' : typeof patch === 'boolean' ? 'bool' : typeof patch;
    throw badRequest(`json: cannot unmarshal ${what} into Go value of type map[string]interface {}`);
  }
  const root: JsonSchema = { ...schema, 'x-strategic-root': true };
  return mergeMap(copyJson(original), copyJson(patch), root);
}

function mergeMap(original: Obj | undefined, patch: Obj, schema: JsonSchema | undefined): Obj {
  if (has(patch, DIRECTIVE_MARKER)) return handleDirectiveInMergeMap(patch[DIRECTIVE_MARKER], patch);
  const orig: Obj = original ?? {};
  applyRetainKeysDirective(orig, patch);
  mergePatchIntoOriginal(orig, patch, schema);

  for (const [rawKey, patchV] of Object.entries(patch)) {
    let k = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
      k = extractKey(rawKey, DELETE_FROM_PRIMITIVE_LIST_PREFIX);
      isDeleteList = true;
    }
    // A null deletes the key; IgnoreUnmatchedNulls: nothing else to do.
    if (patchV === null) {
      delete orig[k];
      continue;
    }
    if (!has(orig, k) || kindOf(orig[k]) !== kindOf(patchV)) {
      if (!isDeleteList) {
        discardNullValuesFromPatch(patchV);
        const [v, keep] = removeDirectives(patchV);
        if (keep) setOwn(orig, k, v);
        else delete orig[k];
      }
      continue;
    }
    switch (kindOf(patchV)) {
      case 'map': {
        const [sub, meta] = lookupStruct(schema, k);
        const [, strategy] = extractRetainKeysPatchStrategy(meta.strategies);
        orig[k] = strategy !== REPLACE_DIRECTIVE ? mergeMap(orig[k] as Obj, patchV as Obj, sub) : patchV;
        break;
      }
      case 'slice': {
        const [sub, meta] = lookupSlice(schema, k);
        const [, strategy] = extractRetainKeysPatchStrategy(meta.strategies);
        orig[k] = mergeSliceHandler(orig[k], patchV, sub, strategy, meta.mergeKey, isDeleteList);
        break;
      }
      default: {
        const [v, keep] = removeDirectives(patchV);
        if (keep) orig[k] = v;
        else delete orig[k];
      }
    }
  }
  return orig;
}

function handleDirectiveInMergeMap(directive: unknown, patch: Obj): Obj {
  if (directive === REPLACE_DIRECTIVE) {
    // "$patch: replace": the patch (less the directive) is the new value.
    delete patch[DIRECTIVE_MARKER];
    return patch;
  }
  if (directive === DELETE_DIRECTIVE) return {};
  throw errBadPatchType(directive, patch);
}

function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    if (prefix === DELETE_FROM_PRIMITIVE_LIST_PREFIX) throw badRequest(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST);
    throw badRequest(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST);
  }
  return s.slice(slash + 1);
}

function discardNullValuesFromPatch(v: unknown): void {
  if (Array.isArray(v)) {
    for (const item of v) discardNullValuesFromPatch(item);
  } else if (isObj(v)) {
    for (const [k, child] of Object.entries(v)) {
      if (child === null) delete v[k];
      else discardNullValuesFromPatch(child);
    }
  }
}

/** Strips directives from a value taken from the patch as is; a map holding `$patch` is dropped altogether. */
function removeDirectives(v: unknown): [unknown, boolean] {
  if (isObj(v)) {
    if (has(v, DIRECTIVE_MARKER)) return [null, false];
    for (const [k, child] of Object.entries(v)) {
      const [nv, keep] = removeDirectives(child);
      if (keep) v[k] = nv;
      else delete v[k];
    }
    return [v, true];
  }
  if (Array.isArray(v)) {
    const res: unknown[] = [];
    for (const item of v) {
      const [nv, keep] = removeDirectives(item);
      if (keep) res.push(nv);
    }
    return [res, true];
  }
  return [v, true];
}

/** `$retainKeys`: keys of the original not listed are cleared; the patch may only set listed keys. */
function applyRetainKeysDirective(original: Obj, patch: Obj): void {
  if (!has(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const list = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(list)) throw badRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS);
  const retained = (k: string) => list.some((x) => scalarEqual(x, k));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) || k.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    if (!retained(k)) throw badRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!retained(k)) delete original[k];
}

/**
 * `$setElementOrder/<list>`: merges the list with its patch and orders the result — $setElementOrder first, then the
 * order in the patch, then the live order (design-proposals-archive cli/preserve-order-in-strategic-merge-patch.md).
 */
function mergePatchIntoOriginal(original: Obj, patch: Obj, schema: JsonSchema | undefined): void {
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    delete patch[key];
    if (!Array.isArray(order)) throw errBadArgType('slice', order);
    const originalKey = extractKey(key, SET_ELEMENT_ORDER_PREFIX);
    const foundOriginal = has(original, originalKey);
    const foundPatch = has(patch, originalKey);
    let originalList: unknown[] = [];
    let patchList: unknown[] = [];
    if (foundOriginal) {
      if (!Array.isArray(original[originalKey])) throw errBadArgType('slice', original[originalKey]);
      originalList = original[originalKey] as unknown[];
    }
    if (foundPatch) {
      if (!Array.isArray(patch[originalKey])) throw errBadArgType('slice', patch[originalKey]);
      patchList = patch[originalKey] as unknown[];
    }
    const [sub, declared] = lookupSlice(schema, originalKey);
    const meta = fieldSchema(schema, originalKey) ? declared : inferredFromOrder(order);
    const [, strategy] = extractRetainKeysPatchStrategy(meta.strategies);
    validatePatchWithSetOrderList(patchList, order, meta.mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) merged = removeDirectives(patchList)[0] as unknown[];
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalList, patchList, sub, strategy, meta.mergeKey, false);
    else continue;

    const [patchItems, serverOnly] = meta.mergeKey
      ? partitionMapsByPresentInList(merged, order, meta.mergeKey)
      : partitionPrimitivesByPresentInList(merged, order);
    const kind = sliceElementKind(originalList, patchList);
    original[originalKey] = normalizeElementOrder(patchItems, serverOnly, order, originalList, meta.mergeKey, kind);
    delete patch[originalKey];
  }
}

/**
 * A list the schema does not describe (under x-kubernetes-preserve-unknown-fields, e.g. a stored Pod's containers)
 * has no patch metadata here, while the client that sent `$setElementOrder` for it built the patch from metadata it
 * had (kubectl's compiled-in types): the order list itself says how — entries holding only the merge key, or
 * scalars. Taking that rather than replacing keeps `kubectl apply`/`edit` from dropping the unchanged fields of items.
 */
function inferredFromOrder(order: unknown[]): PatchMeta {
  if (order.length === 0) return { strategies: [], mergeKey: '' };
  if (order.every((v) => kindOf(v) === 'string' || kindOf(v) === 'number' || kindOf(v) === 'bool')) {
    return { strategies: [MERGE_DIRECTIVE], mergeKey: '' };
  }
  const keys = new Set(order.map((v) => (isObj(v) && Object.keys(v).length === 1 ? Object.keys(v)[0] : '')));
  const [key] = [...keys];
  return keys.size === 1 && key ? { strategies: [MERGE_DIRECTIVE], mergeKey: key } : { strategies: [], mergeKey: '' };
}

function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList)[0] : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < order.length) {
    if (isObj(nonDelete[p]) && has(nonDelete[p] as Obj, DIRECTIVE_MARKER)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(nonDelete[p], order[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= order.length) {
    throw malformed(`the order in patch list:\n${goString(patchList)}\n doesn't match ${SET_ELEMENT_ORDER_PREFIX} list:\n${goString(order)}`);
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return scalarEqual(left, right);
  if (!isObj(left)) throw errBadArgType('map', left);
  if (!isObj(right)) throw errBadArgType('map', right);
  if (!has(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!has(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return scalarEqual(left[mergeKey], right[mergeKey]);
}

function mergeSliceHandler(
  original: unknown,
  patch: unknown,
  itemSchema: JsonSchema | undefined,
  strategy: string,
  mergeKey: string,
  isDeleteList: boolean,
): unknown[] {
  if (!Array.isArray(original)) throw errBadArgType('slice', original);
  if (!Array.isArray(patch)) throw errBadArgType('slice', patch);
  // Delete lists are handled the same way whatever the field's strategy.
  if (strategy === MERGE_DIRECTIVE || isDeleteList) return mergeSlice(original, patch, itemSchema, mergeKey, isDeleteList);
  return patch;
}

/** sliceElementType: every element of every list one type, and not a list. */
function sliceElementKind(...lists: unknown[][]): JsonKind {
  let prev: JsonKind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = kindOf(v);
      if (prev === undefined) {
        prev = k;
        if (k === 'slice') throw unprocessable();
      } else if (prev !== k) {
        throw malformed(`list element types are not identical: [${lists.map(goString).join(' ')}]`);
      }
    }
  }
  if (prev === undefined) throw malformed('no elements in any of the given slices');
  return prev;
}

function mergeSlice(original: unknown[], patch: unknown[], itemSchema: JsonSchema | undefined, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  let merged: unknown[];
  if (kind !== 'map') {
    if (isDeleteList) return original.filter((v) => !patch.some((d) => scalarEqual(d, v)));
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (!mergeKey) throw malformed(`cannot merge lists without merge key for ${kindName(itemSchema)}`);
    [original, patch] = mergeSliceWithSpecialElements(original, patch, mergeKey);
    merged = mergeSliceWithoutSpecialElements(original, patch, mergeKey, itemSchema);
  }
  const [patchItems, serverOnly] = mergeKey
    ? partitionMapsByPresentInList(merged, patch, mergeKey)
    : partitionPrimitivesByPresentInList(merged, patch);
  return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
}

/** `$patch: delete` items remove their key from the original; one `$patch: replace` item makes the rest the list. */
function mergeSliceWithSpecialElements(original: unknown[], patch: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const plainItems: unknown[] = [];
  let replace = false;
  let orig = original;
  for (const v of patch) {
    const item = v as Obj;
    if (!has(item, DIRECTIVE_MARKER)) {
      plainItems.push(v);
      continue;
    }
    const directive = item[DIRECTIVE_MARKER];
    if (directive === DELETE_DIRECTIVE) {
      if (!has(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      orig = deleteMatchingEntries(orig, mergeKey, item[mergeKey]);
    } else if (directive === REPLACE_DIRECTIVE) {
      replace = true;
    } else if (directive === MERGE_DIRECTIVE) {
      throw malformed('merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, item);
    }
  }
  return replace ? [plainItems, []] : [orig, plainItems];
}

function findMapInSliceBasedOnKeyValue(list: unknown[], key: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (!isObj(v)) throw malformed(`value for key ${i} is not a map`);
    if (has(v, key) && scalarEqual(v[key], value)) return i;
  }
  return -1;
}

function deleteMatchingEntries(original: unknown[], mergeKey: string, value: unknown): unknown[] {
  const out = [...original];
  for (let i = findMapInSliceBasedOnKeyValue(out, mergeKey, value); i >= 0; i = findMapInSliceBasedOnKeyValue(out, mergeKey, value)) {
    out.splice(i, 1);
  }
  return out;
}

function mergeSliceWithoutSpecialElements(original: unknown[], patch: unknown[], mergeKey: string, itemSchema: JsonSchema | undefined): unknown[] {
  const out = [...original];
  for (const v of patch) {
    const item = v as Obj;
    if (!has(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    const i = findMapInSliceBasedOnKeyValue(out, mergeKey, item[mergeKey]);
    if (i >= 0) {
      const mergedItem = mergeMap(out[i] as Obj, item, itemSchema);
      out[i] = mergedItem;
      // mergeMap merges in place, so the live list (the server order) sees the merged item too, as upstream's does.
      if (i < original.length) original[i] = mergedItem;
    } else {
      out.push(v);
    }
  }
  return out;
}

/** upstream's deduplicateScalars, including the order it leaves (a duplicate's slot takes the last element). */
function deduplicateScalars(s: unknown[]): unknown[] {
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (scalarEqual(s[i], s[j])) {
        s[j] = s[length];
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

function partitionPrimitivesByPresentInList(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) (by.some((b) => scalarEqual(b, v)) ? inPatch : serverOnly).push(v);
  return [inPatch, serverOnly];
}

function partitionMapsByPresentInList(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of list) {
    if (!isObj(v)) throw errBadArgType('map', v);
    if (!has(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    (findMapInSliceBasedOnKeyValue(by, mergeKey, v[mergeKey]) >= 0 ? inPatch : serverOnly).push(v);
  }
  return [inPatch, serverOnly];
}

function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const toDelete: unknown[] = [];
  for (const v of list) {
    if (!isObj(v)) throw errBadArgType('map', v);
    (v[DIRECTIVE_MARKER] === DELETE_DIRECTIVE ? toDelete : keep).push(v);
  }
  return [keep, toDelete];
}

function indexIn(list: unknown[], value: unknown, mergeKey: string, kind: JsonKind): number {
  const val = (item: unknown) => (kind === 'map' ? (isObj(item) ? item[mergeKey] : undefined) : item);
  const want = val(value);
  return list.findIndex((v) => scalarEqual(val(v), want));
}

/** normalizeSliceOrder: `toSort` in the order of `order` (stable), `$patch: delete` items last. */
function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: JsonKind): unknown[] {
  let toDelete: unknown[] = [];
  let items = toSort;
  if (kind === 'map') {
    for (const list of [toSort, order]) {
      for (const item of list) {
        if (!isObj(item)) throw errBadArgType('map', item);
        if (!has(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      }
    }
    [items, toDelete] = extractToDeleteItems(toSort);
  }
  const sorted = [...items].sort((a, b) => {
    const ia = indexIn(order, a, mergeKey, kind);
    const ib = indexIn(order, b, mergeKey, kind);
    return ia >= 0 && ib >= 0 ? ia - ib : 0;
  });
  return [...sorted, ...toDelete];
}

function normalizeElementOrder(
  patch: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: JsonKind,
): unknown[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

/**
 * Interleaves server-only items (left) into the patch items (right): each left item goes before the first right item
 * that comes after it in the live list; relative orders within each side are kept.
 */
function mergeSortedSlice(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string, kind: JsonKind): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}
