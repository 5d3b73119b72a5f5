import t from 'tap';
import {
  fieldValuesOf,
  fromFieldsV1,
  toFieldsV1,
  updateManagedFields,
  managerFromUserAgent,
  type SchemaNode,
} from '../../src/apimachinery/managed-fields.js';

const schema: SchemaNode = {
  type: 'object',
  properties: {
    spec: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } },
    status: {
      type: 'object',
      properties: {
        conditions: {
          type: 'array',
          items: { type: 'object', properties: { type: { type: 'string' }, status: { type: 'string' } } },
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['type'],
        },
      },
    },
  },
};

const obj = {
  apiVersion: 'g/v1',
  kind: 'K',
  metadata: { name: 'x', uid: 'u', labels: { app: 'web' }, finalizers: ['f1'] },
  spec: { a: '1' },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
};

t.test('fieldsV1 of a create: structs bare, maps and list items carry "."', async (t) => {
  const values = fieldValuesOf(obj, schema, ['status'], undefined);
  t.same(toFieldsV1(values.keys()), {
    'f:metadata': { 'f:finalizers': { '.': {}, 'v:"f1"': {} }, 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': { 'f:a': {} },
  });
  const status = fieldValuesOf(obj, schema, ['status'], 'status');
  t.same(toFieldsV1(status.keys()), {
    'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"Ready"}': { '.': {}, 'f:status': {}, 'f:type': {} } } },
  });
});

t.test('fromFieldsV1 inverts toFieldsV1', async (t) => {
  const values = fieldValuesOf(obj, schema, ['status'], undefined);
  t.same([...fromFieldsV1(toFieldsV1(values.keys()))].sort(), [...values.keys()].sort());
});

t.test('updates move ownership of changed fields to the writer', async (t) => {
  const created = updateManagedFields([], {
    oldObject: undefined,
    newObject: obj,
    manager: 'kubectl-create',
    apiVersion: 'g/v1',
    time: '2024-01-01T00:00:00Z',
    statusFields: ['status'],
    schema,
  });
  t.equal(created.length, 1);
  t.match(created[0], { manager: 'kubectl-create', operation: 'Update', fieldsType: 'FieldsV1', time: '2024-01-01T00:00:00Z' });
  const changed = { ...obj, spec: { a: '1', b: '2' }, metadata: { ...obj.metadata, labels: { app: 'db' } } };
  const after = updateManagedFields(created, {
    oldObject: obj,
    newObject: changed,
    manager: 'kubectl-edit',
    apiVersion: 'g/v1',
    time: '2024-01-02T00:00:00Z',
    statusFields: ['status'],
    schema,
  });
  t.equal(after.length, 2);
  t.same(after[1].fieldsV1, { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:b': {} } });
  t.same(after[0].fieldsV1, {
    'f:metadata': { 'f:finalizers': { '.': {}, 'v:"f1"': {} }, 'f:labels': {} },
    'f:spec': { 'f:a': {} },
  });
  // No change: entries untouched.
  t.equal(
    updateManagedFields(after, {
      oldObject: changed,
      newObject: changed,
      manager: 'x',
      apiVersion: 'g/v1',
      time: 'T',
      statusFields: ['status'],
      schema,
    }),
    after,
  );
});

t.test('manager from User-Agent', async (t) => {
  t.equal(managerFromUserAgent('kubectl/v1.35.2 (linux/amd64) kubernetes/abc'), 'kubectl');
  t.equal(managerFromUserAgent(undefined), '');
});
