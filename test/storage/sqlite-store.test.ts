import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore, StoreOpenError } from '../../src/storage/sqlite-store.js';
import { StorageError, type WatchEvent } from '../../src/storage/store.js';
import { runStoreConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-store-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(dir, `store-${++files}.db`);

// synchronous=NORMAL keeps a loaded CI disk (an fsync per write) from dominating the run; durability.test.ts covers
// both FULL and NORMAL under kill -9.
runStoreConformance(t, 'sqlite file', async (options) => {
  const path = newPath();
  const store = SqliteStore.open({ path, historyMaxEvents: options?.historyMaxEvents, synchronous: 'NORMAL' });
  return { store, cleanup: () => store.close() };
});

runStoreConformance(t, 'sqlite :memory:', async (options) => {
  const store = SqliteStore.open({ path: ':memory:', historyMaxEvents: options?.historyMaxEvents });
  return { store, cleanup: () => store.close() };
});

t.test('history survives a restart: a watch resumes from before it', async (t) => {
  const path = newPath();
  const res = 'example.com/widgets';
  let store = SqliteStore.open({ path });
  const a = await store.create(res, { metadata: { name: 'a', namespace: 'ns' } });
  const rv = a.metadata.resourceVersion!;
  const b = await store.create(res, { metadata: { name: 'b', namespace: 'ns' } });
  const page = await store.list(res, { limit: 1 });
  await store.close();

  store = SqliteStore.open({ path });
  t.teardown(() => store.close());
  t.equal(await store.currentResourceVersion(), b.metadata.resourceVersion, 'the revision is kept');
  const c = await store.create(res, { metadata: { name: 'c', namespace: 'ns' } });
  t.ok(Number(c.metadata.resourceVersion) > Number(b.metadata.resourceVersion), 'and keeps increasing');
  const it = store.watch(res, { resourceVersion: rv })[Symbol.asyncIterator]();
  const events: WatchEvent[] = [(await it.next()).value, (await it.next()).value];
  t.same(
    events.map((e) => [e.type, e.object.metadata.name]),
    [
      ['ADDED', 'b'],
      ['ADDED', 'c'],
    ],
    'the watch replays from before the restart',
  );
  const page2 = await store.list(res, { limit: 1, continue: page.continue });
  t.same(
    page2.items.map((o) => o.metadata.name),
    ['b'],
    'a continue token from before the restart still pages at its revision',
  );
  t.equal(page2.continue, undefined, 'c was created after the token revision');
});

t.test('history is pruned by age', async (t) => {
  let now = 1_000_000;
  const store = SqliteStore.open({ path: ':memory:', historyMaxAgeMs: 60_000, now: () => now });
  t.teardown(() => store.close());
  const res = 'example.com/widgets';
  const first = await store.create(res, { metadata: { name: 'a' } });
  const second = await store.create(res, { metadata: { name: 'b' } });
  now += 120_000;
  await store.create(res, { metadata: { name: 'c' } });
  const it = store.watch(res, { resourceVersion: first.metadata.resourceVersion })[Symbol.asyncIterator]();
  await t.rejects(it.next(), { code: 'Expired' }, 'after two minutes the first event is gone');
  t.equal(store.oldestResourceVersion(), second.metadata.resourceVersion, 'both old events are gone');
  const fresh = store.watch(res, { resourceVersion: await store.currentResourceVersion() });
  const pending = fresh[Symbol.asyncIterator]().next();
  const d = await store.create(res, { metadata: { name: 'd' } });
  t.equal((await pending).value?.resourceVersion, d.metadata.resourceVersion, 'newer watches still work');
});

t.test('history is pruned by count, in batches', async (t) => {
  const store = SqliteStore.open({ path: ':memory:', historyMaxEvents: 100 });
  t.teardown(() => store.close());
  for (let i = 0; i < 300; i++) await store.create('example.com/widgets', { metadata: { name: `w${i}` } });
  const kept = 300 - Number(store.oldestResourceVersion());
  t.ok(kept >= 100 && kept <= 110, `keeps about historyMaxEvents events (${kept})`);
});

t.test('a file that is not ours is refused and left untouched', async (t) => {
  const foreign = newPath();
  const db = new Database(foreign);
  db.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts (name) VALUES ('x')");
  db.close();
  const garbage = newPath();
  writeFileSync(garbage, Buffer.from('this is not a database at all, just some text\n'.repeat(100)));

  for (const path of [foreign, garbage]) {
    const before = readFileSync(path);
    t.throws(() => SqliteStore.open({ path }), StoreOpenError, `${path} refused`);
    try {
      SqliteStore.open({ path });
    } catch (error) {
      t.match((error as Error).message, /is not this server's object store|cannot be opened as this server's object store/);
    }
    t.same(readFileSync(path), before, 'bytes unchanged');
    t.notOk(existsSync(`${path}-wal`), 'no WAL created');
  }
});

t.test('a store from a newer schema is refused and left untouched', async (t) => {
  const path = newPath();
  const store = SqliteStore.open({ path });
  await store.create('example.com/widgets', { metadata: { name: 'keep-me' } });
  await store.close();
  const db = new Database(path);
  db.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'from the future', 'x')").run();
  db.pragma('journal_mode = DELETE');
  db.close();
  const before = readFileSync(path);
  t.throws(() => SqliteStore.open({ path }), { name: 'StoreOpenError', message: /schema version 999, newer/ });
  t.same(readFileSync(path), before, 'bytes unchanged');
});

