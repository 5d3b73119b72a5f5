import t from 'tap';
import Fastify from 'fastify';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { Registry } from '../../src/apimachinery/registry.js';
import { apiPlugin, OpenWatches } from '../../src/apimachinery/api-plugin.js';
import { toStatusError } from '../../src/apimachinery/status-response.js';
import { encodeJson } from '../../src/apimachinery/json-encoding.js';
import { volumeSnapshotDefinitions } from '../../src/apis/volumesnapshot/v1/index.js';
import type { ResourceDefinition } from '../../src/apimachinery/resource-definition.js';

const G = 'volumesnapshot.external-storage.k8s.io';
const BASE = `/apis/${G}/v1`;
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function start(t: { teardown(fn: () => unknown): void }, historyMaxEvents?: number, definitions: ResourceDefinition[] = volumeSnapshotDefinitions) {
  const store = SqliteStore.open({ path: ':memory:', historyMaxEvents });
  const registry = new Registry({ store, definitions });
  const openWatches = new OpenWatches();
  // Watches end with the server, as the real server ends them on shutdown.
  const app = Fastify({ forceCloseConnections: true });
  app.addHook('onRequest', async (req) => {
    req.user = { username: 'admin', groups: ['system:masters'] };
  });
  app.setErrorHandler((err, _req, reply) => {
    const status = toStatusError(err);
    reply.code(status.code).header('content-type', 'application/json').send(encodeJson(status.toStatus()));
  });
  await app.register(apiPlugin, { registry, watchBookmarkIntervalMs: 200, openWatches });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    openWatches.endAll();
    await app.close();
    await store.close();
  });
  const call = async (method: string, path: string, opts: { body?: unknown; type?: string; accept?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.accept) headers.accept = opts.accept;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] = opts.type ?? 'application/json';
    }
    const res = await fetch(address + path, { method, headers, body });
    const text = await res.text();
    let json: Json | undefined;
    try {
      json = JSON.parse(text) as Json;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json: json as Json };
  };
  return { address, call, registry };
}

const snap = (name: string, extra: Json = {}) => ({
  apiVersion: `${G}/v1`,
  kind: 'VolumeSnapshot',
  metadata: { name },
  spec: { persistentVolumeClaimName: 'pvc1' },
  ...extra,
});

