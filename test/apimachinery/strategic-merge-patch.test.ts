import t from 'tap';
import type { JsonSchema } from '../../src/apimachinery/json-schema.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import {
  applyStrategicMergePatch,
  goString,
  openApiPatchExtensions,
  patchMetaOf,
} from '../../src/apimachinery/strategic-merge-patch.js';

const item: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    value: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
  },
};

const schema: JsonSchema = {
  type: 'object',
  properties: {
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      properties: {
        items: { type: 'array', items: item, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
        atomic: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' },
        unmarked: { type: 'array', items: item },
        set: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
        multi: {
          type: 'array',
          items: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } },
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['a', 'b'],
        },
        explicit: { type: 'array', items: item, 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'value' },
        nested: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } },
        replaced: { type: 'object', 'x-kubernetes-patch-strategy': 'replace', properties: { a: { type: 'string' }, b: { type: 'string' } } },
        retained: {
          type: 'object',
          'x-kubernetes-patch-strategy': 'retainKeys',
          properties: { type: { type: 'string' }, x: { type: 'string' }, y: { type: 'string' } },
        },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  },
};

type Obj = Record<string, unknown>;

function apply(original: Obj, patch: unknown): Obj {
  return applyStrategicMergePatch(original, patch, schema);
}

function spec(s: Obj): Obj {
  return { metadata: { name: 'x' }, spec: s };
}

function statusErrorOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  throw new Error('expected a StatusError');
}

t.test('maps merge key by key; null deletes; nulls in new values are dropped', async (t) => {
  const got = apply(
    { metadata: { name: 'x', labels: { a: '1', b: '2' } }, spec: { nested: { a: 'x', b: 'y' } } },
    { metadata: { labels: { b: null, c: '3' } }, spec: { nested: { b: 'z' }, fresh: { k: 'v', gone: null } } },
  );
  t.same(got, {
    metadata: { name: 'x', labels: { a: '1', c: '3' } },
    spec: { nested: { a: 'x', b: 'z' }, fresh: { k: 'v' } },
  });
  t.same(apply(spec({ nested: { a: 'x' } }), { spec: { nested: null } }), spec({}));
  t.same(apply(spec({}), { spec: { missing: null } }), spec({}), 'a null for an absent key is ignored');
  t.same(apply(spec({ nested: 'scalar' }), { spec: { nested: { a: 'b' } } }), spec({ nested: { a: 'b' } }), 'type change replaces');
});

t.test('a list-type map merges items by its key; $patch delete/replace items', async (t) => {
  const orig = spec({ items: [{ name: 'a', value: '1' }, { name: 'b', value: '2', tags: ['x'] }] });
  t.same(apply(orig, { spec: { items: [{ name: 'b', value: '3', tags: ['y'] }, { name: 'c', value: '4' }] } }), spec({
    items: [{ name: 'a', value: '1' }, { name: 'b', value: '3', tags: ['y', 'x'] }, { name: 'c', value: '4' }],
  }), 'nested set inside an item merges too');
  t.same(apply(orig, { spec: { items: [{ name: 'a', $patch: 'delete' }] } }), spec({ items: [{ name: 'b', value: '2', tags: ['x'] }] }));
  t.same(apply(orig, { spec: { items: [{ name: 'z' }, { $patch: 'replace' }] } }), spec({ items: [{ name: 'z' }] }));
  t.same(apply(orig, { spec: { items: [{ name: 'b', value: null }] } }), spec({ items: [{ name: 'a', value: '1' }, { name: 'b', tags: ['x'] }] }));
  // Patch order first, server-only items slotted in by their live position.
  t.same(apply(orig, { spec: { items: [{ name: 'c' }, { name: 'a', value: '9' }] } }), spec({
    items: [{ name: 'c' }, { name: 'a', value: '9' }, { name: 'b', value: '2', tags: ['x'] }],
  }));
});

t.test('explicit x-kubernetes-patch-strategy / merge-key win over list-type markers', async (t) => {
  const orig = spec({ explicit: [{ name: 'a', value: '1' }, { name: 'b', value: '2' }] });
  t.same(apply(orig, { spec: { explicit: [{ name: 'c', value: '1' }] } }), spec({ explicit: [{ name: 'c', value: '1' }, { name: 'b', value: '2' }] }));
  t.same(apply(spec({ replaced: { a: '1', b: '2' } }), { spec: { replaced: { a: '3' } } }), spec({ replaced: { a: '3' } }));
});

