// managedFields bookkeeping for Update operations (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager and
// sigs.k8s.io/structured-merge-diff fieldpath): which manager last set which field, as FieldsV1 trees
// (`f:<field>`, `k:<json keys>` for map-type list items, `v:<json>` for set items, `".": {}` for a node owned itself).
// Schema-aware: maps with free keys (additionalProperties) and list items carry ".", structs do not — as upstream.

export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  [key: string]: unknown;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldsV1;
  subresource?: string;
}

export type FieldsV1 = { [key: string]: FieldsV1 };

/** metadata.labels/annotations are maps, finalizers a set, ownerReferences a map keyed by uid (ObjectMeta's tags). */
export const objectMetaSchema: SchemaNode = {
  type: 'object',
  properties: {
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
    ownerReferences: {
      type: 'array',
      items: { type: 'object' },
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
    },
  },
};

const untrackedMetadata = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
  'generateName',
]);

/** A flattened field set: path key (JSON array of path elements) → the JSON of what the path holds. */
export type FieldValues = Map<string, string>;

const OWN = '\u0000own';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function walk(value: unknown, schema: SchemaNode | undefined, path: string[], out: FieldValues): void {
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    const isMap = !schema?.properties && isPlainObject(schema?.additionalProperties);
    const atomic = schema?.['x-kubernetes-map-type'] === 'atomic';
    if (atomic || keys.length === 0) {
      out.set(JSON.stringify(path), JSON.stringify(value));
      return;
    }
    if (isMap) out.set(JSON.stringify(path), OWN);
    for (const k of keys) {
      const childSchema = schema?.properties?.[k] ?? (isPlainObject(schema?.additionalProperties) ? schema.additionalProperties : undefined);
      walk(value[k], childSchema, [...path, `f:${k}`], out);
    }
    return;
  }
  if (Array.isArray(value)) {
    const listType = schema?.['x-kubernetes-list-type'];
    if (listType === 'set') {
      out.set(JSON.stringify(path), OWN);
      for (const item of value) out.set(JSON.stringify([...path, `v:${JSON.stringify(item)}`]), JSON.stringify(item));
      return;
    }
    const keys = schema?.['x-kubernetes-list-map-keys'];
    if (listType === 'map' && keys?.length) {
      out.set(JSON.stringify(path), OWN);
      for (const item of value) {
        if (!isPlainObject(item)) continue;
        const keyObj: Record<string, unknown> = {};
        for (const k of [...keys].sort()) keyObj[k] = item[k];
        const itemPath = [...path, `k:${JSON.stringify(keyObj)}`];
        out.set(JSON.stringify(itemPath), OWN);
        walk(item, schema?.items, itemPath, out);
        // A walked item with only its keys still records them as leaves, which is what upstream does.
      }
      return;
    }
  }
  out.set(JSON.stringify(path), JSON.stringify(value));
}

/**
 * The tracked fields of an object. `scope` picks the part a write may touch: the main resource tracks everything but
 * the status fields; a `status` write tracks only them.
 */
export function fieldValuesOf(
  obj: Record<string, unknown>,
  schema: SchemaNode | undefined,
  statusFields: string[],
  subresource: string | undefined,
): FieldValues {
  const out: FieldValues = new Map();
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    const isStatus = statusFields.includes(k);
    if (subresource === 'status' ? !isStatus : isStatus) continue;
    if (k === 'metadata') {
      if (!isPlainObject(v)) continue;
      const meta: Record<string, unknown> = {};
      for (const [mk, mv] of Object.entries(v)) if (!untrackedMetadata.has(mk)) meta[mk] = mv;
      if (Object.keys(meta).length === 0) continue;
      walk(meta, objectMetaSchema, ['f:metadata'], out);
      continue;
    }
    walk(v, schema?.properties?.[k], [`f:${k}`], out);
  }
  return out;
}

interface TreeNode {
  own: boolean;
  children: Map<string, TreeNode>;
}

