import t from 'tap';
import { pruneUnknownFields } from '../../src/apimachinery/prune.js';
import type { JsonSchema } from '../../src/apimachinery/json-schema.js';

const schema: JsonSchema = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        items: { type: 'array', items: { type: 'object', properties: { x: { type: 'string' } } } },
        matrix: { type: 'array', items: { type: 'array', items: { type: 'object', properties: { v: { type: 'integer' } } } } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        nested: { type: 'object', additionalProperties: { type: 'object', properties: { keep: { type: 'string' } } } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { typed: { type: 'object', properties: { a: { type: 'string' } } } } },
        anything: { type: 'object', additionalProperties: true },
        closed: { type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } },
        template: {
          type: 'object',
          'x-kubernetes-embedded-resource': true,
          properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } },
        },
        raw: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
        oneOfHolder: { type: 'object', oneOf: [{ properties: { hidden: { type: 'string' } } }], properties: { shown: { type: 'string' } } },
      },
    },
    status: { type: 'object', properties: { conditions: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' } } } } } },
  },
};

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

t.test('pruning table', async (t) => {
  const cases: [string, unknown, string[], unknown][] = [
    ['nothing unknown', { apiVersion: 'g/v1', kind: 'K', metadata: { name: 'a' }, spec: { name: 'x' } }, [], { apiVersion: 'g/v1', kind: 'K', metadata: { name: 'a' }, spec: { name: 'x' } }],
    ['unknown top-level and spec fields', { bogus: 1, spec: { bogus: { deep: 1 }, name: 'n' } }, ['bogus', 'spec.bogus'], { spec: { name: 'n' } }],
    ['list items', { spec: { items: [{ x: 'a', y: 1 }, { z: 2 }] } }, ['spec.items[0].y', 'spec.items[1].z'], { spec: { items: [{ x: 'a' }, {}] } }],
    ['nested lists', { spec: { matrix: [[{ v: 1, w: 2 }], [], [{ q: 1 }]] } }, ['spec.matrix[0][0].w', 'spec.matrix[2][0].q'], { spec: { matrix: [[{ v: 1 }], [], [{}]] } }],
    ['additionalProperties keeps free keys', { spec: { labels: { a: '1', 'b.c/d': '2' } } }, [], { spec: { labels: { a: '1', 'b.c/d': '2' } } }],
    ['additionalProperties schema prunes inside', { spec: { nested: { k1: { keep: 'y', drop: 'n' } } } }, ['spec.nested.k1.drop'], { spec: { nested: { k1: { keep: 'y' } } } }],
    ['preserve-unknown-fields keeps, but prunes declared children', { spec: { free: { any: { thing: [1] }, typed: { a: 'x', b: 'y' } } } }, ['spec.free.typed.b'], { spec: { free: { any: { thing: [1] }, typed: { a: 'x' } } } }],
    ['additionalProperties: true keeps everything', { spec: { anything: { a: { b: { c: 1 } } } } }, [], { spec: { anything: { a: { b: { c: 1 } } } } }],
    ['additionalProperties: false declares nothing extra', { spec: { closed: { a: 'x', b: 'y' } } }, ['spec.closed.b'], { spec: { closed: { a: 'x' } } }],
    ['combinators declare no fields', { spec: { oneOfHolder: { shown: 'a', hidden: 'b' } } }, ['spec.oneOfHolder.hidden'], { spec: { oneOfHolder: { shown: 'a' } } }],
    ['wrong types are left to validation', { spec: { items: 'not-a-list', name: { an: 'object' } } }, ['spec.name.an'], { spec: { items: 'not-a-list', name: {} } }],
    ['array where an object is declared loses its objects keys', { spec: [{ a: 1 }] }, ['spec[0].a'], { spec: [{}] }],
    ['prototype-named keys are unknown, not inherited', { spec: { constructor: 1, toString: 2, __proto__x: 3 } }, ['spec.__proto__x', 'spec.constructor', 'spec.toString'], { spec: {} }],
    ['status pruned too', { status: { conditions: [{ type: 'Ready', extra: true }], phase: 'x' } }, ['status.conditions[0].extra', 'status.phase'], { status: { conditions: [{ type: 'Ready' }] } }],
    ['unicode keys', { spec: { '\u2713': 1, 'a\u0000b': 2 } }, ['spec.a\u0000b', 'spec.\u2713'], { spec: {} }],
    ['scalars and nulls untouched', { spec: null, status: 5 }, [], { spec: null, status: 5 }],
    ['metadata cut to ObjectMeta', { metadata: { name: 'a', labels: { x: 'y' }, bogus: 1, clusterName: 'c' } }, ['metadata.bogus', 'metadata.clusterName'], { metadata: { name: 'a', labels: { x: 'y' } } }],
    ['ownerReferences and managedFields items cut', {
      metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'K', name: 'n', uid: 'u', extra: 1 }], managedFields: [{ manager: 'm', operation: 'Update', junk: true }] },
    }, ['metadata.ownerReferences[0].extra', 'metadata.managedFields[0].junk'], {
      metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'K', name: 'n', uid: 'u' }], managedFields: [{ manager: 'm', operation: 'Update' }] },
    }],
    ['schema paths sorted before metadata paths', { z: 1, metadata: { q: 1 }, a: 1 }, ['a', 'z', 'metadata.q'], { metadata: {} }],
    ['embedded resource keeps its apiVersion/kind/metadata', {
      spec: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', junk: 1 }, spec: { a: 'x', b: 'y' }, other: 1 } },
    }, ['spec.template.other', 'spec.template.spec.b', 'spec.template.metadata.junk'], {
      spec: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 'x' } } },
    }],
    ['embedded and preserving', { spec: { raw: { apiVersion: 'v1', kind: 'X', metadata: { name: 'r', nope: 1 }, anything: { goes: true } } } }, ['spec.raw.metadata.nope'], {
      spec: { raw: { apiVersion: 'v1', kind: 'X', metadata: { name: 'r' }, anything: { goes: true } } },
    }],
    ['metadata of the wrong type is left for validation', { metadata: 'x' }, [], { metadata: 'x' }],
  ];
  for (const [title, input, paths, after] of cases) {
    const obj = clone(input);
    t.same(pruneUnknownFields(obj, schema), paths, `${title}: paths`);
    t.same(obj, after, `${title}: result`);
  }
});