t.test('atomic, unmarked and multi-key lists are replaced whole', async (t) => {
  t.same(apply(spec({ atomic: ['a', 'b'] }), { spec: { atomic: ['c'] } }), spec({ atomic: ['c'] }));
  t.same(apply(spec({ unmarked: [{ name: 'a' }] }), { spec: { unmarked: [{ name: 'b' }] } }), spec({ unmarked: [{ name: 'b' }] }));
  t.same(apply(spec({ multi: [{ a: '1', b: '1' }] }), { spec: { multi: [{ a: '2', b: '2' }] } }), spec({ multi: [{ a: '2', b: '2' }] }));
  t.same(apply(spec({ free: { l: [1, 2], m: { x: 1 } } }), { spec: { free: { l: [3], m: { y: 2 } } } }), spec({ free: { l: [3], m: { x: 1, y: 2 } } }));
});

t.test('a set of scalars is a union; $deleteFromPrimitiveList removes', async (t) => {
  t.same(apply(spec({ set: ['a', 'b'] }), { spec: { set: ['b', 'c'] } }), spec({ set: ['a', 'b', 'c'] }));
  t.same(apply(spec({ set: ['a', 'b'] }), { spec: { set: ['c', 'a'] } }), spec({ set: ['c', 'a', 'b'] }));
  t.same(
    apply({ metadata: { name: 'x', finalizers: ['a', 'b', 'c'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'zz'] } }),
    { metadata: { name: 'x', finalizers: ['a', 'c'] } },
  );
  t.same(
    apply({ metadata: { name: 'x' } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'] } }),
    { metadata: { name: 'x' } },
    'nothing to delete from',
  );
});

t.test('metadata: finalizers merge, ownerReferences merge by uid, managedFields replace', async (t) => {
  const got = apply(
    {
      metadata: {
        name: 'x',
        finalizers: ['f1'],
        ownerReferences: [{ uid: 'u1', name: 'o1', kind: 'K', apiVersion: 'v1' }],
        managedFields: [{ manager: 'a' }, { manager: 'b' }],
      },
    },
    { metadata: { finalizers: ['f2'], ownerReferences: [{ uid: 'u2', name: 'o2', kind: 'K', apiVersion: 'v1' }], managedFields: [{ manager: 'c' }] } },
  );
  // Without $setElementOrder, items the live list does not know come first (mergeSortedSlice: upstream prepends).
  t.same(got.metadata, {
    name: 'x',
    finalizers: ['f2', 'f1'],
    ownerReferences: [
      { uid: 'u2', name: 'o2', kind: 'K', apiVersion: 'v1' },
      { uid: 'u1', name: 'o1', kind: 'K', apiVersion: 'v1' },
    ],
    managedFields: [{ manager: 'c' }],
  });
});

t.test('$setElementOrder orders the merged list (what kubectl edit sends)', async (t) => {
  t.same(
    apply({ metadata: { name: 'x', finalizers: ['a', 'b'] } }, { metadata: { '$setElementOrder/finalizers': ['b', 'c', 'a'], finalizers: ['c'] } }),
    { metadata: { name: 'x', finalizers: ['b', 'c', 'a'] } },
  );
  // kubectl edit renaming finalizer b to c: a parallel delete list, the new item, the order.
  t.same(
    apply(
      { metadata: { name: 'x', finalizers: ['a', 'b'] } },
      { metadata: { '$setElementOrder/finalizers': ['a', 'c'], '$deleteFromPrimitiveList/finalizers': ['b'], finalizers: ['c'] } },
    ),
    { metadata: { name: 'x', finalizers: ['a', 'c'] } },
  );
  const orig = spec({ items: [{ name: 'a' }, { name: 'b' }, { name: 'c', value: '1' }] });
  t.same(apply(orig, { spec: { '$setElementOrder/items': [{ name: 'c' }, { name: 'b' }, { name: 'a' }] } }), spec({
    items: [{ name: 'c', value: '1' }, { name: 'b' }, { name: 'a' }],
  }), 'order only');
  t.same(
    apply(orig, {
      spec: { '$setElementOrder/items': [{ name: 'a' }, { name: 'c' }], items: [{ name: 'c', value: '9' }, { name: 'b', $patch: 'delete' }] },
    }),
    spec({ items: [{ name: 'a' }, { name: 'c', value: '9' }] }),
    'change one item, delete another',
  );
});

t.test('a list the schema does not describe follows the $setElementOrder kubectl sent for it', async (t) => {
  const orig = spec({ free: { containers: [{ name: 'a', image: '1', command: ['x'] }, { name: 'b', image: '2' }], args: ['p', 'q'] } });
  t.same(
    apply(orig, { spec: { free: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'a', image: '9' }] } } }),
    spec({ free: { containers: [{ name: 'a', image: '9', command: ['x'] }, { name: 'b', image: '2' }], args: ['p', 'q'] } }),
    'items merged by the key the order list holds',
  );
  t.same(
    apply(orig, { spec: { free: { '$setElementOrder/args': ['q', 'r'], '$deleteFromPrimitiveList/args': ['p'], args: ['r'] } } }),
    spec({ free: { containers: [{ name: 'a', image: '1', command: ['x'] }, { name: 'b', image: '2' }], args: ['q', 'r'] } }),
    'scalars merged as a set',
  );
  t.same(apply(orig, { spec: { free: { containers: [{ name: 'c' }] } } }), spec({ free: { containers: [{ name: 'c' }], args: ['p', 'q'] } }), 'without it: replaced');
  t.same(
    apply(spec({ atomic: ['a', 'b'] }), { spec: { '$setElementOrder/atomic': ['c'], atomic: ['c'] } }),
    spec({ atomic: ['c'] }),
    'a described atomic list stays atomic',
  );
});