export function toFieldsV1(paths: Iterable<string>): FieldsV1 {
  const root: TreeNode = { own: false, children: new Map() };
  for (const key of paths) {
    let node = root;
    for (const el of JSON.parse(key) as string[]) {
      let next = node.children.get(el);
      if (!next) {
        next = { own: false, children: new Map() };
        node.children.set(el, next);
      }
      node = next;
    }
    node.own = true;
  }
  const render = (node: TreeNode): FieldsV1 => {
    const out: FieldsV1 = {};
    if (node.own && node.children.size > 0) out['.'] = {};
    for (const k of [...node.children.keys()].sort()) out[k] = render(node.children.get(k)!);
    return out;
  };
  return render(root);
}

export function fromFieldsV1(tree: FieldsV1): Set<string> {
  const out = new Set<string>();
  const visit = (node: FieldsV1, path: string[]): void => {
    const keys = Object.keys(node);
    if (keys.length === 0 || keys.includes('.')) {
      if (path.length) out.add(JSON.stringify(path));
    }
    for (const k of keys) if (k !== '.') visit(node[k], [...path, k]);
  };
  visit(tree, []);
  return out;
}

export interface UpdateManagedFieldsInput {
  oldObject: Record<string, unknown> | undefined;
  newObject: Record<string, unknown>;
  manager: string;
  apiVersion: string;
  /** RFC 3339, seconds. */
  time: string;
  subresource?: string;
  schema?: SchemaNode;
  statusFields: string[];
}

/**
 * The managedFields after an Update by `manager`: it gains every field the write changed or added, other managers
 * lose those and every field the write removed; entries left empty are dropped.
 */
export function updateManagedFields(entries: ManagedFieldsEntry[], input: UpdateManagedFieldsInput): ManagedFieldsEntry[] {
  const before = input.oldObject
    ? fieldValuesOf(input.oldObject, input.schema, input.statusFields, input.subresource)
    : new Map<string, string>();
  const after = fieldValuesOf(input.newObject, input.schema, input.statusFields, input.subresource);
  const changed = new Set<string>();
  for (const [k, v] of after) if (before.get(k) !== v) changed.add(k);
  const removed = new Set<string>();
  for (const k of before.keys()) if (!after.has(k)) removed.add(k);
  if (changed.size === 0 && removed.size === 0) return entries;

  const out: ManagedFieldsEntry[] = [];
  let mine: ManagedFieldsEntry | undefined;
  for (const e of entries) {
    const isMine =
      e.manager === input.manager && e.operation === 'Update' && (e.subresource ?? '') === (input.subresource ?? '');
    const set = fromFieldsV1(e.fieldsV1 ?? {});
    if (isMine) {
      for (const k of changed) set.add(k);
      for (const k of removed) set.delete(k);
      mine = { ...e, apiVersion: input.apiVersion, time: input.time, fieldsV1: toFieldsV1(set) };
      if (set.size) out.push(mine);
      continue;
    }
    const sameScope = (e.subresource ?? '') === (input.subresource ?? '');
    if (sameScope) {
      let touched = false;
      for (const k of [...changed, ...removed]) if (set.delete(k)) touched = true;
      if (!touched) {
        out.push(e);
        continue;
      }
      if (set.size) out.push({ ...e, fieldsV1: toFieldsV1(set) });
      continue;
    }
    out.push(e);
  }
  if (!mine && changed.size) {
    const entry: ManagedFieldsEntry = {
      manager: input.manager,
      operation: 'Update',
      apiVersion: input.apiVersion,
      time: input.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(changed),
    };
    if (input.subresource) entry.subresource = input.subresource;
    out.push(entry);
  }
  return out;
}

/** upstream's default manager name when the request names none: the User-Agent up to the first '/'. */
export function managerFromUserAgent(userAgent: string | undefined): string {
  const s = (userAgent ?? '').split('/')[0];
  return s.length > 128 ? s.slice(0, 128) : s;
}
