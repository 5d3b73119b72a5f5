// The etcd backend: the same conformance suite as SQLite, unchanged, plus what only etcd has — several stores on one
// etcd, compaction, etcd going away and coming back, kill -9 of etcd.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Etcd3 } from 'etcd3';
import { ensurePki } from '../../src/server/pki.js';
import { EtcdStore } from '../../src/storage/etcd-store.js';
import { StorageError, type StoredObject, type Watch, type WatchEvent } from '../../src/storage/store.js';
import { runStoreConformance } from './conformance.js';
import { startEtcd, startTcpProxy, type TestEtcd } from '../helpers/etcd.js';

let prefixCounter = 0;
function freshPrefix(): string {
  return `/registry/test${++prefixCounter}x${Date.now().toString(36)}`;
}

async function connect(etcd: TestEtcd, options: Partial<Parameters<typeof EtcdStore.connect>[0]> = {}) {
  return EtcdStore.connect({ endpoints: [etcd.endpoint], prefix: freshPrefix(), requestTimeoutMs: 2000, ...options });
}

const etcd = await startEtcd();
t.teardown(() => etcd.cleanup());

runStoreConformance(t, 'etcd', async (options) => {
  const store = await connect(etcd, {
    compaction: options?.historyMaxEvents ? { keepRevisions: options.historyMaxEvents } : undefined,
  });
  return { store, cleanup: () => store.close() };
});

interface Thing extends StoredObject {
  spec?: { value?: number; count?: number };
}

function thing(name: string, namespace = 'ns', value = 0): Thing {
  return { metadata: { name, namespace, uid: `uid-${namespace}-${name}` }, spec: { value } };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function storageError(promise: Promise<unknown>): Promise<StorageError | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof StorageError) return error;
    throw error;
  }
}

async function firstWatchError(watch: Watch): Promise<StorageError | undefined> {
  try {
    await withTimeout(watch[Symbol.asyncIterator]().next(), 5000, 'the watch error');
    return undefined;
  } catch (error) {
    return error instanceof StorageError ? error : undefined;
  } finally {
    watch.stop();
  }
}

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const RES = 'test.example.com/things';

t.test('two stores on one etcd: watches see each other, CAS conflicts across them', async (t) => {
  const prefix = freshPrefix();
  const a = await EtcdStore.connect({ endpoints: [etcd.endpoint], prefix });
  const b = await EtcdStore.connect({ endpoints: [etcd.endpoint], prefix });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const watch = b.watch(RES, { resourceVersion: await b.currentResourceVersion() });
  const it = watch[Symbol.asyncIterator]();
  const created = await a.create(RES, thing('x'));
  const seen = await withTimeout(it.next(), 5000, 'the event on the other store');
  t.same([seen.value?.type, seen.value?.object], ['ADDED', created], 'a write on one is watched on the other');
  t.same(await b.get({ resource: RES, namespace: 'ns', name: 'x' }), created, 'and read');

  const racers = await Promise.allSettled([
    a.update(RES, { ...created, spec: { value: 1 } }),
    b.update(RES, { ...created, spec: { value: 2 } }),
  ]);
  t.equal(racers.filter((r) => r.status === 'fulfilled').length, 1, 'one of two replicas wins the same revision');
  const lost = racers.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.equal((lost.reason as StorageError).code, 'Conflict', 'the other gets Conflict');

  const ref = { resource: RES, namespace: 'ns', name: 'x' };
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? a : b).guaranteedUpdate(ref, (cur) => ({
        ...cur!,
        spec: { count: ((cur as Thing).spec?.count ?? 0) + 1 },
      })),
    ),
  );
  t.equal(((await a.get(ref)) as Thing).spec?.count, 20, 'read-modify-writes from two replicas lose nothing');
  watch.stop();
});