t.test('discovery', async (t) => {
  const { call } = await start(t);
  const apis = await call('GET', '/apis');
  t.equal(apis.status, 200);
  t.equal(apis.json.kind, 'APIGroupList');
  const v2Accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
  const agg = await call('GET', '/apis', { accept: v2Accept });
  t.equal(agg.headers.get('content-type'), 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  t.equal(agg.json.kind, 'APIGroupDiscoveryList');
  const etag = agg.headers.get('etag')!;
  t.ok(etag);
  const again = await call('GET', '/apis', { accept: v2Accept, headers: { 'if-none-match': etag } });
  t.equal(again.status, 304);
  const api = await call('GET', '/api', { accept: v2Accept });
  t.same(api.json.items, []);
  t.same((await call('GET', '/api')).json, { kind: 'APIVersions', versions: [] });
  const rl = await call('GET', BASE);
  t.equal(rl.json.kind, 'APIResourceList');
  t.equal(rl.json.resources.length, 4);
  t.equal((await call('GET', `/apis/${G}`)).json.kind, 'APIGroup');
  const missing = await call('GET', '/apis/nope.example.com/v1/things');
  t.equal(missing.status, 404);
  t.same(missing.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
  t.equal((await call('GET', '/api/v1')).status, 404);
  t.equal((await call('GET', BASE, { accept: 'application/vnd.kubernetes.protobuf, application/json' })).status, 200);
});

t.test('openapi', async (t) => {
  const { address, call } = await start(t);
  const index = await call('GET', '/openapi/v3');
  const url = index.json.paths[`apis/${G}/v1`].serverRelativeURL as string;
  t.match(url, new RegExp(`^/openapi/v3/apis/${G.replace(/\./g, '\\.')}/v1\\?hash=[0-9A-F]+$`));
  const doc = await call('GET', url);
  t.equal(doc.status, 200);
  t.ok(doc.json.paths[`${BASE}/namespaces/{namespace}/volumesnapshots/{name}`].patch);
  t.ok(doc.headers.get('etag'));
  const v2pb = await fetch(`${address}/openapi/v2`, { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
  t.equal(v2pb.headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  // swagger "2.0" as field 1 of the gnostic Document.
  t.same([...new Uint8Array(await v2pb.arrayBuffer())].slice(0, 5), [0x0a, 3, 0x32, 0x2e, 0x30]);
  t.equal((await call('GET', '/openapi/v2', { accept: 'text/html' })).status, 406);
  const v2json = await call('GET', '/openapi/v2', { accept: 'application/json' });
  t.equal(v2json.json.swagger, '2.0');
  t.equal((await call('GET', '/openapi/v3/apis/x/v1')).status, 404);
});

t.test('create, get, table, yaml, warnings, strict, 415, 413', async (t) => {
  const { call } = await start(t);
  const created = await call('POST', `${BASE}/namespaces/default/volumesnapshots?fieldManager=kubectl-create`, { body: snap('a') });
  t.equal(created.status, 201);
  t.equal(created.json.metadata.namespace, 'default');
  t.equal(created.json.metadata.managedFields[0].manager, 'kubectl-create');

  const warn = await call('POST', `${BASE}/namespaces/default/volumesnapshots`, { body: { ...snap('b'), spec: { persistentVolumeClaimName: 'p', bogus: 1 } } });
  t.equal(warn.status, 201);
  t.equal(warn.headers.get('warning'), '299 - "unknown field \\"spec.bogus\\""');
  const strict = await call('POST', `${BASE}/namespaces/default/volumesnapshots?fieldValidation=Strict`, { body: { ...snap('c'), spec: { persistentVolumeClaimName: 'p', bogus: 1 } } });
  t.equal(strict.status, 400);
  t.equal(strict.json.message, 'VolumeSnapshot in version "v1" cannot be handled as a VolumeSnapshot: strict decoding error: unknown field "spec.bogus"');

  const yamlBody = `apiVersion: ${G}/v1\nkind: VolumeSnapshot\nmetadata:\n  name: yml\nspec:\n  persistentVolumeClaimName: p\n`;
  const fromYaml = await call('POST', `${BASE}/namespaces/default/volumesnapshots`, { body: yamlBody, type: 'application/yaml' });
  t.equal(fromYaml.status, 201);

  const dup = await call('POST', `${BASE}/namespaces/default/volumesnapshots?fieldValidation=Strict`, {
    body: `{"apiVersion":"${G}/v1","kind":"VolumeSnapshot","metadata":{"name":"dup"},"spec":{"persistentVolumeClaimName":"a","persistentVolumeClaimName":"b"}}`,
  });
  t.equal(dup.status, 400);
  t.match(dup.json.message, /strict decoding error: duplicate field "spec.persistentVolumeClaimName"/);

  const text = await call('POST', `${BASE}/namespaces/default/volumesnapshots`, { body: 'x', type: 'text/plain' });
  t.equal(text.status, 415);
  const big = await call('POST', `${BASE}/namespaces/default/volumesnapshots`, { body: JSON.stringify({ ...snap('big'), x: 'a'.repeat(3 * 1024 * 1024) }) });
  t.equal(big.status, 413);
  t.equal(big.json.message, 'Request entity too large: limit is 3145728');

  const invalid = await call('POST', `${BASE}/namespaces/default/volumesnapshots`, { body: { ...snap('inv'), spec: {} } });
  t.equal(invalid.status, 422);
  t.same(invalid.json.details.causes, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.persistentVolumeClaimName' }]);

  const got = await call('GET', `${BASE}/namespaces/default/volumesnapshots/a`);
  t.equal(got.json.metadata.uid, created.json.metadata.uid);
  const yaml = await call('GET', `${BASE}/namespaces/default/volumesnapshots/a`, { accept: 'application/yaml' });
  t.equal(yaml.headers.get('content-type'), 'application/yaml');
  t.match(yaml.text, /persistentVolumeClaimName: pvc1/);
  const table = await call('GET', `${BASE}/namespaces/default/volumesnapshots?limit=500`, { accept: TABLE_ACCEPT });
  t.equal(table.headers.get('content-type'), 'application/json;as=Table;v=v1;g=meta.k8s.io');
  t.equal(table.json.kind, 'Table');
  t.same(table.json.columnDefinitions.map((c: Json) => c.name), ['Name', 'PVC', 'Status', 'RestoreSize', 'Age', 'SnapshotData', 'Message']);
  t.same(table.json.rows.map((r: Json) => r.cells[0]), ['a', 'b', 'yml']);
  t.equal(table.json.rows[0].object.kind, 'PartialObjectMetadata');
  const meta = await call('GET', `${BASE}/volumesnapshots`, {
    accept: 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
  });
  t.equal(meta.json.kind, 'PartialObjectMetadataList');
  t.equal(meta.json.items.length, 3);
  t.equal((await call('GET', `${BASE}/namespaces/default/volumesnapshots/nope`)).json.message, `volumesnapshots.${G} "nope" not found`);
  t.equal((await call('GET', `${BASE}/volumesnapshots/a`)).status, 404);
  t.equal((await call('GET', `${BASE}/namespaces/default/volumesnapshots/a/bogus`)).status, 404);
});

t.test('update, patch, delete, deletecollection', async (t) => {
  const { call } = await start(t);
  const path = `${BASE}/namespaces/default/volumesnapshots`;
  const a = (await call('POST', path, { body: snap('a') })).json;
  const noRv = await call('PUT', `${path}/a`, { body: snap('a') });
  t.equal(noRv.status, 422);
  t.equal(noRv.json.message, `VolumeSnapshot.${G} "a" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update`);
  const put = await call('PUT', `${path}/a`, { body: { ...a, metadata: { ...a.metadata, labels: { l: 'v' } } } });
  t.equal(put.status, 200);
  t.same(put.json.metadata.labels, { l: 'v' });
  const putNew = await call('PUT', `${path}/zz`, { body: { ...snap('zz'), metadata: { name: 'zz', resourceVersion: '1' } } });
  t.equal(putNew.status, 404);

  const merge = await call('PATCH', `${path}/a`, { body: { metadata: { annotations: { x: 'y' } } }, type: 'application/merge-patch+json' });
  t.equal(merge.status, 200);
  t.same(merge.json.metadata.annotations, { x: 'y' });
  const json = await call('PATCH', `${path}/a`, { body: [{ op: 'replace', path: '/metadata/labels/l', value: 'w' }], type: 'application/json-patch+json' });
  t.same(json.json.metadata.labels, { l: 'w' });
  const status = await call('PATCH', `${path}/a/status`, { body: { status: { restoreSize: '1Gi', conditions: [{ type: 'Ready', status: 'True' }] } }, type: 'application/merge-patch+json' });
  t.equal(status.json.status.restoreSize, '1Gi');
  const smp = await call('PATCH', `${path}/a`, { body: { metadata: { labels: { s: 'm' } } }, type: 'application/strategic-merge-patch+json' });
  t.equal(smp.status, 200);
  t.same(smp.json.metadata.labels, { l: 'w', s: 'm' });
  const unknownType = await call('PATCH', `${path}/a`, { body: {}, type: 'text/plain' });
  t.equal(unknownType.status, 415);
  t.equal(
    unknownType.json.message,
    'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
  );
  const forceMerge = await call('PATCH', `${path}/a?force=true`, { body: {}, type: 'application/merge-patch+json' });
  t.equal(forceMerge.status, 422);
  const strictPatch = await call('PATCH', `${path}/a?fieldValidation=Strict`, { body: { spec: { bogus: 1 } }, type: 'application/merge-patch+json' });
  t.equal(strictPatch.status, 422);

  const dryDelete = await call('DELETE', `${path}/a?dryRun=All`);
  t.equal(dryDelete.status, 200);
  t.equal((await call('GET', `${path}/a`)).status, 200);
  const pre = await call('DELETE', `${path}/a`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'x' }, propagationPolicy: 'Background' } });
  t.equal(pre.status, 409);
  const del = await call('DELETE', `${path}/a`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } });
  t.equal(del.status, 200);
  t.equal(del.json.metadata.name, 'a');
  t.equal((await call('GET', `${path}/a`)).status, 404);

  await call('POST', path, { body: snap('b') });
  await call('POST', path, { body: { ...snap('c'), metadata: { name: 'c', labels: { keep: 'yes' } } } });
  const dc = await call('DELETE', `${path}?labelSelector=!keep`);
  t.equal(dc.status, 200);
  t.same(dc.json.items.map((o: Json) => o.metadata.name), ['b']);
  const left = await call('GET', path);
  t.same(left.json.items.map((o: Json) => o.metadata.name), ['c']);
  const badSel = await call('GET', `${path}?fieldSelector=spec.nope=1`);
  t.equal(badSel.status, 400);
  t.equal(badSel.json.message, 'field label not supported: spec.nope');
});

async function readEvents(res: Response, count: number): Promise<Json[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const out: Json[] = [];
  while (out.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      out.push(JSON.parse(buf.slice(0, nl)) as Json);
      buf = buf.slice(nl + 1);
    }
  }
  await reader.cancel();
  return out;
}

