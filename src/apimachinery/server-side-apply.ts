// Server-side apply (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager + sigs.k8s.io/structured-merge-diff):
// merge an applied configuration into the live object along the schema's list/map types, detect conflicts with
// other managers, remove what this manager applied before and no longer applies (unless someone else owns it),
// and record the manager's Apply entry. Pure functions over plain JSON; the registry does storage and validation.

import {
  fieldValuesOf,
  fromFieldsV1,
  objectMetaSchema,
  toFieldsV1,
  type FieldValues,
  type ManagedFieldsEntry,
  type SchemaNode,
} from './managed-fields.js';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function childSchema(schema: SchemaNode | undefined, key: string): SchemaNode | undefined {
  if (!schema) return undefined;
  if (schema.properties?.[key]) return schema.properties[key];
  return isObject(schema.additionalProperties) ? (schema.additionalProperties as SchemaNode) : undefined;
}

function keyOf(item: unknown, keys: string[]): string {
  const o: Obj = {};
  for (const k of [...keys].sort()) o[k] = isObject(item) ? item[k] : undefined;
  return JSON.stringify(o);
}

/** The applied configuration merged into the live value, along the schema (structured-merge-diff's merge). */
export function mergeApplied(live: unknown, config: unknown, schema: SchemaNode | undefined): unknown {
  if (isObject(config)) {
    if (!isObject(live) || schema?.['x-kubernetes-map-type'] === 'atomic') return structuredClone(config);
    const out: Obj = { ...live };
    for (const [k, v] of Object.entries(config)) out[k] = mergeApplied(live[k], v, childSchema(schema, k));
    return out;
  }
  if (Array.isArray(config) && Array.isArray(live)) {
    const listType = schema?.['x-kubernetes-list-type'];
    const keys = schema?.['x-kubernetes-list-map-keys'];
    if (listType === 'map' && keys?.length) {
      const out = [...live];
      for (const item of config) {
        const i = out.findIndex((x) => keyOf(x, keys) === keyOf(item, keys));
        if (i >= 0) out[i] = mergeApplied(out[i], item, schema?.items);
        else out.push(structuredClone(item));
      }
      return out;
    }
    if (listType === 'set') {
      const out = [...live];
      for (const item of config) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(item))) out.push(item);
      return out;
    }
  }
  return structuredClone(config);
}

/** Removes the field a path names (f:, k:, v:), in place; parents left empty stay (as upstream leaves them). */
export function removePath(obj: Obj, path: string[]): void {
  let cur: unknown = obj;
  for (let i = 0; i < path.length; i++) {
    const el = path[i];
    const last = i === path.length - 1;
    if (el.startsWith('f:')) {
      if (!isObject(cur)) return;
      const key = el.slice(2);
      if (last) delete cur[key];
      else cur = cur[key];
    } else if (el.startsWith('k:') || el.startsWith('v:')) {
      if (!Array.isArray(cur)) return;
      const want = JSON.parse(el.slice(2)) as unknown;
      const idx = el.startsWith('v:')
        ? cur.findIndex((x) => JSON.stringify(x) === JSON.stringify(want))
        : cur.findIndex((x) => keyOf(x, Object.keys(want as Obj)) === JSON.stringify(want));
      if (idx < 0) return;
      if (last) cur.splice(idx, 1);
      else cur = cur[idx];
    } else {
      return;
    }
  }
}