t.test('compaction: Expired for watches, exact lists and continue tokens, on every replica', async (t) => {
  const prefix = freshPrefix();
  const a = await EtcdStore.connect({ endpoints: [etcd.endpoint], prefix });
  const b = await EtcdStore.connect({ endpoints: [etcd.endpoint], prefix });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const first = await a.create(RES, thing('first'));
  await a.create(RES, thing('second'));
  const page = await a.list(RES, { limit: 1 });
  t.ok(page.continue, 'a paginated list');
  const live = a.watch(RES, { resourceVersion: page.resourceVersion });
  const liveIt = live[Symbol.asyncIterator]();
  for (let i = 0; i < 5; i++) await a.create(RES, thing(`filler${i}`));
  // Once the shared etcd watch delivers, it is established (a compaction racing its creation would end it: Expired).
  const events: string[] = [(await withTimeout(liveIt.next(), 5000, 'the first event')).value!.object.metadata.name];
  const compactTo = Number(await a.currentResourceVersion());
  await a.compact(compactTo);

  for (const [name, store] of [
    ['the compacting replica', a],
    ['another replica', b],
  ] as const) {
    const error = await firstWatchError(store.watch(RES, { resourceVersion: first.metadata.resourceVersion }));
    t.equal(error?.code, 'Expired', `${name}: a watch from before the compaction → Expired`);
    t.same(error?.details, { requested: first.metadata.resourceVersion, oldest: String(compactTo) }, 'with the window');
    t.match(error?.message, /^too old resource version: \d+ \(\d+\)$/);
    const cont = await storageError(store.list(RES, { limit: 1, continue: page.continue }));
    t.equal(cont?.code, 'Expired', `${name}: a continue token from before → Expired`);
    t.match(cont?.message, /continue parameter is too old/);
    const exact = await storageError(
      store.list(RES, { resourceVersion: page.resourceVersion, resourceVersionMatch: 'Exact' }),
    );
    t.equal(exact?.code, 'Expired', `${name}: an exact list from before → Expired`);
    const ok = store.watch(RES, { resourceVersion: String(compactTo) });
    const next = await a.create(RES, thing(`after-${name.length}`));
    const okIt = ok[Symbol.asyncIterator]();
    let event: WatchEvent | undefined;
    do event = (await withTimeout(okIt.next(), 5000, 'a watch from the compaction revision')).value;
    while (event && event.resourceVersion !== next.metadata.resourceVersion && Number(event.resourceVersion) > compactTo);
    t.equal(event?.resourceVersion, next.metadata.resourceVersion, 'a watch from the compaction revision works');
    ok.stop();
  }
  // A watch that was already running is not disturbed by compaction.
  while (events.length < 7) events.push((await withTimeout(liveIt.next(), 5000, 'events')).value!.object.metadata.name);
  live.stop();
  t.same(events.slice(0, 5), ['filler0', 'filler1', 'filler2', 'filler3', 'filler4'], 'the running watch goes on');
});

t.test('connect fails with Unavailable when nothing answers', async (t) => {
  const error = await storageError(
    EtcdStore.connect({ endpoints: ['http://127.0.0.1:1'], prefix: '/registry/none', dialTimeoutMs: 1000 }),
  );
  t.equal(error?.code, 'Unavailable');
  t.match(error?.message, /cannot reach etcd at http:\/\/127\.0\.0\.1:1/);
});

