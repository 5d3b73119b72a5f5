// The Store conformance suite: what any backend (SQLite now, etcd later) must do, written against the interface only.
// A backend's test calls runStoreConformance(t, 'sqlite', makeStore). makeStore may receive
// { historyMaxEvents } for the tests that need a tiny history window (Expired); it must honour it.
import type { Test } from 'tap';
import fc from 'fast-check';
import {
  StorageError,
  type Store,
  type StorageErrorCode,
  type StoredObject,
  type Watch,
  type WatchEvent,
} from '../../src/storage/store.js';

export interface ConformanceStoreOptions {
  /** Keep (about) this many events of history; older revisions must answer Expired. */
  historyMaxEvents?: number;
}

export type MakeStore = (
  options?: ConformanceStoreOptions,
) => Promise<{ store: Store; cleanup: () => Promise<void> }>;

interface Thing extends StoredObject {
  spec?: { value?: number; count?: number };
}

let resourceCounter = 0;
function freshResource(): string {
  return `conformance.example.com/things${++resourceCounter}x${Date.now().toString(36)}`;
}

function thing(name: string, namespace?: string, value = 0): Thing {
  return namespace
    ? { metadata: { name, namespace, uid: `uid-${namespace}-${name}` }, spec: { value } }
    : { metadata: { name, uid: `uid-${name}` }, spec: { value } };
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

function iteratorOf(watch: Watch): AsyncIterator<WatchEvent> {
  return watch[Symbol.asyncIterator]();
}

async function nextEvent(it: AsyncIterator<WatchEvent>, ms = 3000): Promise<WatchEvent> {
  const result = await withTimeout(it.next(), ms, 'a watch event');
  if (result.done) throw new Error('watch ended while an event was expected');
  return result.value;
}

async function takeEvents(it: AsyncIterator<WatchEvent>, n: number, ms = 3000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  while (out.length < n) out.push(await nextEvent(it, ms));
  return out;
}

/** Errors of a watch come from iteration, never from watch() itself; returns the StorageError code. */
async function watchErrorCode(t: Test, store: Store, resource: string, options: Parameters<Store['watch']>[1]) {
  let watch: Watch | undefined;
  t.doesNotThrow(() => {
    watch = store.watch(resource, options);
  }, 'watch() itself does not throw');
  if (!watch) return undefined;
  try {
    await withTimeout(iteratorOf(watch).next(), 3000, 'the watch error');
    return undefined;
  } catch (error) {
    return error instanceof StorageError ? error : undefined;
  } finally {
    watch.stop();
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

function code(error: StorageError | undefined): StorageErrorCode | undefined {
  return error?.code;
}

function keyOf(obj: StoredObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function runStoreConformance(t: Test, name: string, makeStore: MakeStore): void {
  t.test(`${name}: Store conformance`, async (t) => {
    const { store, cleanup } = await makeStore();
    t.teardown(cleanup);

    t.test('create, get, update, delete and their errors', async (t) => {
      const res = freshResource();
      t.equal(await store.get({ resource: res, namespace: 'ns', name: 'a' }), undefined, 'absent → undefined');

      const created = await store.create(res, thing('a', 'ns', 1));
      t.match(created.metadata.resourceVersion, /^[0-9]+$/, 'create sets a decimal resourceVersion');
      t.equal(await store.currentResourceVersion(), created.metadata.resourceVersion, 'store is at that revision');
      const got = await store.get({ resource: res, namespace: 'ns', name: 'a' });
      t.same(got, created, 'get returns what create stored');

      t.equal(code(await storageError(store.create(res, thing('a', 'ns', 2)))), 'AlreadyExists');
      t.ok(await store.create(res, thing('a', 'other', 3)), 'same name in another namespace is another object');
      t.ok(await store.create(res, thing('a')), 'and so is a cluster-scoped one');

      got!.spec = { value: 42 };
      const updated = await store.update(res, got!);
      t.ok(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion), 'update bumps RV');
      t.same(updated.spec, { value: 42 });

      const stale = await storageError(store.update(res, { ...created, spec: { value: 7 } }));
      t.equal(code(stale), 'Conflict', 'update with a stale resourceVersion → Conflict');
      t.equal(stale?.details.actual, updated.metadata.resourceVersion, 'Conflict says the current revision');
      t.equal(code(await storageError(store.update(res, thing('missing', 'ns')))), 'NotFound');

      // Returned objects are the caller's to mutate.
      (updated as Thing).spec!.value = -1;
      (await store.get({ resource: res, namespace: 'ns', name: 'a' }))!.metadata.labels = { mutated: 'yes' };
      const again = await store.get({ resource: res, namespace: 'ns', name: 'a' });
      t.same(again?.spec, { value: 42 }, 'mutating a returned object does not change the store');
      t.equal(again?.metadata.labels, undefined);

      const deleted = await store.delete({ resource: res, namespace: 'ns', name: 'a' });
      t.ok(
        Number(deleted.metadata.resourceVersion) > Number(updated.metadata.resourceVersion),
        'the deleted object carries the deletion revision',
      );
      t.same(deleted.spec, { value: 42 });
      t.equal(await store.get({ resource: res, namespace: 'ns', name: 'a' }), undefined);
      t.equal(code(await storageError(store.delete({ resource: res, namespace: 'ns', name: 'a' }))), 'NotFound');
      t.equal(await store.currentResourceVersion(), deleted.metadata.resourceVersion);
      t.equal(await store.ready(), true);
    });

    t.test('resourceVersion is store-wide and strictly increasing', async (t) => {
      const a = freshResource();
      const b = freshResource();
      const rvs: number[] = [];
      for (let i = 0; i < 5; i++) {
        rvs.push(Number((await store.create(i % 2 ? a : b, thing(`o${i}`, 'ns'))).metadata.resourceVersion));
      }
      t.ok(rvs.every((rv, i) => i === 0 || rv > rvs[i - 1]), `increasing across resources: ${rvs.join(',')}`);
    });

    t.test('guaranteedUpdate', async (t) => {
      const res = freshResource();
      const ref = { resource: res, namespace: 'ns', name: 'counter' };
      t.equal(code(await storageError(store.guaranteedUpdate(ref, () => undefined))), 'NotFound', 'absent + no-op');
      const created = await store.guaranteedUpdate(ref, (cur) => {
        t.equal(cur, undefined);
        return { metadata: { name: 'counter', namespace: 'ns' }, spec: { count: 0 } };
      });
      t.equal((created as Thing).spec?.count, 0, 'creates when absent');
      const same = await store.guaranteedUpdate(ref, (cur) => cur);
      t.equal(same.metadata.resourceVersion, created.metadata.resourceVersion, 'unchanged content writes nothing');
      const kept = await store.guaranteedUpdate(ref, () => undefined);
      t.equal(kept.metadata.resourceVersion, created.metadata.resourceVersion, 'undefined leaves it as it is');
      await t.rejects(
        store.guaranteedUpdate(ref, () => {
          throw new Error('mutate failed');
        }),
        { message: 'mutate failed' },
        'an error from mutate propagates',
      );
    });

    t.test('compare-and-swap with concurrent writers', async (t) => {
      const res = freshResource();
      const base = await store.create(res, { metadata: { name: 'c', namespace: 'ns' }, spec: { count: 0 } });
      const racers = await Promise.allSettled(
        [1, 2, 3, 4].map((v) => store.update(res, { ...base, spec: { count: v } })),
      );
      const won = racers.filter((r) => r.status === 'fulfilled');
      const lost = racers.filter((r) => r.status === 'rejected');
      t.equal(won.length, 1, 'exactly one update with the same resourceVersion wins');
      t.ok(
        lost.every((r) => r.status === 'rejected' && r.reason instanceof StorageError && r.reason.code === 'Conflict'),
        'the others get Conflict',
      );

      const ref = { resource: res, namespace: 'ns', name: 'c' };
      const before = Number((await store.get(ref))!.metadata.resourceVersion);
      const n = 40;
      await Promise.all(
        Array.from({ length: n }, async (_, i) =>
          store.guaranteedUpdate(ref, async (cur) => {
            // Yield so that the increments really interleave.
            await new Promise((resolve) => setImmediate(resolve));
            const obj = cur as Thing;
            return { ...obj, spec: { count: (obj.spec?.count ?? 0) + 1, value: i } };
          }),
        ),
      );
      const final = (await store.get(ref)) as Thing;
      const winner = (won[0] as PromiseFulfilledResult<StoredObject>).value as Thing;
      t.equal(final.spec?.count, winner.spec!.count! + n, 'no increment is lost');
      t.equal(Number(final.metadata.resourceVersion), before + n, 'one revision per increment');
    });

    t.test('delete preconditions', async (t) => {
      const res = freshResource();
      const obj = await store.create(res, thing('p', 'ns'));
      const ref = { resource: res, namespace: 'ns', name: 'p' };
      const byUid = await storageError(store.delete(ref, { uid: 'someone-else' }));
      t.equal(code(byUid), 'PreconditionFailed');
      t.same(byUid?.details, { field: 'UID', expected: 'someone-else', actual: obj.metadata.uid });
      const byRv = await storageError(store.delete(ref, { resourceVersion: '1' }));
      t.equal(code(byRv), 'PreconditionFailed');
      t.same(byRv?.details, { field: 'ResourceVersion', expected: '1', actual: obj.metadata.resourceVersion });
      t.ok(await store.get(ref), 'still there after failed preconditions');
      const gone = await store.delete(ref, { uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion });
      t.equal(gone.metadata.uid, obj.metadata.uid, 'matching preconditions delete');
    });

    t.test('list: order, namespaces, predicate, limit and continue', async (t) => {
      const res = freshResource();
      for (const [ns, n] of [
        ['b', 'x'],
        ['a', 'z'],
        ['a', 'y'],
        ['c', 'w'],
        ['b', 'v'],
      ]) {
        await store.create(res, thing(n, ns, n.charCodeAt(0)));
      }
      const all = await store.list(res);
      t.same(all.items.map(keyOf), ['a/y', 'a/z', 'b/v', 'b/x', 'c/w'], 'sorted by namespace, then name');
      t.equal(all.resourceVersion, await store.currentResourceVersion(), 'a list is at the current revision');
      t.equal(all.continue, undefined);
      t.same((await store.list(res, { namespace: 'b' })).items.map(keyOf), ['b/v', 'b/x'], 'one namespace');
      t.same((await store.list(res, { namespace: 'nope' })).items, []);

      const even = (o: StoredObject) => ((o as Thing).spec!.value! & 1) === 0;
      const filtered = await store.list(res, { predicate: even, limit: 1 });
      t.same(filtered.items.map(keyOf), ['a/z'], 'the predicate filters before the limit counts');
      t.ok(filtered.continue, 'more matching items remain');
      const rest = await store.list(res, { predicate: even, limit: 1, continue: filtered.continue });
      t.same(rest.items.map(keyOf), ['b/v']);
      const last = await store.list(res, { predicate: even, limit: 1, continue: rest.continue });
      t.same(last.items.map(keyOf), ['b/x']);
      t.equal(last.continue, undefined, 'no continue on the last page');

      const page1 = await store.list(res, { limit: 2 });
      t.same(page1.items.map(keyOf), ['a/y', 'a/z']);
      if (page1.remainingItemCount !== undefined) t.equal(page1.remainingItemCount, 3, 'remainingItemCount');
      const page2 = await store.list(res, { limit: 2, continue: page1.continue });
      t.same(page2.items.map(keyOf), ['b/v', 'b/x']);
      t.equal(page2.resourceVersion, page1.resourceVersion, 'pages share the first page RV');
      const nsPage = await store.list(res, { namespace: 'a', limit: 1 });
      const nsPage2 = await store.list(res, { namespace: 'a', limit: 1, continue: nsPage.continue });
      t.same([...nsPage.items, ...nsPage2.items].map(keyOf), ['a/y', 'a/z'], 'paging within a namespace');
      t.equal(nsPage2.continue, undefined);

      t.equal(code(await storageError(store.list(res, { continue: 'not a token!' }))), 'InvalidContinue');
      const wrongVersion = Buffer.from(JSON.stringify({ v: 'v9', rv: 1, start: 'a' })).toString('base64url');
      t.equal(code(await storageError(store.list(res, { continue: wrongVersion }))), 'InvalidContinue');
    });

    t.test('list: resourceVersion semantics', async (t) => {
      const res = freshResource();
      const one = await store.create(res, thing('one', 'ns', 1));
      const atOne = one.metadata.resourceVersion!;
      await store.update(res, { ...one, spec: { value: 2 } });
      await store.create(res, thing('two', 'ns'));
      const exact = await store.list(res, { resourceVersion: atOne, resourceVersionMatch: 'Exact' });
      t.equal(exact.resourceVersion, atOne, 'Exact serves the requested revision');
      t.same(exact.items, [one], 'with the state as it was then');
      const legacy = await store.list(res, { resourceVersion: atOne, limit: 10 });
      t.same(legacy.items, [one], 'a legacy list with limit and an RV is exact');
      const notOlder = await store.list(res, { resourceVersion: atOne, resourceVersionMatch: 'NotOlderThan' });
      t.equal(notOlder.items.length, 2, 'NotOlderThan serves something at least as new');
      t.ok(Number(notOlder.resourceVersion) >= Number(atOne));
      t.equal((await store.list(res, { resourceVersion: '0' })).items.length, 2, '"0" = any');
      const current = Number(await store.currentResourceVersion());
      const tooLarge = await storageError(store.list(res, { resourceVersion: String(current + 100) }));
      t.equal(code(tooLarge), 'TooLargeResourceVersion');
      t.equal(
        code(
          await storageError(
            store.list(res, { resourceVersion: String(current + 100), resourceVersionMatch: 'Exact' }),
          ),
        ),
        'TooLargeResourceVersion',
      );
      t.equal(code(await storageError(store.list(res, { resourceVersion: 'abc' }))), 'InvalidResourceVersion');
    });

    t.test('pagination under concurrent writes', async (t) => {
      const res = freshResource();
      const stable = Array.from({ length: 30 }, (_, i) => `stable-${String(i).padStart(2, '0')}`);
      for (const [i, n] of stable.entries()) await store.create(res, thing(n, `ns${i % 3}`));
      let writing = true;
      const churn = (async () => {
        let i = 0;
        while (writing) {
          const n = `churn-${i % 7}`;
          const ns = `ns${i % 3}`;
          await storageError(store.create(res, thing(n, ns, i)));
          const cur = await store.get({ resource: res, namespace: ns, name: `churn-${(i + 3) % 7}` });
          if (cur) await storageError(store.update(res, { ...cur, spec: { value: i } }));
          if (i % 2) await storageError(store.delete({ resource: res, namespace: ns, name: `churn-${(i + 5) % 7}` }));
          i++;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const seen: string[] = [];
      const remaining: [number, number][] = []; // [items seen through this page, remainingItemCount]
      let page = await store.list(res, { limit: 4 });
      const rv = page.resourceVersion;
      let pages = 1;
      for (;;) {
        if (page.remainingItemCount !== undefined) remaining.push([seen.length + page.items.length, page.remainingItemCount]);
        for (const item of page.items) {
          seen.push(keyOf(item));
          t.ok(Number(item.metadata.resourceVersion) <= Number(rv), 'no item newer than the list revision');
        }
        if (!page.continue) break;
        await new Promise((resolve) => setImmediate(resolve));
        page = await store.list(res, { limit: 4, continue: page.continue });
        t.equal(page.resourceVersion, rv, 'every page is at the first page RV');
        pages++;
      }
      writing = false;
      await churn;
      t.ok(pages > 5, `paged (${pages} pages)`);
      t.equal(new Set(seen).size, seen.length, 'no object appears twice');
      for (const [i, n] of stable.entries()) {
        t.equal(seen.filter((k) => k === `ns${i % 3}/${n}`).length, 1, `${n} appears exactly once`);
      }
      const exact = await store.list(res, { resourceVersion: rv, resourceVersionMatch: 'Exact' });
      t.same(exact.items.map(keyOf), seen, 'the pages together are the snapshot at the list RV');
      for (const [through, count] of remaining) {
        t.equal(count, seen.length - through, `remainingItemCount after ${through} items is exact`);
      }
    });

    t.test('watch from "0" or unset: current state as ADDED, then live', async (t) => {
      const res = freshResource();
      await store.create(res, thing('a', 'ns1'));
      await store.create(res, thing('b', 'ns2'));
      for (const resourceVersion of ['0', undefined]) {
        const now = await store.list(res);
        const watch = store.watch(res, { resourceVersion });
        const it = iteratorOf(watch);
        const initial = await takeEvents(it, now.items.length);
        t.same(
          initial.map((e) => [e.type, e.object]),
          now.items.map((o) => ['ADDED', o]),
          `initial ADDED events (resourceVersion ${resourceVersion})`,
        );
        const c = await store.create(res, thing(`c${resourceVersion ?? 'u'}`, 'ns1'));
        const live = await nextEvent(it);
        t.equal(live.type, 'ADDED');
        t.equal(live.resourceVersion, c.metadata.resourceVersion);
        t.same(live.object, c);
        watch.stop();
        t.same(await withTimeout(it.next(), 1000, 'end'), { done: true, value: undefined }, 'stop() ends it');
      }
    });

    t.test('watch from a revision: every later change once, in order, with prevObject', async (t) => {
      const res = freshResource();
      const a = await store.create(res, thing('a', 'ns1', 1));
      const list = await store.list(res);
      const b = await store.create(res, thing('b', 'ns2', 1));
      const a2 = await store.update(res, { ...a, spec: { value: 2 } });
      const watch = store.watch(res, { resourceVersion: list.resourceVersion });
      const nsWatch = store.watch(res, { resourceVersion: list.resourceVersion, namespace: 'ns1' });
      const aDel = await store.delete({ resource: res, namespace: 'ns1', name: 'a' });
      const events = await takeEvents(iteratorOf(watch), 3);
      t.same(
        events.map((e) => [e.type, keyOf(e.object), e.resourceVersion]),
        [
          ['ADDED', 'ns2/b', b.metadata.resourceVersion],
          ['MODIFIED', 'ns1/a', a2.metadata.resourceVersion],
          ['DELETED', 'ns1/a', aDel.metadata.resourceVersion],
        ],
        'history, then live',
      );
      t.same(events[1].prevObject, a, 'MODIFIED carries the previous object');
      t.same(events[2].object, aDel, 'DELETED carries the last state with the deletion revision');
      t.same(events[2].prevObject, a2);
      const nsEvents = await takeEvents(iteratorOf(nsWatch), 2);
      t.same(
        nsEvents.map((e) => e.type),
        ['MODIFIED', 'DELETED'],
        'a namespace watch sees only its namespace',
      );
      const after = store.watch(res, { resourceVersion: aDel.metadata.resourceVersion });
      const it = iteratorOf(after);
      const next = await store.create(res, thing('c', 'ns1'));
      t.equal((await nextEvent(it)).resourceVersion, next.metadata.resourceVersion, 'from the latest: live only');
      watch.stop();
      nsWatch.stop();
      after.stop();
    });

    t.test('watch-list: initial events, a bookmark that ends them, then live', async (t) => {
      const res = freshResource();
      await store.create(res, thing('a', 'ns'));
      await store.create(res, thing('b', 'ns'));
      const rv = await store.currentResourceVersion();
      for (const resourceVersion of ['', '0', rv]) {
        const now = await store.list(res);
        const watch = store.watch(res, { sendInitialEvents: true, resourceVersion });
        const it = iteratorOf(watch);
        const events = await takeEvents(it, now.items.length + 1);
        t.same(
          events.map((e) => [e.type, e.object]),
          [...now.items.map((o) => ['ADDED', o]), ['BOOKMARK', events[now.items.length].object]],
          'the current state as ADDED, then a BOOKMARK',
        );
        const bookmark = events[now.items.length];
        t.equal(bookmark.initialEventsEnd, true, 'the bookmark ends the initial events');
        t.equal(bookmark.resourceVersion, await store.currentResourceVersion(), 'at the snapshot revision');
        t.equal(bookmark.object.metadata.resourceVersion, bookmark.resourceVersion);
        const c = await store.create(res, thing(`c${resourceVersion}`, 'ns'));
        const live = await nextEvent(it);
        t.same([live.type, live.resourceVersion], ['ADDED', c.metadata.resourceVersion], 'then live events');
        watch.stop();
      }
    });

    t.test('watch and list errors: too large, invalid', async (t) => {
      const res = freshResource();
      await store.create(res, thing('a', 'ns'));
      const current = Number(await store.currentResourceVersion());
      t.equal(
        code(await watchErrorCode(t, store, res, { resourceVersion: String(current + 1000) })),
        'TooLargeResourceVersion',
      );
      t.equal(
        code(
          await watchErrorCode(t, store, res, {
            resourceVersion: String(current + 1000),
            sendInitialEvents: true,
          }),
        ),
        'TooLargeResourceVersion',
      );
      t.equal(code(await watchErrorCode(t, store, res, { resourceVersion: 'x1' })), 'InvalidResourceVersion');
    });

    t.test('slow watcher is dropped with TooSlow', async (t) => {
      const res = freshResource();
      const watch = store.watch(res, { resourceVersion: await store.currentResourceVersion(), maxQueuedEvents: 5 });
      for (let i = 0; i < 30; i++) await store.create(res, thing(`s${i}`, 'ns'));
      const it = iteratorOf(watch);
      let delivered = 0;
      let error: unknown;
      try {
        for (;;) {
          const r = await withTimeout(it.next(), 3000, 'TooSlow');
          if (r.done) break;
          delivered++;
        }
      } catch (e) {
        error = e;
      }
      t.ok(error instanceof StorageError && error.code === 'TooSlow', 'iteration throws TooSlow');
      t.ok(delivered <= 6, `no more than the queue bound was kept (${delivered})`);
      watch.stop();
    });

    t.test('periodic bookmarks', async (t) => {
      const res = freshResource();
      const watch = store.watch(res, { resourceVersion: await store.currentResourceVersion(), bookmarkIntervalMs: 20 });
      const it = iteratorOf(watch);
      const created = await store.create(res, thing('b', 'ns'));
      t.equal((await nextEvent(it)).type, 'ADDED');
      let bookmark: WatchEvent;
      do bookmark = await nextEvent(it, 3000);
      while (bookmark.type !== 'BOOKMARK');
      t.ok(
        Number(bookmark.resourceVersion) >= Number(created.metadata.resourceVersion),
        'a bookmark carries a revision no older than what was delivered',
      );
      t.equal(bookmark.object.metadata.resourceVersion, bookmark.resourceVersion);
      t.notOk(bookmark.initialEventsEnd);
      const plain = store.watch(res, { resourceVersion: await store.currentResourceVersion() });
      const plainNext = iteratorOf(plain).next();
      const race = await Promise.race([plainNext, new Promise((resolve) => setTimeout(() => resolve('idle'), 100))]);
      t.equal(race, 'idle', 'no bookmarks unless asked for');
      watch.stop();
      plain.stop();
    });

    t.test('list + watch replay reproduces the final state (property)', async (t) => {
      type Op =
        | { kind: 'create'; ns: number; name: number; value: number }
        | { kind: 'update'; ns: number; name: number; value: number }
        | { kind: 'increment'; ns: number; name: number }
        | { kind: 'delete'; ns: number; name: number };
      const ref = { ns: fc.integer({ min: 0, max: 1 }), name: fc.integer({ min: 0, max: 4 }) };
      const op: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ kind: fc.constant('create' as const), ...ref, value: fc.integer() }),
        fc.record({ kind: fc.constant('update' as const), ...ref, value: fc.integer() }),
        fc.record({ kind: fc.constant('increment' as const), ...ref }),
        fc.record({ kind: fc.constant('delete' as const), ...ref }),
      );
      const run = async (res: string, o: Op) => {
        const namespace = `ns${o.ns}`;
        const name = `o${o.name}`;
        const r = { resource: res, namespace, name };
        try {
          if (o.kind === 'create') await store.create(res, thing(name, namespace, o.value));
          else if (o.kind === 'delete') await store.delete(r);
          else if (o.kind === 'update') {
            const cur = await store.get(r);
            if (cur) await store.update(res, { ...cur, spec: { value: o.value } });
          } else {
            await store.guaranteedUpdate(r, (cur) =>
              cur ? { ...cur, spec: { value: ((cur as Thing).spec?.value ?? 0) + 1 } } : undefined,
            );
          }
        } catch (error) {
          if (!(error instanceof StorageError)) throw error;
        }
      };
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 30 }), fc.array(op, { maxLength: 30 }), async (before, during) => {
          const res = freshResource();
          // The list and the start of the watch land while writes are in flight.
          const inflight = before.map((o) => run(res, o));
          const list = await store.list(res);
          const watch = store.watch(res, { resourceVersion: list.resourceVersion });
          await Promise.all([...inflight, ...during.map((o) => run(res, o))]);
          const final = await store.list(res);
          const sentinel = await store.create(res, thing('zz-sentinel', 'ns9'));
          const state = new Map(list.items.map((o) => [keyOf(o), o]));
          const it = iteratorOf(watch);
          let previous = Number(list.resourceVersion);
          try {
            for (;;) {
              const event = await nextEvent(it);
              const rv = Number(event.resourceVersion);
              if (rv <= previous) throw new Error(`event ${rv} not after ${previous}`);
              previous = rv;
              if (event.resourceVersion === sentinel.metadata.resourceVersion) break;
              if (rv > Number(final.resourceVersion)) throw new Error(`event ${rv} after the final list`);
              if (event.type === 'DELETED') state.delete(keyOf(event.object));
              else state.set(keyOf(event.object), event.object);
            }
          } finally {
            watch.stop();
          }
          const replayed = [...state.values()].sort((x, y) => (keyOf(x) < keyOf(y) ? -1 : 1));
          return JSON.stringify(replayed) === JSON.stringify(final.items);
        }),
        { numRuns: 40 },
      );
      t.pass('replaying the watch onto the list gives the final list');
    });

    t.test('close() ends every watch cleanly', async (t) => {
      const own = await makeStore();
      t.teardown(own.cleanup);
      const res = freshResource();
      await own.store.create(res, thing('a', 'ns'));
      const watch = own.store.watch(res, { resourceVersion: await own.store.currentResourceVersion() });
      const pending = iteratorOf(watch).next();
      await own.store.close();
      t.same(await withTimeout(pending, 2000, 'the watch to end'), { done: true, value: undefined });
      t.equal(await own.store.ready(), false, 'a closed store is not ready');
    });
  });

  t.test(`${name}: Expired outside a tiny history window`, async (t) => {
    const { store, cleanup } = await makeStore({ historyMaxEvents: 5 });
    t.teardown(cleanup);
    const res = freshResource();
    const first = await store.create(res, thing('first', 'ns'));
    const page = await store.list(res, { limit: 1 });
    await store.create(res, thing('second', 'ns'));
    const page1 = await store.list(res, { limit: 1 });
    t.ok(page1.continue, 'a paginated list');
    for (let i = 0; i < 40; i++) await store.create(res, thing(`filler${i}`, 'ns'));

    const watchError = await watchErrorCode(t, store, res, { resourceVersion: first.metadata.resourceVersion });
    t.equal(code(watchError), 'Expired', 'a watch from before the window → Expired');
    t.equal(watchError?.details.requested, first.metadata.resourceVersion);
    const oldest = Number(watchError?.details.oldest);
    t.ok(oldest > Number(first.metadata.resourceVersion) + 1, `details.oldest (${oldest}) is past the requested RV`);
    const current = Number(await store.currentResourceVersion());
    t.ok(oldest <= current - 4, 'and the window still holds the last events');
    const recent = store.watch(res, { resourceVersion: String(current - 2) });
    t.equal((await takeEvents(iteratorOf(recent), 2)).length, 2, 'a watch inside the window replays');
    recent.stop();

    t.equal(
      code(await storageError(store.list(res, { resourceVersion: page.resourceVersion, resourceVersionMatch: 'Exact' }))),
      'Expired',
      'an exact list before the window → Expired',
    );
    t.equal(
      code(await storageError(store.list(res, { limit: 1, continue: page1.continue }))),
      'Expired',
      'a continue token before the window → Expired',
    );
    t.ok(
      (await store.list(res, { resourceVersion: page.resourceVersion, resourceVersionMatch: 'NotOlderThan' })).items
        .length > 40,
      'NotOlderThan an old revision is fine',
    );
  });
}
