// The SQLite store's group commit seen from its callers: concurrent writes share a batch yet keep per-write
// semantics (own revision, own compare-and-swap, own error), events follow in revision order, and a batch that cannot
// be written (disk full) refuses every write of it and leaves nothing behind.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { StorageError, type StoredObject, type WatchEvent } from '../../src/storage/store.js';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-group-commit-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const res = 'example.com/widgets';

/** synchronous FULL: the default, with the fsync before each acknowledgement. */
function open(): SqliteStore {
  return SqliteStore.open({ path: join(dir, `store-${++files}.db`) });
}

/** A store whose revision is past 0 (a watch from "0" would start with the current state, not replay history). */
async function openSeeded(): Promise<SqliteStore> {
  const store = open();
  await store.create('example.com/seeds', { metadata: { name: 'seed' } });
  return store;
}

const obj = (name: string, spec: Record<string, unknown> = {}): StoredObject => ({
  metadata: { name, namespace: 'ns' },
  spec,
});

async function take(store: SqliteStore, from: string, n: number): Promise<WatchEvent[]> {
  const watch = store.watch(res, { resourceVersion: from });
  const events: WatchEvent[] = [];
  for await (const event of watch) {
    events.push(event);
    if (events.length === n) break;
  }
  watch.stop();
  return events;
}

const codeOf = (r: PromiseSettledResult<unknown>) =>
  r.status === 'fulfilled' ? 'ok' : r.reason instanceof StorageError ? r.reason.code : String(r.reason);

t.test('many concurrent creates: distinct revisions in submission order, all readable once acknowledged', async (t) => {
  const store = await openSeeded();
  t.teardown(() => store.close());
  const start = Number(await store.currentResourceVersion());
  const n = 200;
  const created = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      store.create(res, obj(`o-${i}`, { i })).then(async (o) => {
        // A read after the acknowledgement sees the write.
        t.ok(await store.get({ resource: res, namespace: 'ns', name: `o-${i}` }), `o-${i} readable when acknowledged`);
        return o;
      }),
    ),
  );
  t.same(
    created.map((o) => Number(o.metadata.resourceVersion)),
    Array.from({ length: n }, (_, i) => start + 1 + i),
    'revisions are dense and follow the submission order',
  );
  t.equal(await store.currentResourceVersion(), String(start + n));
  const events = await take(store, String(start), n);
  t.same(
    events.map((e) => [e.type, e.object.metadata.name, Number(e.resourceVersion)]),
    Array.from({ length: n }, (_, i) => ['ADDED', `o-${i}`, start + 1 + i]),
    'one event per create, in revision order',
  );
});

t.test('a failing write in the middle of a batch fails alone; the others commit with their own revisions', async (t) => {
  const store = open();
  t.teardown(() => store.close());
  const a = await store.create(res, obj('a', { v: 0 }));
  const gone = await store.create(res, obj('gone'));
  const rv = Number(await store.currentResourceVersion());
  const live = store.watch(res, { resourceVersion: String(rv) })[Symbol.asyncIterator]();

  // All submitted in one turn: one batch.
  const results = await Promise.allSettled([
    store.create(res, obj('b')), // ok
    store.update(res, { ...a, spec: { v: 1 }, metadata: { ...a.metadata, resourceVersion: '1' + a.metadata.resourceVersion } }), // Conflict
    store.update(res, { ...a, spec: { v: 2 } }), // ok: the CAS on a's current revision
    store.update(res, { ...a, spec: { v: 3 } }), // Conflict: the write before it in the batch moved a on
    store.create(res, obj('b')), // AlreadyExists: created earlier in the same batch
    store.delete({ resource: res, namespace: 'ns', name: 'gone' }, { uid: 'other' }), // PreconditionFailed
    store.delete({ resource: res, namespace: 'ns', name: 'nothing' }), // NotFound
    store.delete({ resource: res, namespace: 'ns', name: 'gone' }, { resourceVersion: gone.metadata.resourceVersion }), // ok
    store.create(res, obj('c')), // ok
  ]);
  t.same(results.map(codeOf), [
    'ok',
    'Conflict',
    'ok',
    'Conflict',
    'AlreadyExists',
    'PreconditionFailed',
    'NotFound',
    'ok',
    'ok',
  ]);
  const value = (i: number) => (results[i] as PromiseFulfilledResult<StoredObject>).value;
  t.same(
    [0, 2, 7, 8].map((i) => Number(value(i).metadata.resourceVersion)),
    [rv + 1, rv + 2, rv + 3, rv + 4],
    'the successful writes took consecutive revisions in submission order',
  );
  const conflict = (results[3] as PromiseRejectedResult).reason as StorageError;
  t.same(conflict.details, { expected: a.metadata.resourceVersion, actual: String(rv + 2) });

  const events: WatchEvent[] = [];
  for (let i = 0; i < 4; i++) events.push((await live.next()).value as WatchEvent);
  t.same(
    events.map((e) => [e.type, e.object.metadata.name, e.resourceVersion]),
    [
      ['ADDED', 'b', String(rv + 1)],
      ['MODIFIED', 'a', String(rv + 2)],
      ['DELETED', 'gone', String(rv + 3)],
      ['ADDED', 'c', String(rv + 4)],
    ],
    'events for exactly the successful writes, in revision order',
  );
  await live.return?.();
  t.same((await store.get({ resource: res, namespace: 'ns', name: 'a' }))?.spec, { v: 2 });
  t.equal(await store.currentResourceVersion(), String(rv + 4));
});