t.test('non-root values and scalar roots', async (t) => {
  const obj = { apiVersion: 'x', kind: 'y', metadata: {}, a: 1 };
  t.same(pruneUnknownFields(obj, { type: 'object', properties: { a: { type: 'integer' } } }, { isResourceRoot: false }), []);
  t.same(obj, { a: 1 }, 'apiVersion/kind/metadata at the root of a non-resource are pruned silently, as upstream does');
  t.same(pruneUnknownFields('scalar', schema), []);
  t.same(pruneUnknownFields(null, schema), []);
  const arr = [{ a: 1 }];
  t.same(pruneUnknownFields(arr, { type: 'array', items: { type: 'object' } }, { isResourceRoot: false }), ['[0].a']);
});

t.test('a schema without properties prunes an object to nothing', async (t) => {
  const obj = { apiVersion: 'v1', kind: 'K', metadata: { name: 'n' }, spec: { a: 1 }, status: {} };
  t.same(pruneUnknownFields(obj, { type: 'object' }), ['spec', 'status']);
  t.same(obj, { apiVersion: 'v1', kind: 'K', metadata: { name: 'n' } });
});

t.test('wide and deep inputs', async (t) => {
  const spec: Record<string, number> = {};
  for (let i = 0; i < 50_000; i++) spec[`k${i}`] = i;
  const obj = { spec };
  const paths = pruneUnknownFields(obj, schema);
  t.equal(paths.length, 50_000);
  t.equal(paths[0], 'spec.k0');
  t.same(obj.spec, {});
  let deep: unknown = { leaf: 1 };
  for (let i = 0; i < 1000; i++) deep = { free: deep };
  const free = { spec: { free: deep } };
  t.same(pruneUnknownFields(free, schema), [], 'a preserved subtree is not walked');
  let deepList: unknown = [{ drop: 1 }];
  for (let i = 0; i < 1000; i++) deepList = [deepList];
  t.same(pruneUnknownFields({ spec: { items: deepList } }, schema), [`spec.items${'[0]'.repeat(1001)}.drop`]);
});