t.test('etcd stops under load: Unavailable, not ready, then service resumes by itself with no silent gap', async (t) => {
  const own = await startEtcd();
  t.teardown(() => own.cleanup());
  const store = await EtcdStore.connect({ endpoints: [own.endpoint], prefix: freshPrefix(), requestTimeoutMs: 2000 });
  t.teardown(() => store.close());
  const watch = store.watch(RES, { resourceVersion: await store.currentResourceVersion() });
  const it = watch[Symbol.asyncIterator]();

  const acknowledged = new Map<string, string>(); // name → resourceVersion
  const failures: { code: string; ms: number }[] = [];
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const began = Date.now();
      try {
        const obj = await store.create(RES, thing(`w${String(i).padStart(4, '0')}`));
        acknowledged.set(obj.metadata.name, obj.metadata.resourceVersion!);
      } catch (error) {
        if (!(error instanceof StorageError)) throw error;
        failures.push({ code: error.code, ms: Date.now() - began });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();
  await until('writes before the outage', 10_000, async () => acknowledged.size >= 20);
  await own.stop();
  await until('a write to fail', 10_000, async () => failures.length >= 3);
  t.ok(
    failures.every((f) => f.code === 'Unavailable'),
    `writes fail with Unavailable (${[...new Set(failures.map((f) => f.code))].join(',')})`,
  );
  t.ok(
    failures.every((f) => f.ms < 5000),
    `and fail within bounded time (${Math.max(...failures.map((f) => f.ms))} ms)`,
  );
  t.equal(await store.ready(), false, 'ready() is false while etcd is down');
  t.equal((await storageError(store.get({ resource: RES, namespace: 'ns', name: 'w0000' })))?.code, 'Unavailable');
  const ackedBefore = acknowledged.size;

  await own.restart();
  await until('ready again', 20_000, () => store.ready());
  await until('writes after the outage', 20_000, async () => acknowledged.size >= ackedBefore + 20);
  writing = false;
  await writer;
  t.pass(`${acknowledged.size} writes acknowledged, ${ackedBefore} before etcd came back`);

  // The watcher started before the outage: every acknowledged write exactly once, in order, or Expired.
  const lastRv = Math.max(...[...acknowledged.values()].map(Number));
  const seen = new Map<string, number>();
  let previous = 0;
  let ended: StorageError | undefined;
  try {
    for (;;) {
      const { value, done } = await withTimeout(it.next(), 15_000, 'the watch to catch up');
      if (done) break;
      const rv = Number(value.resourceVersion);
      if (value.type === 'BOOKMARK') continue;
      if (rv <= previous) t.fail(`event ${rv} after ${previous}: not in revision order`);
      previous = rv;
      seen.set(value.object.metadata.name, (seen.get(value.object.metadata.name) ?? 0) + 1);
      if (rv >= lastRv) break;
    }
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    ended = error;
  }
  watch.stop();
  if (ended) {
    t.equal(ended.code, 'Expired', 'a watcher that cannot resume gets Expired');
  } else {
    const missing = [...acknowledged.keys()].filter((name) => seen.get(name) !== 1);
    t.same(missing, [], 'every acknowledged write seen exactly once across the outage');
    t.ok([...seen.values()].every((n) => n === 1), 'no event repeated');
  }
  const listed = await store.list(RES);
  t.ok(
    [...acknowledged].every(([name, rv]) => listed.items.some((o) => o.metadata.name === name && o.metadata.resourceVersion === rv)),
    'every acknowledged write is stored',
  );
});

t.test('kill -9 of etcd after acknowledged writes: all there after a restart', async (t) => {
  const own = await startEtcd();
  t.teardown(() => own.cleanup());
  const prefix = freshPrefix();
  const store = await EtcdStore.connect({ endpoints: [own.endpoint], prefix, requestTimeoutMs: 2000 });
  t.teardown(() => store.close());
  const acknowledged = new Map<string, string>();
  let writing = true;
  const writers = Array.from({ length: 4 }, (_, w) =>
    (async () => {
      for (let i = 0; writing; i++) {
        try {
          const obj = await store.create(RES, thing(`k${w}-${i}`));
          acknowledged.set(obj.metadata.name, obj.metadata.resourceVersion!);
        } catch (error) {
          if (!(error instanceof StorageError)) throw error;
          return; // etcd is gone
        }
      }
    })(),
  );
  await until('acknowledged writes', 10_000, async () => acknowledged.size >= 100);
  await own.kill9(); // while writes are in flight
  writing = false;
  await Promise.all(writers);
  const acked = new Map(acknowledged);
  await own.restart();
  const reopened = await EtcdStore.connect({ endpoints: [own.endpoint], prefix });
  t.teardown(() => reopened.close());
  const listed = new Map((await reopened.list(RES)).items.map((o) => [o.metadata.name, o.metadata.resourceVersion]));
  const lost = [...acked].filter(([name, rv]) => listed.get(name) !== rv);
  t.same(lost, [], `all ${acked.size} acknowledged writes survive kill -9 of etcd`);
});

t.test('partition from etcd: the watch resumes without a gap, or ends Expired when etcd compacted meanwhile', async (t) => {
  const proxy = await startTcpProxy(etcd.endpoint);
  t.teardown(() => proxy.close());
  const prefix = freshPrefix();
  const cutOff = await EtcdStore.connect({ endpoints: [proxy.endpoint], prefix, requestTimeoutMs: 1000 });
  const direct = await EtcdStore.connect({ endpoints: [etcd.endpoint], prefix });
  t.teardown(async () => {
    await cutOff.close();
    await direct.close();
  });
  const watch = cutOff.watch(RES, { resourceVersion: await cutOff.currentResourceVersion() });
  const it = watch[Symbol.asyncIterator]();
  const a = await cutOff.create(RES, thing('a'));
  t.equal((await withTimeout(it.next(), 5000, 'ADDED a')).value?.resourceVersion, a.metadata.resourceVersion);

  proxy.cut();
  t.equal((await storageError(cutOff.create(RES, thing('b'))))?.code, 'Unavailable', 'cut off: Unavailable');
  t.equal(await cutOff.ready(), false, 'cut off: not ready');
  const meanwhile: string[] = [];
  for (let i = 0; i < 5; i++) meanwhile.push((await direct.create(RES, thing(`m${i}`))).metadata.resourceVersion!);
  proxy.restore();
  const resumed: string[] = [];
  while (resumed.length < meanwhile.length) {
    resumed.push((await withTimeout(it.next(), 15_000, 'the resumed watch')).value!.resourceVersion);
  }
  t.same(resumed, meanwhile, 'after the partition: every write made meanwhile, once, in order');
  await until('ready after the partition', 15_000, () => cutOff.ready());

  proxy.cut();
  const last = await direct.create(RES, thing('gone'));
  await direct.create(RES, thing('gone2'));
  const compactTo = Number(await direct.currentResourceVersion());
  await direct.compact(compactTo);
  proxy.restore();
  let error: unknown;
  try {
    const { value } = await withTimeout(it.next(), 15_000, 'the watch to end');
    t.fail(`expected Expired, got ${value?.type} ${value?.resourceVersion}`);
  } catch (e) {
    error = e;
  }
  t.ok(error instanceof StorageError && error.code === 'Expired', 'compacted while cut off: Expired, not a gap');
  t.same((error as StorageError).details, {
    requested: meanwhile[meanwhile.length - 1],
    oldest: String(compactTo),
  }, 'Expired says where the watch stood and what etcd still has');
  t.ok(Number(last.metadata.resourceVersion) > Number(meanwhile[meanwhile.length - 1]));
  watch.stop();
  await until('ready again', 15_000, () => cutOff.ready());
  t.ok(await cutOff.create(RES, thing('after')), 'writes work again by themselves');
});

t.test('TLS with client certificates (--etcd-cafile, --etcd-certfile, --etcd-keyfile)', async (t) => {
  const certDir = mkdtempSync(join(tmpdir(), 'etcd-pki-'));
  t.teardown(() => rmSync(certDir, { recursive: true, force: true }));
  const { files } = await ensurePki({ certDir, serviceName: 'etcd', serviceNamespace: 'test' });
  const secure = await startEtcd({
    tls: {
      certFile: files.servingCert,
      keyFile: files.servingKey,
      trustedCaFile: files.caCert,
      clientCertFile: files.adminCert,
      clientKeyFile: files.adminKey,
    },
  });
  t.teardown(() => secure.cleanup());
  t.match(secure.endpoint, /^https:/);
  const store = await EtcdStore.connect({
    endpoints: [secure.endpoint],
    prefix: freshPrefix(),
    ca: files.caCert,
    cert: files.adminCert,
    key: files.adminKey,
  });
  t.teardown(() => store.close());
  const watch = store.watch(RES, { resourceVersion: await store.currentResourceVersion() });
  const created = await store.create(RES, thing('tls'));
  t.same(await store.get({ resource: RES, namespace: 'ns', name: 'tls' }), created, 'reads and writes over TLS');
  const event = await withTimeout(watch[Symbol.asyncIterator]().next(), 5000, 'a watch event over TLS');
  t.equal(event.value?.resourceVersion, created.metadata.resourceVersion, 'and watches');
  watch.stop();

  const noClientCert = await storageError(
    EtcdStore.connect({ endpoints: [secure.endpoint], prefix: freshPrefix(), ca: files.caCert, dialTimeoutMs: 2000 }),
  );
  t.equal(noClientCert?.code, 'Unavailable', 'etcd refuses a client without a certificate: Unavailable at connect');
  await t.rejects(
    EtcdStore.connect({ endpoints: [secure.endpoint], prefix: '/x' }),
    /CA file is required/,
    'https without a CA is a configuration error',
  );
});

t.test('large lists and initial watch states are read in pages at one revision', async (t) => {
  const store = await connect(etcd);
  t.teardown(() => store.close());
  const n = 1200;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        await store.create(RES, thing(`big-${String(i).padStart(5, '0')}`, `ns${i % 3}`));
      }
    }),
  );
  const writer = (async () => {
    for (let i = 0; i < 20; i++) await store.create(RES, thing(`late-${i}`, 'ns0'));
  })();
  const all = await store.list(RES);
  t.equal(all.items.filter((o) => o.metadata.name.startsWith('big-')).length, n, 'an unlimited list has them all');
  t.ok(all.items.every((o) => Number(o.metadata.resourceVersion) <= Number(all.resourceVersion)), 'at one revision');
  const exact = await store.list(RES, { resourceVersion: all.resourceVersion, resourceVersionMatch: 'Exact' });
  t.same(exact.items.map((o) => o.metadata.name), all.items.map((o) => o.metadata.name), 'the same list again, exactly');
  const watch = store.watch(RES, { namespace: 'ns1' });
  const it = watch[Symbol.asyncIterator]();
  let initial = 0;
  while (initial < n / 3) {
    const { value } = await withTimeout(it.next(), 5000, 'initial events');
    if (value?.type === 'ADDED' && value.object.metadata.name.startsWith('big-')) initial++;
  }
  t.equal(initial, n / 3, 'a watch from "0" starts with the whole namespace');
  watch.stop();
  await writer;
});