t.test('a watch started while a batch awaits its fsync sees each write exactly once', async (t) => {
  const store = await openSeeded();
  t.teardown(() => store.close());
  const from = await store.currentResourceVersion();
  const early = store.watch(res, { resourceVersion: from })[Symbol.asyncIterator]();
  const writes = Promise.all([store.create(res, obj('w-1')), store.create(res, obj('w-2'))]);
  // After the batch's commit (setImmediate) and most likely before its fsync returned.
  await new Promise((resolve) => setImmediate(resolve));
  const late = store.watch(res, { resourceVersion: from })[Symbol.asyncIterator]();
  const fromState = store.watch(res, { resourceVersion: '0' })[Symbol.asyncIterator]();
  await writes;
  const after = await store.create(res, obj('w-3'));
  for (const [name, it] of [
    ['started before', early],
    ['started in the window, from a revision', late],
    ['started in the window, from the state', fromState],
  ] as const) {
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push(((await it.next()).value as WatchEvent).object.metadata.name);
    t.same(seen, ['w-1', 'w-2', 'w-3'], `${name}: each once, in order`);
    await it.return?.();
  }
  t.equal(after.metadata.resourceVersion, String(Number(from) + 3));
});

t.test('concurrent guaranteedUpdates of one key lose no increment', async (t) => {
  const store = open();
  t.teardown(() => store.close());
  const ref = { resource: res, namespace: 'ns', name: 'counter' };
  const bump = () =>
    store.guaranteedUpdate(ref, (current) => ({
      ...(current ?? obj('counter')),
      spec: { count: ((current?.spec as { count?: number } | undefined)?.count ?? 0) + 1 },
    }));
  await Promise.all([
    ...Array.from({ length: 30 }, bump),
    ...Array.from({ length: 30 }, (_, i) => store.create(res, obj(`x-${i}`))),
  ]);
  t.same((await store.get(ref))?.spec, { count: 30 });
});

t.test('disk full: every write of the failed batch is refused (Unavailable), nothing of it is kept', async (t) => {
  const store = await openSeeded();
  t.teardown(() => store.close());
  await store.create(res, obj('before'));
  const rv = await store.currentResourceVersion();
  // The store's own connection, reached past `private`: SQLite's max_page_count is per connection, and capping it is
  // the way to make SQLite answer SQLITE_FULL ("database or disk is full") without filling a real disk (the HTTP
  // version with a real full tmpfs is test/hardening/faults.test.ts).
  const db = (store as unknown as { db: Database.Database }).db;
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
  const big = 'x'.repeat(64 * 1024);
  const results = await Promise.allSettled([
    store.create(res, obj('small-1')),
    store.create(res, obj('big', { big })),
    store.update(res, { ...(await store.get({ resource: res, namespace: 'ns', name: 'before' }))!, spec: { big } }),
    store.create(res, obj('small-2')),
  ]);
  for (const r of results) {
    t.equal(r.status, 'rejected');
    const reason = (r as PromiseRejectedResult).reason as StorageError;
    t.equal(reason.code, 'Unavailable');
    t.match(reason.message, /^store write failed: .*disk is full/);
  }
  t.equal(await store.currentResourceVersion(), rv, 'no revision taken');
  for (const name of ['small-1', 'big', 'small-2']) {
    t.equal(await store.get({ resource: res, namespace: 'ns', name }), undefined, `${name} not stored`);
  }
  t.same((await store.get({ resource: res, namespace: 'ns', name: 'before' }))?.spec, {}, 'the update not applied');

  db.pragma('max_page_count = 1073741823');
  const after = await store.create(res, obj('after', { big }));
  t.equal(after.metadata.resourceVersion, String(Number(rv) + 1), 'writes resume with the next revision');
  const events = await take(store, String(Number(rv) - 1), 2);
  t.same(
    events.map((e) => e.object.metadata.name),
    ['before', 'after'],
    'the history holds no trace of the refused batch',
  );
  t.same(db.pragma('integrity_check', { simple: true }), 'ok');
});

t.test('close() commits the writes already accepted', async (t) => {
  const path = join(dir, `store-${++files}.db`);
  let store = SqliteStore.open({ path });
  const pending = Array.from({ length: 10 }, (_, i) => store.create(res, obj(`p-${i}`)));
  await store.close();
  const created = await Promise.all(pending);
  t.equal(created.length, 10, 'all acknowledged');
  await t.rejects(store.create(res, obj('late')), { code: 'Unavailable' }, 'a closed store refuses writes');
  store = SqliteStore.open({ path });
  t.teardown(() => store.close());
  t.equal((await store.list(res)).items.length, 10, 'and they are in the file');
});