t.test('a path in a missing directory is a StoreOpenError', async (t) => {
  t.throws(() => SqliteStore.open({ path: join(dir, 'no-such-dir', 'store.db') }), {
    name: 'StoreOpenError',
    message: /cannot open .*no-such-dir/,
  });
});

t.test('an empty file becomes a store; reopening keeps the data', async (t) => {
  const path = newPath();
  writeFileSync(path, '');
  let store = SqliteStore.open({ path });
  await store.create('example.com/widgets', { metadata: { name: 'w' } });
  await store.close();
  store = SqliteStore.open({ path });
  t.teardown(() => store.close());
  t.ok(await store.get({ resource: 'example.com/widgets', name: 'w' }));
});

t.test('watch events are frozen and shared; returned objects are copies', async (t) => {
  const store = SqliteStore.open({ path: ':memory:' });
  t.teardown(() => store.close());
  const res = 'example.com/widgets';
  const w1 = store.watch(res, { resourceVersion: '0' })[Symbol.asyncIterator]();
  const w2 = store.watch(res, { resourceVersion: '0' })[Symbol.asyncIterator]();
  const created = await store.create(res, { metadata: { name: 'w', labels: { a: 'b' } } });
  created.metadata.labels!.a = 'changed';
  const e1 = (await w1.next()).value as WatchEvent;
  const e2 = (await w2.next()).value as WatchEvent;
  t.equal(e1.object.metadata.labels?.a, 'b', 'the event is not the returned object');
  t.ok(Object.isFrozen(e1.object.metadata.labels), 'events are deeply frozen');
  t.throws(() => {
    e1.object.metadata.name = 'x';
  }, TypeError);
  t.equal(e2.object.metadata.name, 'w');
});

t.test('a closed store answers Unavailable', async (t) => {
  const store = SqliteStore.open({ path: ':memory:' });
  await store.close();
  await t.rejects(store.get({ resource: 'r', name: 'x' }), StorageError);
  await t.rejects(store.create('r', { metadata: { name: 'x' } }), { code: 'Unavailable' });
});

t.test('a second server writing the same file is caught, not merged', async (t) => {
  const path = newPath();
  const a = SqliteStore.open({ path });
  const b = SqliteStore.open({ path });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await a.create('example.com/widgets', { metadata: { name: 'one' } });
  await t.rejects(
    b.create('example.com/widgets', { metadata: { name: 'two' } }),
    { code: 'Unavailable', message: /another process/ },
    'the stale writer fails instead of reusing a revision',
  );
  t.equal(await b.get({ resource: 'example.com/widgets', name: 'two' }), undefined, 'and wrote nothing');
});

t.test('backup while serving gives a store that opens with the same data and history', async (t) => {
  const path = newPath();
  const store = SqliteStore.open({ path });
  t.teardown(() => store.close());
  const res = 'example.com/widgets';
  const first = await store.create(res, { metadata: { name: 'a', namespace: 'ns' } });
  await store.create(res, { metadata: { name: 'b', namespace: 'ns' } });
  const copyPath = newPath();
  await store.backup(copyPath);
  await store.create(res, { metadata: { name: 'after-backup', namespace: 'ns' } });

  const copy = SqliteStore.open({ path: copyPath });
  t.teardown(() => copy.close());
  t.same(
    (await copy.list(res)).items.map((o) => o.metadata.name),
    ['a', 'b'],
    'the copy holds what was there at backup time',
  );
  const it = copy.watch(res, { resourceVersion: first.metadata.resourceVersion })[Symbol.asyncIterator]();
  t.equal((await it.next()).value?.object.metadata.name, 'b', 'and its history');
});