t.test('$retainKeys clears unlisted keys and refuses patched keys it does not list', async (t) => {
  const orig = spec({ retained: { type: 'A', x: '1', y: '2' } });
  t.same(apply(orig, { spec: { retained: { $retainKeys: ['type', 'y'], type: 'B' } } }), spec({ retained: { type: 'B', y: '2' } }));
  const e = statusErrorOf(() => apply(orig, { spec: { retained: { $retainKeys: ['type'], x: '5' } } }));
  t.equal(e.code, 400);
  t.equal(e.message, 'invalid patch format of retainKeys');
  t.equal(statusErrorOf(() => apply(orig, { spec: { retained: { $retainKeys: 'type' } } })).code, 400);
});

t.test('$patch on maps: replace and delete', async (t) => {
  const orig = spec({ nested: { a: '1', b: '2' } });
  t.same(apply(orig, { spec: { nested: { $patch: 'replace', a: '3' } } }), spec({ nested: { a: '3' } }));
  t.same(apply(orig, { spec: { nested: { $patch: 'delete' } } }), spec({ nested: {} }));
  t.same(apply(spec({}), { spec: { nested: { $patch: 'delete' } } }), spec({}), 'a directive for an absent map adds nothing');
  const replacedWhole = apply(orig, { $patch: 'replace', metadata: { name: 'x' }, spec: { set: ['q'] } });
  t.same(replacedWhole, { metadata: { name: 'x' }, spec: { set: ['q'] } });
});

