import t from 'tap';
import { applyConfiguration, conflictMessage, mergeApplied, pathString, removePath } from '../../src/apimachinery/server-side-apply.js';
import type { ManagedFieldsEntry, SchemaNode } from '../../src/apimachinery/managed-fields.js';

const schema: SchemaNode = {
  properties: {
    spec: { properties: { a: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } } },
    status: {
      properties: {
        conditions: {
          type: 'array',
          items: { properties: { type: { type: 'string' }, status: { type: 'string' } } },
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['type'],
        },
      },
    },
  },
};

t.test('pathString as fieldpath prints it', async (t) => {
  t.equal(pathString(['f:spec', 'f:a']), '.spec.a');
  t.equal(pathString(['f:status', 'f:conditions', 'k:{"type":"Ready"}', 'f:status']), '.status.conditions[type="Ready"].status');
  t.equal(pathString(['f:metadata', 'f:finalizers', 'v:"x"']), '.metadata.finalizers[="x"]');
});

t.test('merge follows list types: map lists by key, atomic lists replaced', async (t) => {
  const live = { spec: { a: '1', tags: ['x'] }, status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Pending', status: 'True' }] } };
  const merged = mergeApplied(live, { spec: { tags: ['y'] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }, schema);
  t.same(merged, { spec: { a: '1', tags: ['y'] }, status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Pending', status: 'True' }] } });
  const obj = structuredClone(live);
  removePath(obj, ['f:status', 'f:conditions', 'k:{"type":"Pending"}']);
  t.same(obj.status.conditions, [{ type: 'Ready', status: 'False' }]);
});

t.test('conflicts, shared ownership and messages', async (t) => {
  const other: ManagedFieldsEntry = {
    manager: 'editor',
    operation: 'Update',
    apiVersion: 'g/v1',
    time: 'T',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:spec': { 'f:a': {}, 'f:tags': {} } },
  };
  const live = { apiVersion: 'g/v1', kind: 'K', metadata: { name: 'x', managedFields: [other] }, spec: { a: '1', tags: ['x'] } };
  const input = { live, manager: 'me', apiVersion: 'g/v1', time: 'T2', force: false, schema, statusFields: ['status'] };
  // The same value: no conflict, both own it.
  const same = applyConfiguration({ ...input, config: { apiVersion: 'g/v1', kind: 'K', metadata: { name: 'x' }, spec: { a: '1' } } });
  t.same(same.conflicts, []);
  t.same(same.managedFields.map((e) => e.manager), ['editor', 'me']);
  const diff = applyConfiguration({ ...input, config: { apiVersion: 'g/v1', kind: 'K', metadata: { name: 'x' }, spec: { a: '2', tags: ['y'] } } });
  t.equal(diff.conflicts.length, 2);
  t.equal(conflictMessage(diff.conflicts), 'Apply failed with 2 conflicts: conflicts with "editor" using g/v1:\n- .spec.a\n- .spec.tags');
  t.equal(conflictMessage(diff.conflicts.slice(0, 1)), 'Apply failed with 1 conflict: conflict with "editor" using g/v1: .spec.a');
  // Forced: the other manager loses the fields.
  t.same(diff.managedFields.map((e) => e.manager), ['me']);
});
