import t from 'tap';
import { WatchHub, bookmarkEvent } from '../../src/storage/watch-hub.js';
import type { WatchEvent } from '../../src/storage/store.js';

const ev = (rv: number, name = `o${rv}`, namespace = 'ns'): WatchEvent => ({
  type: 'ADDED',
  object: { metadata: { name, namespace, resourceVersion: String(rv) } },
  resourceVersion: String(rv),
});

async function drain(it: AsyncIterator<WatchEvent>, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value.resourceVersion);
  }
  return out;
}

t.test('buffered live events follow the initial ones without gap or duplicate', async (t) => {
  let current = 10;
  const hub = new WatchHub(() => current);
  const w = hub.subscribe('r');
  // Events published while the backend was still reading: some already covered by the initial read.
  hub.publish('r', 'ns', 9, () => ev(9));
  hub.publish('r', 'ns', 11, () => ev(11));
  w.setInitial([ev(8), ev(9)]);
  w.startLive(10);
  current = 12;
  hub.publish('r', 'ns', 12, () => ev(12));
  t.same(await drain(w[Symbol.asyncIterator](), 4), ['8', '9', '11', '12']);
  w.stop();
  t.same(await w.next(), { done: true, value: undefined });
  t.equal(hub.watcherCount(), 0, 'stop unsubscribes');
});

t.test('namespace filtering and lazy event construction', async (t) => {
  const hub = new WatchHub(() => 0);
  let built = 0;
  const make = (rv: number, ns: string) => () => {
    built++;
    return ev(rv, 'x', ns);
  };
  hub.publish('r', 'a', 1, make(1, 'a'));
  t.equal(built, 0, 'no watcher, no event built');
  const all = hub.subscribe('r');
  const onlyA = hub.subscribe('r', { namespace: 'a' });
  const other = hub.subscribe('other');
  for (const w of [all, onlyA, other]) w.startLive(0);
  t.ok(hub.hasWatchers('r', 'b'));
  hub.publish('r', 'a', 2, make(2, 'a'));
  hub.publish('r', 'b', 3, make(3, 'b'));
  t.equal(built, 2, 'each event built once, however many watchers');
  t.same(await drain(all[Symbol.asyncIterator](), 2), ['2', '3']);
  t.same(await drain(onlyA[Symbol.asyncIterator](), 1), ['2']);
  hub.closeAll();
  t.same(await onlyA.next(), { done: true, value: undefined }, 'closeAll ends watches cleanly');
  t.same(await other.next(), { done: true, value: undefined });
  const late = hub.subscribe('r');
  t.same(await late.next(), { done: true, value: undefined }, 'a closed hub gives ended watches');
});

t.test('a slow watcher is failed with TooSlow and its queue dropped, others go on', async (t) => {
  const hub = new WatchHub(() => 0);
  const slow = hub.subscribe('r', { maxQueuedEvents: 3 });
  const fast = hub.subscribe('r');
  slow.startLive(0);
  fast.startLive(0);
  const fastIt = fast[Symbol.asyncIterator]();
  for (let rv = 1; rv <= 5; rv++) {
    hub.publish('r', 'ns', rv, () => ev(rv));
    t.equal((await fastIt.next()).value?.resourceVersion, String(rv));
  }
  await t.rejects(slow.next(), { code: 'TooSlow' });
  t.same(await slow.next(), { done: true, value: undefined }, 'then it is over');
  t.equal(hub.watcherCount(), 1);
  fast.stop();
});

t.test('the buffer while starting is bounded too', async (t) => {
  const hub = new WatchHub(() => 0);
  const w = hub.subscribe('r', { maxQueuedEvents: 2 });
  for (let rv = 1; rv <= 3; rv++) hub.publish('r', 'ns', rv, () => ev(rv));
  w.setInitial([ev(0)]);
  w.startLive(0);
  await t.rejects(w.next(), { code: 'TooSlow' });
});

t.test('a waiting consumer is woken by a failure', async (t) => {
  const hub = new WatchHub(() => 0);
  const w = hub.subscribe('r', { maxQueuedEvents: 1 });
  w.startLive(0);
  const pending = w.next();
  hub.publish('r', 'ns', 1, () => ev(1));
  t.equal((await pending).value?.resourceVersion, '1');
  hub.publish('r', 'ns', 2, () => ev(2));
  hub.publish('r', 'ns', 3, () => ev(3));
  await t.rejects(w.next(), { code: 'TooSlow' });
});

t.test('bookmarks only when live and idle, at the current revision', async (t) => {
  let current = 7;
  const hub = new WatchHub(() => current);
  // Bookmark timers are unref'd (they must not hold a server open), so keep this test's process alive.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const w = hub.subscribe('r', { bookmarkIntervalMs: 10 });
  await new Promise((resolve) => setTimeout(resolve, 40));
  w.startLive(7);
  const it = w[Symbol.asyncIterator]();
  const first = await it.next();
  t.same(first.value, bookmarkEvent(7, false), 'a bookmark after going live');
  current = 9;
  hub.publish('r', 'ns', 9, () => ev(9));
  t.equal((await it.next()).value?.resourceVersion, '9');
  const next = (await it.next()).value!;
  t.same([next.type, next.resourceVersion], ['BOOKMARK', '9']);
  await it.return!();
  t.equal(hub.watcherCount(), 0, 'return() (break out of for-await) stops the watch');
  t.same(bookmarkEvent(5, true).object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
});