t.test('errors as upstream words and classifies them', async (t) => {
  const cases: [string, Obj, unknown, number, string][] = [
    ['$patch merge on a list item', spec({ items: [{ name: 'a' }] }), { spec: { items: [{ name: 'a', $patch: 'merge' }] } }, 400, 'merging lists cannot yet be specified in the patch'],
    ['unknown $patch on a map', spec({ nested: {} }), { spec: { nested: { $patch: 'bogus', a: '1' } } }, 400, 'unknown patch type: bogus in map: map[$patch:bogus a:1]'],
    ['$patch merge on a map', spec({ nested: {} }), { spec: { nested: { $patch: 'merge' } } }, 400, 'unknown patch type: merge in map: map[$patch:merge]'],
    ['item without the merge key', spec({ items: [{ name: 'a' }] }), { spec: { items: [{ value: '1' }] } }, 400, 'map: map[value:1] does not contain declared merge key: name'],
    ['delete item without the merge key', spec({ items: [{ name: 'a' }] }), { spec: { items: [{ $patch: 'delete' }] } }, 400, 'map: map[$patch:delete] does not contain declared merge key: name'],
    ['list of lists', spec({ set: [['a']] }), { spec: { set: [['b']] } }, 422, 'the server rejected our request due to an error in our request'],
    ['mixed element types', spec({ set: ['a'] }), { spec: { set: [1] } }, 400, 'list element types are not identical: [[a] [1]]'],
    ['bad delete-list key', spec({ set: ['a'] }), { spec: { $deleteFromPrimitiveListset: ['a'] } }, 400, 'invalid patch format of primitive list'],
    ['bad setElementOrder key', spec({ set: ['a'] }), { spec: { '$setElementOrderX/set': ['a'] } }, 400, 'invalid patch format of setElementOrder list'],
    ['setElementOrder not a list', spec({ set: ['a'] }), { spec: { '$setElementOrder/set': 'a' } }, 400, 'expected a []interface {}, but received a string'],
    [
      'patch order contradicts $setElementOrder',
      spec({ items: [{ name: 'a' }, { name: 'c' }] }),
      { spec: { '$setElementOrder/items': [{ name: 'a' }, { name: 'c' }], items: [{ name: 'c' }, { name: 'a' }] } },
      400,
      "the order in patch list:\n[map[name:c] map[name:a]]\n doesn't match $setElementOrder list:\n[map[name:a] map[name:c]]",
    ],
    ['patch is an array', spec({}), [{ op: 'add' }], 400, 'json: cannot unmarshal array into Go value of type map[string]interface {}'],
    ['patch is a string', spec({}), 'x', 400, 'json: cannot unmarshal string into Go value of type map[string]interface {}'],
  ];
  for (const [name, orig, patch, code, message] of cases) {
    const e = statusErrorOf(() => apply(orig, patch));
    t.equal(e.code, code, `${name}: code`);
    t.equal(e.message, message, `${name}: message`);
  }
  const generic = statusErrorOf(() => apply(spec({ set: [['a']] }), { spec: { set: [['b']] } }));
  t.same(generic.toStatus(), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server rejected our request due to an error in our request',
    reason: 'Invalid',
    details: {},
    code: 422,
  });
  t.equal(statusErrorOf(() => apply(spec({ items: [{ name: 'a' }] }), { spec: { items: [{ value: '1' }] } })).toStatus().reason, 'BadRequest', 'what upstream leaves a 500 is a BadRequest here');
});

t.test('a null patch is empty; inputs are not modified', async (t) => {
  const orig = spec({ items: [{ name: 'a', value: '1' }], set: ['a'] });
  const before = structuredClone(orig);
  t.same(apply(orig, null), orig);
  const patch = { spec: { items: [{ name: 'a', $patch: 'delete' }], '$setElementOrder/set': ['b', 'a'], set: ['b'] } };
  const patchBefore = structuredClone(patch);
  t.same(apply(orig, patch), spec({ items: [], set: ['b', 'a'] }));
  t.same(orig, before);
  t.same(patch, patchBefore);
});

t.test('patchMetaOf and the OpenAPI extensions derived from the schema', async (t) => {
  const props = schema.properties!.spec.properties!;
  t.same(patchMetaOf(props.items), { strategies: ['merge'], mergeKey: 'name' });
  t.same(patchMetaOf(props.set), { strategies: ['merge'], mergeKey: '' });
  t.same(patchMetaOf(props.atomic), { strategies: [], mergeKey: '' });
  t.same(patchMetaOf(props.multi), { strategies: [], mergeKey: '' });
  t.same(patchMetaOf(props.retained), { strategies: ['retainKeys'], mergeKey: '' });
  const published = openApiPatchExtensions(schema).properties!.spec.properties!;
  t.equal(published.items['x-kubernetes-patch-strategy'], 'merge');
  t.equal(published.items['x-kubernetes-patch-merge-key'], 'name');
  t.equal(published.items.items!.properties!.tags['x-kubernetes-patch-strategy'], 'merge');
  t.equal(published.set['x-kubernetes-patch-strategy'], 'merge');
  t.notOk(published.set['x-kubernetes-patch-merge-key']);
  t.notOk(published.atomic['x-kubernetes-patch-strategy']);
  t.notOk(published.multi['x-kubernetes-patch-strategy']);
  t.equal(published.explicit['x-kubernetes-patch-merge-key'], 'value');
  t.notOk(props.items['x-kubernetes-patch-strategy'], 'the source schema is left alone');
});

t.test('goString prints decoded JSON as Go %v does', async (t) => {
  t.equal(goString({ b: [1, 'x', null], a: { c: true }, d: 1.5, e: 1e-7 }), 'map[a:map[c:true] b:[1 x <nil>] d:1.5 e:1e-07]');
  t.equal(goString({}), 'map[]');
});
