import t from 'tap';
import { WorkQueue, backoffDelay } from '../../src/controller/work-queue.js';
import { FakeClock, settle } from './fake-clock.js';

t.test('backoffDelay doubles from the base and caps at the max', async (t) => {
  const rows: [number, number][] = [
    [0, 1000],
    [1, 2000],
    [2, 4000],
    [8, 256_000],
    [9, 300_000],
    [50, 300_000],
  ];
  for (const [failures, want] of rows) t.equal(backoffDelay(failures, 1000, 300_000), want, `after ${failures} failures`);
});

t.test('dedup: a queued key is queued once; a key added while processing comes back once after done', async (t) => {
  const q = new WorkQueue({ clock: new FakeClock() });
  q.add('a');
  q.add('a');
  q.add('b');
  t.equal(q.len(), 2);
  const k = await q.get();
  t.equal(k, 'a');
  q.add('a');
  q.add('a');
  t.equal(q.len(), 1, 'not queued again while processing');
  q.done('a');
  t.equal(q.len(), 2, 'requeued once when done');
  t.equal(await q.get(), 'b');
  t.equal(await q.get(), 'a');
});

t.test('per-key exponential backoff with jitter, forget resets it', async (t) => {
  const clock = new FakeClock();
  const retries: number[] = [];
  const q = new WorkQueue({ clock, random: () => 0.5, jitter: 0.1, hooks: { retry: (_k, d) => retries.push(d) } });
  t.equal(q.addRateLimited('x'), 1050);
  t.equal(q.addRateLimited('x'), 2100);
  t.equal(q.addRateLimited('x'), 4200);
  t.equal(q.numRequeues('x'), 3);
  t.equal(q.addRateLimited('y'), 1050, 'keys back off independently');
  q.forget('x');
  t.equal(q.addRateLimited('x'), 1050, 'forget resets');
  t.same(retries, [1050, 2100, 4200, 1050, 1050]);
  for (let i = 0; i < 30; i++) q.addRateLimited('z');
  t.equal(q.addRateLimited('z'), 300_000, 'never above 5 minutes, jitter included');
});

t.test('addAfter delays, and the earliest pending add wins', async (t) => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  q.addAfter('k', 5000);
  q.addAfter('k', 1000);
  q.addAfter('k', 8000);
  await clock.advance(999);
  t.equal(q.len(), 0);
  await clock.advance(1);
  t.equal(q.len(), 1);
  await clock.advance(10_000);
  t.equal(q.len(), 1, 'the later adds were dropped');
});

t.test('run: N workers, one key never processed twice at once, errors retried with backoff, success forgotten', async (t) => {
  const clock = new FakeClock();
  const retried: string[] = [];
  const q = new WorkQueue({ clock, random: () => 0, hooks: { retry: (k, _d, reason) => retried.push(`${k}:${reason}`) } });
  let concurrent = 0;
  let maxConcurrent = 0;
  const active = new Set<string>();
  let overlap = false;
  const attempts = new Map<string, number>();
  const release: Array<() => void> = [];
  const done = q.run(3, async (key) => {
    if (active.has(key)) overlap = true;
    active.add(key);
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    await new Promise<void>((r) => release.push(r));
    concurrent--;
    active.delete(key);
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    if (key === 'flaky' && n < 3) throw new Error('boom');
    if (key === 'poll' && n < 2) return { backoff: 'poll' };
    return;
  });
  for (const k of ['a', 'b', 'c', 'd', 'flaky', 'poll']) q.add(k);
  q.add('a');
  const drain = async () => {
    for (let i = 0; i < 50; i++) {
      await settle();
      const r = release.splice(0);
      r.forEach((f) => f());
      await settle();
      await clock.advance(1000);
    }
  };
  await drain();
  t.equal(maxConcurrent, 3, 'three workers');
  t.notOk(overlap, 'a key is never processed concurrently');
  t.equal(attempts.get('flaky'), 3);
  t.equal(attempts.get('poll'), 2);
  t.same(retried, ['flaky:error', 'poll:poll', 'flaky:error']);
  t.equal(q.numRequeues('flaky'), 0, 'forgotten after the success');
  q.shutDown();
  await done;
  t.equal(await q.get(), undefined, 'get after shutdown');
});

t.test('afterMs result requeues after that delay', async (t) => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  let n = 0;
  const done = q.run(1, async () => {
    n++;
    return n === 1 ? { afterMs: 3000 } : undefined;
  });
  q.add('k');
  await settle();
  t.equal(n, 1);
  await clock.advance(2999);
  t.equal(n, 1);
  await clock.advance(1);
  t.equal(n, 2);
  q.shutDown();
  await done;
});