/** fieldpath.Path's String(): `.spec.x`, `.status.conditions[type="Ready"].status`, `.metadata.finalizers[="f"]`. */
export function pathString(path: string[]): string {
  return path
    .map((el) => {
      if (el.startsWith('f:')) return `.${el.slice(2)}`;
      if (el.startsWith('v:')) return `[=${el.slice(2)}]`;
      if (el.startsWith('k:')) {
        const keys = JSON.parse(el.slice(2)) as Obj;
        return `[${Object.entries(keys)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      return el;
    })
    .join('');
}

export interface ApplyConflict {
  entry: ManagedFieldsEntry;
  path: string[];
}

export interface ApplyInput {
  live: Obj | undefined;
  config: Obj;
  manager: string;
  apiVersion: string;
  time: string;
  force: boolean;
  subresource?: string;
  schema?: SchemaNode;
  statusFields: string[];
}

export interface ApplyResult {
  object: Obj;
  managedFields: ManagedFieldsEntry[];
  conflicts: ApplyConflict[];
}

function sameScope(e: ManagedFieldsEntry, subresource: string | undefined): boolean {
  return (e.subresource ?? '') === (subresource ?? '');
}

/** The part of an object a write through `subresource` touches (the main resource: all but status). */
function scoped(obj: Obj, statusFields: string[], subresource: string | undefined): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'metadata') out[k] = v;
    else if (subresource === 'status' ? statusFields.includes(k) : !statusFields.includes(k)) out[k] = v;
  }
  if (subresource === 'status' && isObject(obj.metadata)) {
    const m = obj.metadata;
    out.metadata = { name: m.name, namespace: m.namespace };
  }
  return out;
}

export function applyConfiguration(input: ApplyInput): ApplyResult {
  const config = scoped(input.config, input.statusFields, input.subresource);
  const live = input.live ?? { metadata: {} };
  const entries = ((live.metadata as Obj | undefined)?.managedFields as ManagedFieldsEntry[] | undefined) ?? [];
  const liveValues: FieldValues = fieldValuesOf(live, input.schema, input.statusFields, input.subresource);
  const configValues: FieldValues = fieldValuesOf(config, input.schema, input.statusFields, input.subresource);

  const changed = new Set<string>();
  for (const [p, v] of configValues) if (liveValues.get(p) !== v) changed.add(p);

  const isMine = (e: ManagedFieldsEntry) => e.manager === input.manager && e.operation === 'Apply' && sameScope(e, input.subresource);
  const conflicts: ApplyConflict[] = [];
  for (const e of entries) {
    if (isMine(e) || !sameScope(e, input.subresource)) continue;
    const owned = fromFieldsV1(e.fieldsV1 ?? {});
    for (const p of changed) if (owned.has(p)) conflicts.push({ entry: e, path: JSON.parse(p) as string[] });
  }

  let object = mergeApplied(live, config, { properties: { ...(input.schema?.properties ?? {}), metadata: objectMetaSchema } }) as Obj;
  const previous = entries.find(isMine);
  const previousSet = previous ? fromFieldsV1(previous.fieldsV1 ?? {}) : new Set<string>();
  const ownedByOthers = new Set<string>();
  for (const e of entries) {
    if (isMine(e) || !sameScope(e, input.subresource)) continue;
    for (const p of fromFieldsV1(e.fieldsV1 ?? {})) ownedByOthers.add(p);
  }
  // A node someone else still owns something under (a label map another manager added keys to) stays.
  const othersUnder = (p: string) => {
    const prefix = p.slice(0, -1);
    for (const o of ownedByOthers) if (o === p || o.startsWith(`${prefix},`)) return true;
    return false;
  };
  const removed = [...previousSet].filter((p) => !configValues.has(p) && !othersUnder(p));
  // Deepest first, so a node goes after what it contains.
  removed.sort((a, b) => (JSON.parse(b) as string[]).length - (JSON.parse(a) as string[]).length);
  object = structuredClone(object);
  for (const p of removed) removePath(object, JSON.parse(p) as string[]);

  const managedFields: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (isMine(e)) continue;
    if (!sameScope(e, input.subresource)) {
      managedFields.push(e);
      continue;
    }
    const owned = fromFieldsV1(e.fieldsV1 ?? {});
    let touched = false;
    for (const p of changed) if (owned.delete(p)) touched = true;
    if (!touched) managedFields.push(e);
    else if (owned.size) managedFields.push({ ...e, fieldsV1: toFieldsV1(owned) });
  }
  if (configValues.size) {
    const entry: ManagedFieldsEntry = {
      manager: input.manager,
      operation: 'Apply',
      apiVersion: input.apiVersion,
      time: input.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(configValues.keys()),
    };
    if (input.subresource) entry.subresource = input.subresource;
    managedFields.push(entry);
  }
  return { object, managedFields, conflicts };
}

/** fieldmanager's printManager: `"name"`, plus ` using <apiVersion>` for Update managers. */
export function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

/** The 409 message of fieldmanager's NewConflictError. */
export function conflictMessage(conflicts: ApplyConflict[]): string {
  if (conflicts.length === 1) {
    return `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].entry)}: ${pathString(conflicts[0].path)}`;
  }
  const byManager = new Map<string, ApplyConflict[]>();
  for (const c of conflicts) {
    const key = printManager(c.entry);
    byManager.set(key, [...(byManager.get(key) ?? []), c]);
  }
  const lines: string[] = [];
  for (const key of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${key}:`);
    for (const c of byManager.get(key)!) lines.push(`- ${pathString(c.path)}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}
