import t from 'tap';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { Registry } from '../../src/apimachinery/registry.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import { rejectionOf } from '../helpers/thrown.js';
import { volumeSnapshotDefinitions } from '../../src/apis/volumesnapshot/v1/index.js';

const G = 'volumesnapshot.external-storage.k8s.io';
const VS = `volumesnapshots.${G}`;
const VSD = `volumesnapshotdatas.${G}`;

function setup(t: { teardown(fn: () => unknown): void }) {
  const store = SqliteStore.open({ path: ':memory:' });
  let tick = 0;
  let uid = 0;
  const registry = new Registry({
    store,
    definitions: volumeSnapshotDefinitions,
    clock: () => new Date(Date.UTC(2024, 0, 1, 0, 0, tick++)),
    uid: () => `uid-${++uid}`,
  });
  t.teardown(() => store.close());
  return registry;
}


const snapshot = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: `${G}/v1`,
  kind: 'VolumeSnapshot',
  metadata: { name },
  spec: { persistentVolumeClaimName: 'pvc1' },
  ...extra,
});

t.test('create fills the system fields and drops status', async (t) => {
  const r = setup(t);
  const warnings: string[] = [];
  const created = await r.create(VS, snapshot('a', { status: { restoreSize: '1Gi' } }), {
    namespace: 'default',
    fieldManager: 'kubectl-create',
    fieldValidation: 'Warn',
    warnings,
  });
  t.match(created.metadata, {
    name: 'a',
    namespace: 'default',
    uid: 'uid-1',
    generation: 1,
    creationTimestamp: '2024-01-01T00:00:00Z',
    resourceVersion: /^\d+$/,
  });
  t.notOk('status' in created);
  t.match(created.metadata.managedFields, [
    { manager: 'kubectl-create', operation: 'Update', apiVersion: `${G}/v1`, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:persistentVolumeClaimName': {} } } },
  ]);
  t.same(warnings, []);
  const again = await rejectionOf(StatusError, r.create(VS, snapshot('a'), { namespace: 'default' }));
  t.equal(again.code, 409);
  t.equal(again.message, `volumesnapshots.${G} "a" already exists`);
});

t.test('create: unknown fields, validation and namespace rules', async (t) => {
  const r = setup(t);
  const warnings: string[] = [];
  const obj = await r.create(VS, { ...snapshot('w'), spec: { persistentVolumeClaimName: 'p', bogus: 1 } }, { namespace: 'ns', fieldValidation: 'Warn', warnings });
  t.same(warnings, ['unknown field "spec.bogus"']);
  t.same(obj.spec, { persistentVolumeClaimName: 'p' });
  const strict = await rejectionOf(StatusError, r.create(VS, { ...snapshot('s'), spec: { persistentVolumeClaimName: 'p', bogus: 1 } }, { namespace: 'ns', fieldValidation: 'Strict' }));
  t.equal(strict.code, 400);
  t.equal(strict.message, 'VolumeSnapshot in version "v1" cannot be handled as a VolumeSnapshot: strict decoding error: unknown field "spec.bogus"');
  const invalid = await rejectionOf(StatusError, r.create(VS, { ...snapshot('Bad'), spec: {} }, { namespace: 'ns' }));
  t.equal(invalid.code, 422);
  t.match(invalid.message, /^VolumeSnapshot\.volumesnapshot\.external-storage\.k8s\.io "Bad" is invalid: \[metadata\.name: Invalid value: "Bad": a lowercase RFC 1123 subdomain.*, spec\.persistentVolumeClaimName: Required value\]$/);
  t.same(invalid.details?.causes?.map((c) => [c.reason, c.field]), [
    ['FieldValueInvalid', 'metadata.name'],
    ['FieldValueRequired', 'spec.persistentVolumeClaimName'],
  ]);
  const ns = await rejectionOf(StatusError, r.create(VS, { ...snapshot('n'), metadata: { name: 'n', namespace: 'other' } }, { namespace: 'ns' }));
  t.equal(ns.message, 'the namespace of the provided object does not match the namespace sent on the request');
  const gv = await rejectionOf(StatusError, r.create(VS, { ...snapshot('n'), apiVersion: 'other/v1' }, { namespace: 'ns' }));
  t.equal(gv.message, `the API version in the data (other/v1) does not match the expected API version (${G}/v1)`);
  const kind = await rejectionOf(StatusError, r.create(VS, { ...snapshot('n'), kind: 'Other' }, { namespace: 'ns' }));
  t.match(kind.message, /kind: Invalid value: "Other": must be VolumeSnapshot/);
  const gen = await r.create(VS, { ...snapshot(''), metadata: { generateName: 'snap-' } }, { namespace: 'ns' });
  t.match(gen.metadata.name, /^snap-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  const dry = await r.create(VS, snapshot('dry'), { namespace: 'ns', dryRun: true });
  t.equal(dry.metadata.name, 'dry');
  t.equal((await rejectionOf(StatusError, r.get(VS, { namespace: 'ns', name: 'dry' }))).code, 404);
});

t.test('update: resourceVersion, generation, status and immutability', async (t) => {
  const r = setup(t);
  const a = await r.create(VS, snapshot('a'), { namespace: 'd' });
  const noRv = await rejectionOf(StatusError, r.update(VS, snapshot('a'), { namespace: 'd', name: 'a' }));
  t.equal(noRv.code, 422);
  t.equal(noRv.message, `VolumeSnapshot.${G} "a" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update`);
  const wrongName = await rejectionOf(StatusError, r.update(VS, a, { namespace: 'd', name: 'b' }));
  t.equal(wrongName.message, 'the name of the object (a) does not match the name on the URL (b)');
  const missing = await rejectionOf(StatusError, r.update(VS, { ...a, metadata: { ...a.metadata, name: 'zz' } }, { namespace: 'd', name: 'zz' }));
  t.equal(missing.code, 404);

  // Labels only: generation stays; status in the body is ignored.
  const labelled = await r.update(VS, { ...a, metadata: { ...a.metadata, labels: { x: 'y' } }, status: { restoreSize: '9Gi' } }, { namespace: 'd', name: 'a', fieldManager: 'edit' });
  t.equal(labelled.metadata.generation, 1);
  t.notOk('status' in labelled);
  t.not(labelled.metadata.resourceVersion, a.metadata.resourceVersion);
  const stale = await rejectionOf(StatusError, r.update(VS, a, { namespace: 'd', name: 'a' }));
  t.equal(stale.code, 409);
  t.equal(stale.message, `Operation cannot be fulfilled on volumesnapshots.${G} "a": the object has been modified; please apply your changes to the latest version and try again`);

  const immutable = await rejectionOf(StatusError, r.update(VS, { ...labelled, spec: { persistentVolumeClaimName: 'other' } }, { namespace: 'd', name: 'a' }));
  t.equal(immutable.message, `VolumeSnapshot.${G} "a" is invalid: spec.persistentVolumeClaimName: Invalid value: "other": field is immutable`);

  const withData = await r.update(VS, { ...labelled, spec: { persistentVolumeClaimName: 'pvc1', snapshotDataName: 'data1' } }, { namespace: 'd', name: 'a' });
  t.equal(withData.metadata.generation, 2);

  // Status through /status only; spec changes there are ignored.
  const status = await r.updateStatus(VS, { ...withData, spec: { persistentVolumeClaimName: 'zzz' }, status: { restoreSize: '1Gi', conditions: [{ type: 'Ready', status: 'True' }] } }, { namespace: 'd', name: 'a', fieldManager: 'worker' });
  t.same(status.status, { restoreSize: '1Gi', conditions: [{ type: 'Ready', status: 'True' }] });
  t.equal((status.spec as { persistentVolumeClaimName: string }).persistentVolumeClaimName, 'pvc1');
  t.equal(status.metadata.generation, 2);
  t.match(status.metadata.managedFields, [{ manager: 'edit' }, { manager: 'worker', subresource: 'status', fieldsV1: { 'f:status': {} } }]);
});

t.test('patch: merge and json', async (t) => {
  const r = setup(t);
  await r.create(VS, snapshot('a'), { namespace: 'd' });
  const merged = await r.patch(VS, { namespace: 'd', name: 'a', patchType: 'merge', patch: { metadata: { labels: { a: 'b' } } } });
  t.same(merged.metadata.labels, { a: 'b' });
  const json = await r.patch(VS, { namespace: 'd', name: 'a', patchType: 'json', patch: [{ op: 'add', path: '/metadata/annotations', value: { n: 'v' } }] });
  t.same(json.metadata.annotations, { n: 'v' });
  const status = await r.patch(VS, { namespace: 'd', name: 'a', subresource: 'status', patchType: 'merge', patch: { status: { restoreSize: '2Gi' } } });
  t.equal((status.status as { restoreSize: string }).restoreSize, '2Gi');
  const ignored = await r.patch(VS, { namespace: 'd', name: 'a', patchType: 'merge', patch: { status: { restoreSize: '3Gi' } } });
  t.equal((ignored.status as { restoreSize: string }).restoreSize, '2Gi');
  const strict = await rejectionOf(StatusError, r.patch(VS, { namespace: 'd', name: 'a', patchType: 'merge', patch: { spec: { bogus: 1 } }, fieldValidation: 'Strict' }));
  t.equal(strict.code, 422);
  t.match(strict.message, /strict decoding error: unknown field "spec.bogus"/);
  const missing = await rejectionOf(StatusError, r.patch(VS, { namespace: 'd', name: 'nope', patchType: 'merge', patch: {} }));
  t.equal(missing.code, 404);
  const stale = await rejectionOf(StatusError, r.patch(VS, { namespace: 'd', name: 'a', patchType: 'merge', patch: { metadata: { resourceVersion: '1' } } }));
  t.equal(stale.code, 409);
});

t.test('delete: preconditions and finalizers', async (t) => {
  const r = setup(t);
  const a = await r.create(VS, { ...snapshot('a'), metadata: { name: 'a', finalizers: ['example.com/keep'] } }, { namespace: 'd' });
  const pre = await rejectionOf(StatusError, r.delete(VS, { namespace: 'd', name: 'a', preconditions: { uid: 'nope' } }));
  t.equal(pre.code, 409);
  t.equal(pre.message, `Operation cannot be fulfilled on volumesnapshots.${G} "a": Precondition failed: UID in precondition: nope, UID in object meta: ${a.metadata.uid}`);
  const marked = await r.delete(VS, { namespace: 'd', name: 'a' });
  t.equal(marked.metadata.deletionTimestamp, marked.metadata.deletionTimestamp && String(marked.metadata.deletionTimestamp));
  t.equal(marked.metadata.deletionGracePeriodSeconds, 0);
  t.equal(marked.metadata.generation, 2);
  t.ok((await r.get(VS, { namespace: 'd', name: 'a' })).metadata.deletionTimestamp);
  const noNew = await rejectionOf(StatusError, r.patch(VS, { namespace: 'd', name: 'a', patchType: 'merge', patch: { metadata: { finalizers: ['example.com/keep', 'x.io/more'] } } }));
  t.match(noNew.message, /no new finalizers can be added if the object is being deleted/);
  // Removing the last finalizer deletes it.
  await r.patch(VS, { namespace: 'd', name: 'a', patchType: 'merge', patch: { metadata: { finalizers: null } } });
  t.equal((await rejectionOf(StatusError, r.get(VS, { namespace: 'd', name: 'a' }))).code, 404);

  const b = await r.create(VS, snapshot('b'), { namespace: 'd' });
  const deleted = await r.delete(VS, { namespace: 'd', name: 'b', preconditions: { resourceVersion: b.metadata.resourceVersion as string } });
  t.equal(deleted.metadata.name, 'b');
  t.equal((await rejectionOf(StatusError, r.delete(VS, { namespace: 'd', name: 'b' }))).code, 404);
});

t.test('list, selectors, deleteCollection, cluster scope', async (t) => {
  const r = setup(t);
  for (const [ns, name, app] of [['a', 'x', 'web'], ['a', 'y', 'db'], ['b', 'z', 'web']]) {
    await r.create(VS, { ...snapshot(name), metadata: { name, labels: { app } } }, { namespace: ns });
  }
  const all = await r.list(VS);
  t.equal(all.kind, 'VolumeSnapshotList');
  t.equal(all.items.length, 3);
  t.same((await r.list(VS, { namespace: 'a' })).items.map((o) => o.metadata.name), ['x', 'y']);
  t.same((await r.list(VS, { labelSelector: 'app in (web)' })).items.map((o) => o.metadata.name).sort(), ['x', 'z']);
  t.same((await r.list(VS, { fieldSelector: 'metadata.namespace=b' })).items.map((o) => o.metadata.name), ['z']);
  t.same((await r.list(VS, { fieldSelector: 'spec.persistentVolumeClaimName=pvc1', namespace: 'a' })).items.length, 2);
  const bad = await rejectionOf(StatusError, r.list(VS, { fieldSelector: 'spec.bogus=1' }));
  t.equal(bad.message, 'field label not supported: spec.bogus');
  const page = await r.list(VS, { limit: 2 });
  t.equal(page.items.length, 2);
  t.ok(page.metadata.continue);
  const rest = await r.list(VS, { limit: 2, continue: page.metadata.continue });
  t.equal(rest.items.length, 1);
  const removed = await r.deleteCollection(VS, { namespace: 'a', labelSelector: 'app=web' });
  t.same(removed.items.map((o) => o.metadata.name), ['x']);
  t.equal((await r.list(VS)).items.length, 2);

  const data = await r.create(VSD, { apiVersion: `${G}/v1`, kind: 'VolumeSnapshotData', metadata: { name: 'd1', namespace: 'ignored' }, spec: { hostPath: { snapshot: '/s' } } }, {});
  t.notOk('namespace' in data.metadata);
  t.equal((await r.get(VSD, { name: 'd1' })).metadata.name, 'd1');
});

t.test('watch: filters turn MODIFIED into ADDED/DELETED; bookmarks; expired', async (t) => {
  const r = setup(t);
  const a = await r.create(VS, { ...snapshot('a'), metadata: { name: 'a', labels: { app: 'web' } } }, { namespace: 'd' });
  const w = r.watch(VS, { namespace: 'd', labelSelector: 'app=web', resourceVersion: a.metadata.resourceVersion as string });
  const events: Array<[string, string | undefined]> = [];
  const done = (async () => {
    for await (const e of w) {
      events.push([e.type, (e.object.metadata.labels as Record<string, string> | undefined)?.app]);
      if (events.length === 3) break;
    }
  })();
  await r.patch(VS, { namespace: 'd', name: 'a', patchType: 'merge', patch: { metadata: { labels: { app: 'db' } } } });
  await r.patch(VS, { namespace: 'd', name: 'a', patchType: 'merge', patch: { metadata: { annotations: { x: 'y' } } } });
  await r.patch(VS, { namespace: 'd', name: 'a', patchType: 'merge', patch: { metadata: { labels: { app: 'web' } } } });
  await r.delete(VS, { namespace: 'd', name: 'a' });
  await done;
  w.stop();
  t.same(events, [
    ['DELETED', 'web'],
    ['ADDED', 'web'],
    ['DELETED', 'web'],
  ]);

  await r.create(VS, snapshot('b'), { namespace: 'd' });
  const list = r.watch(VS, { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true });
  const seen: string[] = [];
  for await (const e of list) {
    seen.push(e.type === 'BOOKMARK' ? `BOOKMARK:${JSON.stringify(e.object.metadata.annotations)}` : `${e.type}:${e.object.metadata.name}`);
    if (e.type === 'BOOKMARK') break;
  }
  list.stop();
  t.same(seen, ['ADDED:b', 'BOOKMARK:{"k8s.io/initial-events-end":"true"}']);

  const refused = await rejectionOf(StatusError, Promise.resolve().then(() => r.watch(VS, { sendInitialEvents: true })));
  t.equal(refused.code, 422);
  const err = await rejectionOf(StatusError, 
    (async () => {
      for await (const _e of r.watch(VS, { resourceVersion: '999999' })) void _e;
    })(),
  );
  t.equal(err.code, 504);
});

