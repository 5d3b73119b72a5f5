import t from 'tap';
import { GroupCommit, type BatchTransaction, type GroupCommitOptions } from '../../src/storage/group-commit.js';

class WriteError extends Error {}

/** A fake transaction that records the statements the batch ran; `failOn` makes that statement throw once. */
function recorder(failOn?: string) {
  const log: string[] = [];
  let open = false;
  let fail = failOn;
  const step = (name: string) => {
    log.push(name);
    if (fail === name) {
      fail = undefined;
      throw new Error(`${name} failed: disk I/O error`);
    }
  };
  const tx: BatchTransaction = {
    begin: () => {
      step('begin');
      open = true;
    },
    commit: () => {
      step('commit');
      open = false;
    },
    rollback: () => {
      log.push('rollback');
      open = false;
    },
    active: () => open,
    savepoint: () => log.push('savepoint'),
    release: () => log.push('release'),
    rollbackToSavepoint: () => log.push('rollback-to'),
  };
  return { log, tx };
}

function options(tx: BatchTransaction, extra: Partial<GroupCommitOptions> = {}): GroupCommitOptions {
  return {
    tx,
    isWriteError: (error) => error instanceof WriteError,
    startBatch: () => {},
    beforeCommit: () => {},
    afterCommit: () => {},
    batchFailed: (error) => new Error(`batch failed: ${(error as Error).message}`),
    syncFailed: (error) => new Error(`sync failed: ${(error as Error).message}`),
    ...extra,
  };
}

/** A sync whose calls stay pending until the test ends them one by one. */
function manualSync() {
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  return {
    calls: () => pending.length,
    sync: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    end: (i: number, error?: Error) => (error ? pending[i].reject(error) : pending[i].resolve()),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

t.test('writes submitted in one turn run in one transaction, in order, each under its own savepoint', async (t) => {
  const { log, tx } = recorder();
  const order: string[] = [];
  const gc = new GroupCommit(
    options(tx, {
      startBatch: () => log.push('start'),
      beforeCommit: () => log.push('before-commit'),
      afterCommit: () => log.push('after-commit'),
    }),
  );
  const results = await Promise.all(
    ['a', 'b', 'c'].map((name) =>
      gc.submit(() => {
        log.push(`write ${name}`);
        return { value: name.toUpperCase(), publish: () => order.push(`publish ${name}`) };
      }),
    ),
  );
  t.same(results, ['A', 'B', 'C']);
  t.same(log, [
    'begin',
    'start',
    ...['a', 'b', 'c'].flatMap((name) => ['savepoint', `write ${name}`, 'release']),
    'before-commit',
    'commit',
    'after-commit',
  ]);
  t.same(order, ['publish a', 'publish b', 'publish c'], 'published after the commit, in submission order');
});

t.test("a write's own error rolls back only that write; the rest of the batch commits", async (t) => {
  const { log, tx } = recorder();
  const published: string[] = [];
  const gc = new GroupCommit(options(tx));
  const write = (name: string, fail = false) =>
    gc.submit(() => {
      if (fail) throw new WriteError(`${name}: conflict`);
      return { value: name, publish: () => published.push(name) };
    });
  const results = await Promise.allSettled([write('a'), write('b', true), write('c')]);
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['a', 'b: conflict', 'c'],
  );
  t.ok(results[1].status === 'rejected' && (results[1] as PromiseRejectedResult).reason instanceof WriteError);
  t.same(log.filter((s) => s === 'begin' || s === 'commit' || s === 'rollback'), ['begin', 'commit'], 'one commit');
  t.same(log.filter((s) => s === 'rollback-to').length, 1, 'one savepoint rolled back');
  t.same(published, ['a', 'c']);
});

t.test('a failure of the batch (I/O) rolls it all back and every write of it gets the error', async (t) => {
  for (const failOn of ['commit', 'begin']) {
    const { log, tx } = recorder(failOn);
    let failedBatches = 0;
    const published: string[] = [];
    const gc = new GroupCommit(
      options(tx, {
        batchFailed: (error) => {
          failedBatches++;
          return new Error(`store write failed: ${(error as Error).message}`);
        },
      }),
    );
    const results = await Promise.allSettled(
      ['a', 'b', 'c'].map((name) => gc.submit(() => ({ value: name, publish: () => published.push(name) }))),
    );
    t.same(
      results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'fulfilled')),
      Array(3).fill(`store write failed: ${failOn} failed: disk I/O error`),
      `${failOn} failing: every write refused`,
    );
    t.equal(failedBatches, 1);
    t.same(published, [], 'nothing published');
    if (failOn === 'commit') t.equal(log.at(-1), 'rollback', 'rolled back');
    // The next batch is independent of the failed one.
    t.equal(await gc.submit(() => ({ value: 'd' })), 'd', `${failOn}: the next write goes through`);
  }
});

t.test('acknowledged only after a sync that began after the commit; syncs coalesce', async (t) => {
  const { tx } = recorder();
  const s = manualSync();
  const gc = new GroupCommit(options(tx, { sync: s.sync }));
  const acked: string[] = [];
  const published: string[] = [];
  const write = (name: string) =>
    gc.submit(() => ({ value: name, publish: () => published.push(name) })).then((v) => acked.push(v));

  const a = write('a');
  await tick();
  t.equal(s.calls(), 1, 'the first batch starts a sync');
  t.same(acked, [], 'not acknowledged while its sync runs');
  t.same(published, [], 'nor published');

  // Two more batches commit while the first sync is in flight: they share the next sync.
  const b = write('b');
  await tick();
  const c = write('c');
  await tick();
  t.equal(s.calls(), 1, 'no second sync while one is in flight');
  s.end(0);
  await a;
  t.same(acked, ['a']);
  await tick();
  t.equal(s.calls(), 2, 'one sync for the two batches committed meanwhile');
  t.same(acked, ['a'], 'b and c wait for it');
  t.same(published, ['a']);
  s.end(1);
  await Promise.all([b, c]);
  t.same(acked, ['a', 'b', 'c']);
  t.same(published, ['a', 'b', 'c'], 'published in commit order');

  // A failed sync: the batch is committed but not known durable — its writes are refused.
  const d = gc.submit(() => ({ value: 'd', publish: () => published.push('d') }));
  await tick();
  s.end(2, new Error('EIO'));
  await t.rejects(d, { message: 'sync failed: EIO' });
  t.same(published, ['a', 'b', 'c', 'd'], 'published all the same: it is committed, and readers see it');
  const e = write('e');
  await tick();
  s.end(3);
  await e;
  t.same(acked, ['a', 'b', 'c', 'e'], 'later writes are acknowledged again');
});

t.test('flush() commits what is queued at once; idle() waits for the syncs', async (t) => {
  const { log, tx } = recorder();
  const s = manualSync();
  const gc = new GroupCommit(options(tx, { sync: s.sync }));
  let acked = false;
  const a = gc.submit(() => ({ value: 'a' })).then(() => (acked = true));
  gc.flush();
  t.same(log.includes('commit'), true, 'committed without waiting for the next turn');
  const idle = gc.idle().then(() => 'idle');
  s.end(0);
  t.equal(await idle, 'idle');
  await a;
  t.ok(acked);
  gc.flush(); // nothing queued: no empty transaction
  t.equal(log.filter((x) => x === 'begin').length, 1);
});