t.test('watch: initial state, live events, tables, watch-list, timeout', async (t) => {
  const { address, call } = await start(t);
  const path = `${BASE}/namespaces/default/volumesnapshots`;
  const a = (await call('POST', path, { body: snap('a') })).json;
  const listRv = (await call('GET', path)).json.metadata.resourceVersion as string;

  const res = await fetch(`${address}${path}?watch=true&resourceVersion=${listRv}`, { headers: { accept: TABLE_ACCEPT } });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'application/json');
  await call('PATCH', `${path}/a`, { body: { metadata: { labels: { x: 'y' } } }, type: 'application/merge-patch+json' });
  await call('POST', path, { body: snap('b') });
  const events = await readEvents(res, 2);
  t.same(events.map((e) => e.type), ['MODIFIED', 'ADDED']);
  t.equal(events[0].object.kind, 'Table');
  t.ok(events[0].object.columnDefinitions.length > 0);
  t.equal(events[1].object.columnDefinitions, null);
  t.equal(events[1].object.rows[0].cells[0], 'b');

  const single = await fetch(`${address}${path}?watch=true&fieldSelector=metadata.name%3Da&resourceVersion=0`);
  const first = await readEvents(single, 1);
  t.same([first[0].type, first[0].object.metadata.name, first[0].object.metadata.uid], ['ADDED', 'a', a.metadata.uid]);

  const wl = await fetch(`${address}${path}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
  const initial = await readEvents(wl, 3);
  t.same(initial.map((e) => e.type), ['ADDED', 'ADDED', 'BOOKMARK']);
  t.same(initial[2].object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });

  const refused = await call('GET', `${path}?watch=true&sendInitialEvents=true`);
  t.equal(refused.status, 422);

  const timed = await fetch(`${address}${path}?watch=true&resourceVersion=${listRv}&timeoutSeconds=1`);
  const started = Date.now();
  const body = await timed.text();
  t.ok(Date.now() - started < 5000, 'ended by timeoutSeconds');
  t.equal(body.trim().split('\n').length, 2);

  const tooNew = await call('GET', `${path}?watch=true&resourceVersion=99999999`);
  t.equal(tooNew.status, 504);
});

t.test('server-side apply', async (t) => {
  const { call } = await start(t);
  const path = `${BASE}/namespaces/default/volumesnapshots`;
  const apply = (name: string, yaml: string, query = 'fieldManager=kubectl') =>
    call('PATCH', `${path}/${name}?${query}`, { body: yaml, type: 'application/apply-patch+yaml' });
  const doc = (labels: string) =>
    `apiVersion: ${G}/v1\nkind: VolumeSnapshot\nmetadata:\n  name: s\n  labels:\n${labels}spec:\n  persistentVolumeClaimName: pvc1\n`;

  const noManager = await apply('s', doc('    a: "1"\n'), '');
  t.equal(noManager.status, 422);
  t.equal(noManager.json.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');

  const created = await apply('s', doc('    a: "1"\n    b: "2"\n'));
  t.equal(created.status, 201);
  t.same(created.json.metadata.labels, { a: '1', b: '2' });
  t.match(created.json.metadata.managedFields, [
    { manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:a': {}, 'f:b': {} } }, 'f:spec': { 'f:persistentVolumeClaimName': {} } } },
  ]);

  // Another manager takes label a by update; applying a different value then conflicts.
  await call('PATCH', `${path}/s?fieldManager=editor`, { body: { metadata: { labels: { a: 'edited' } } }, type: 'application/merge-patch+json' });
  const conflict = await apply('s', doc('    a: "1"\n    b: "2"\n'));
  t.equal(conflict.status, 409);
  t.equal(conflict.json.reason, 'Conflict');
  t.equal(conflict.json.message, `Apply failed with 1 conflict: conflict with "editor" using ${G}/v1: .metadata.labels.a`);
  t.same(conflict.json.details.causes, [{ reason: 'FieldManagerConflict', message: `conflict with "editor" using ${G}/v1`, field: '.metadata.labels.a' }]);

  const forced = await apply('s', doc('    a: "1"\n    b: "2"\n'), 'fieldManager=kubectl&force=true');
  t.equal(forced.status, 200);
  t.same(forced.json.metadata.labels, { a: '1', b: '2' });
  t.notOk((forced.json.managedFields ?? []).some((e: Json) => e.manager === 'editor'));

  // Dropping b from the configuration removes it; a label another manager added stays.
  await call('PATCH', `${path}/s?fieldManager=editor`, { body: { metadata: { labels: { c: '3' } } }, type: 'application/merge-patch+json' });
  const dropped = await apply('s', doc('    a: "1"\n'));
  t.equal(dropped.status, 200);
  t.same(dropped.json.metadata.labels, { a: '1', c: '3' });

  // Status through the subresource only.
  const status = await call('PATCH', `${path}/s/status?fieldManager=worker`, {
    body: `apiVersion: ${G}/v1\nkind: VolumeSnapshot\nmetadata:\n  name: s\nstatus:\n  conditions:\n  - type: Ready\n    status: "True"\n`,
    type: 'application/apply-patch+yaml',
  });
  t.equal(status.status, 200);
  t.same(status.json.status.conditions, [{ type: 'Ready', status: 'True' }]);
  t.match(status.json.metadata.managedFields.find((e: Json) => e.manager === 'worker'), {
    operation: 'Apply',
    subresource: 'status',
    fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:status': {}, 'f:type': {} } } } },
  });
  const strict = await apply('s', doc('    a: "1"\n') + '  bogus: 1\n', 'fieldManager=kubectl&fieldValidation=Strict');
  t.equal(strict.status, 400);
});

t.test('watch from a revision older than the history: ERROR event with 410 Expired', async (t) => {
  const { address, call } = await start(t, 5);
  const path = `${BASE}/namespaces/default/volumesnapshots`;
  for (let i = 0; i < 30; i++) await call('POST', path, { body: snap(`s${i}`) });
  const res = await fetch(`${address}${path}?watch=true&resourceVersion=1`);
  t.equal(res.status, 200);
  const [event] = await readEvents(res, 1);
  t.equal(event.type, 'ERROR');
  t.match(event.object, { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: /^too old resource version: 1 \(\d+\)$/ });
  const list = await call('GET', `${path}?resourceVersion=1&resourceVersionMatch=Exact`);
  t.equal(list.status, 410);
  t.equal(list.json.message, 'The resourceVersion for the provided list is too old.');
});

t.test('bookmarks only when allowed, about every interval', async (t) => {
  const { address, call } = await start(t);
  const path = `${BASE}/namespaces/default/volumesnapshots`;
  const rv = (await call('GET', path)).json.metadata.resourceVersion as string;
  const res = await fetch(`${address}${path}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
  const [bookmark] = await readEvents(res, 1);
  t.same(bookmark, { type: 'BOOKMARK', object: { apiVersion: `${G}/v1`, kind: 'VolumeSnapshot', metadata: { resourceVersion: rv } } });
  const none = await fetch(`${address}${path}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
  t.equal((await none.text()).trim(), '', 'no bookmark without allowWatchBookmarks');
});

t.test('a core-group definition is served under /api/v1', async (t) => {
  const widgets: ResourceDefinition = {
    group: '',
    version: 'v1',
    kind: 'Widget',
    listKind: 'WidgetList',
    plural: 'widgets',
    singular: 'widget',
    namespaced: true,
    schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'string' } } } } },
    subresources: {},
    strategy: {},
    columns: [],
  };
  const { call } = await start(t, undefined, [widgets, ...volumeSnapshotDefinitions]);
  t.same((await call('GET', '/api')).json.versions, ['v1']);
  const rl = await call('GET', '/api/v1');
  t.equal(rl.json.groupVersion, 'v1');
  t.same(rl.json.resources.map((r: Json) => r.name), ['widgets']);
  const created = await call('POST', '/api/v1/namespaces/ns1/widgets', { body: { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 'L' } } });
  t.equal(created.status, 201);
  t.equal(created.json.metadata.namespace, 'ns1');
  t.equal((await call('GET', '/api/v1/widgets')).json.items.length, 1);
  const nf = await call('GET', '/api/v1/namespaces/ns1/widgets/nope');
  t.equal(nf.json.message, 'widgets "nope" not found');
  const agg = await call('GET', '/api', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
  t.equal(agg.json.items[0].versions[0].resources[0].resource, 'widgets');
  const idx = await call('GET', '/openapi/v3');
  t.ok(idx.json.paths['api/v1'], 'openapi v3 index lists api/v1');
  t.equal((await call('GET', idx.json.paths['api/v1'].serverRelativeURL)).status, 200);
});

t.test('a client that goes away stops the storage watch', async (t) => {
  const store = SqliteStore.open({ path: ':memory:' });
  let started = 0;
  let stopped = 0;
  const counting = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'watch') {
        return (...args: Parameters<typeof store.watch>) => {
          started++;
          const w = target.watch(...args);
          const stop = w.stop.bind(w);
          w.stop = () => {
            stopped++;
            stop();
          };
          return w;
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const registry = new Registry({ store: counting, definitions: volumeSnapshotDefinitions });
  const app = Fastify({ forceCloseConnections: true });
  await app.register(apiPlugin, { registry });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  const controller = new AbortController();
  const res = await fetch(`${address}${BASE}/volumesnapshots?watch=true`, { signal: controller.signal });
  t.equal(res.status, 200);
  t.equal(started, 1);
  controller.abort();
  const deadline = Date.now() + 5000;
  while (stopped === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.ok(stopped >= 1, 'storage watch stopped');
});

t.test('endAll ends open watches cleanly', async (t) => {
  const { address } = await startWithWatches(t);
  const res = await fetch(`${address.url}${BASE}/volumesnapshots?watch=true`);
  t.equal(res.status, 200);
  const body = res.text();
  while (address.openWatches.size === 0) await new Promise((r) => setTimeout(r, 10));
  address.openWatches.endAll();
  t.equal(await body, '', 'the stream ended');
  t.equal(address.openWatches.size, 0);
});

async function startWithWatches(t: { teardown(fn: () => unknown): void }) {
  const store = SqliteStore.open({ path: ':memory:' });
  const openWatches = new OpenWatches();
  const app = Fastify({ forceCloseConnections: true });
  await app.register(apiPlugin, { registry: new Registry({ store, definitions: volumeSnapshotDefinitions }), openWatches });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    openWatches.endAll();
    await app.close();
    await store.close();
  });
  return { address: { url, openWatches } };
}