t.test('periodic compaction: one replica per interval compacts to the revision of one interval earlier', async (t) => {
  const prefix = freshPrefix();
  const intervalMs = 400;
  const errors: unknown[] = [];
  const options = { endpoints: [etcd.endpoint], prefix, compaction: { intervalMs }, onCompactionError: (e: unknown) => errors.push(e) };
  const raw = new Etcd3({ hosts: [etcd.endpoint] });
  const versionOf = async () => Number((await raw.get('compact_rev_key').exec()).kvs[0]?.version ?? 0);
  const versionBefore = await versionOf();
  const began = Date.now();
  const a = await EtcdStore.connect(options);
  const b = await EtcdStore.connect(options);
  t.teardown(async () => {
    await a.close();
    await b.close();
    raw.close();
  });
  const first = await a.create(RES, thing('first'));
  let latest = first;
  await until('the first revision to be compacted', 10_000, async () => {
    latest = await (latest === first ? b : a).create(RES, thing(`c${Date.now()}`));
    const error = await firstWatchError(b.watch(RES, { resourceVersion: first.metadata.resourceVersion }));
    return error?.code === 'Expired';
  });
  t.pass('a watch from before the last interval is Expired');
  const recent = a.watch(RES, { resourceVersion: latest.metadata.resourceVersion });
  const next = await b.create(RES, thing('next'));
  t.equal(
    (await withTimeout(recent[Symbol.asyncIterator]().next(), 5000, 'a recent watch')).value?.resourceVersion,
    next.metadata.resourceVersion,
    'a watch from within the last interval still works',
  );
  recent.stop();
  const turns = (await versionOf()) - versionBefore;
  const intervals = (Date.now() - began) / intervalMs;
  t.ok(turns >= 2 && turns <= intervals + 2, `one compaction turn per interval for both replicas (${turns} in ${intervals.toFixed(1)})`);
  t.same(errors, [], 'no compaction errors');
});

t.test('a create repeated with the same bytes and uid (a retry after a lost response) is not AlreadyExists', async (t) => {
  const store = await connect(etcd);
  t.teardown(() => store.close());
  const obj = thing('retried');
  const first = await store.create(RES, obj);
  const again = await store.create(RES, obj);
  t.same(again, first, 'the retry reports the create that committed');
  const other = await storageError(store.create(RES, { ...obj, metadata: { ...obj.metadata, uid: 'another-uid' } }));
  t.equal(other?.code, 'AlreadyExists', 'another object of that name is AlreadyExists');
  const noUid = { metadata: { name: 'no-uid', namespace: 'ns' } };
  await store.create(RES, noUid);
  t.equal((await storageError(store.create(RES, noUid)))?.code, 'AlreadyExists', 'without a uid nothing is assumed');
});
