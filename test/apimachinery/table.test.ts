import t from 'tap';
import { buildTable, parseIncludeObject } from '../../src/apimachinery/table.js';
import { humanDuration } from '../../src/apimachinery/human-duration.js';
import type { ResourceDefinition } from '../../src/apimachinery/resource-definition.js';

const def = {
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  listKind: 'WidgetList',
  plural: 'widgets',
  singular: 'widget',
  namespaced: true,
  schema: { type: 'object' },
  subresources: {},
  strategy: {},
  columns: [
    { name: 'Size', type: 'string', description: 'size', priority: 0, cell: (o) => (o.spec as { size?: string } | undefined)?.size },
    { name: 'Age', type: 'date', description: 'age', priority: 0, cell: (o) => o.metadata.creationTimestamp as string },
    { name: 'Note', type: 'string', description: 'note', priority: 1, cell: () => undefined },
  ],
} as ResourceDefinition;

const obj = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ns', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { size: 'L' } };

t.test('humanDuration as kubectl prints ages', async (t) => {
  const s = 1000;
  const cases: Array<[number, string]> = [
    [-5 * s, '<invalid>'],
    [-1 * s, '0s'],
    [0, '0s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [130 * s, '2m10s'],
    [10 * 60 * s, '10m'],
    [179 * 60 * s, '179m'],
    [3 * 3600 * s, '3h'],
    [(3 * 3600 + 5 * 60) * s, '3h5m'],
    [8 * 3600 * s, '8h'],
    [47 * 3600 * s, '47h'],
    [48 * 3600 * s, '2d'],
    [(50 * 3600) * s, '2d2h'],
    [8 * 86400 * s, '8d'],
    [730 * 86400 * s, '2y'],
    [(731 * 86400) * s, '2y1d'],
    [9 * 365 * 86400 * s, '9y'],
  ];
  for (const [ms, want] of cases) t.equal(humanDuration(ms), want, `${ms}`);
});

t.test('table: Name first, date cells as ages, includeObject', async (t) => {
  const now = new Date('2024-01-01T00:05:00Z');
  const table = buildTable(def, [obj], { includeObject: 'Metadata', now, resourceVersion: '7' });
  t.equal(table.apiVersion, 'meta.k8s.io/v1');
  t.same(
    table.columnDefinitions!.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Size', 'string', '', 0],
      ['Age', 'date', '', 0],
      ['Note', 'string', '', 1],
    ],
  );
  t.same(table.rows[0].cells, ['w', 'L', '5m', null]);
  t.same(table.rows[0].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata });
  t.same(table.metadata, { resourceVersion: '7' });
  t.notOk('object' in buildTable(def, [obj], { includeObject: 'None', now }).rows[0]);
  t.equal(buildTable(def, [obj], { includeObject: 'Object', now }).rows[0].object, obj);
  t.equal(buildTable(def, [obj], { includeObject: 'Object', now, omitColumns: true }).columnDefinitions, null);
});

t.test('table: a kind may print Name last and only wide, as core Events do', async (t) => {
  const now = new Date('2024-01-01T00:05:00Z');
  const table = buildTable({ ...def, nameColumnLastAndWide: true }, [obj], { includeObject: 'None', now });
  t.same(table.columnDefinitions!.map((c) => [c.name, c.priority]), [['Size', 0], ['Age', 0], ['Note', 1], ['Name', 1]]);
  t.same(table.rows[0].cells, ['L', '5m', null, 'w']);
});

t.test('includeObject values', async (t) => {
  t.equal(parseIncludeObject(undefined), 'Metadata');
  t.equal(parseIncludeObject('None'), 'None');
  t.equal(parseIncludeObject('Object'), 'Object');
  t.throws(() => parseIncludeObject('All'));
});
