// Store benchmarks: SqliteStore create/get against raw better-sqlite3 insert/select on the same machine in the same
// run (the ratio is what matters, not the absolute numbers), and watch fan-out to many watchers.
// Alone: `node dist/bench/store-bench.js [--quick]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/storage/sqlite-store.js';
import type { StoredObject, Watch } from '../src/storage/store.js';
import { formatRows, type BenchRow } from './bench-row.js';

export type { BenchRow };

const RESOURCE = 'bench.example.com/widgets';

function widget(i: number): StoredObject {
  return {
    apiVersion: 'bench.example.com/v1',
    kind: 'Widget',
    metadata: {
      name: `widget-${i}`,
      namespace: `ns-${i % 10}`,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      labels: { app: 'bench', shard: String(i % 16) },
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: { persistentVolumeClaimName: `claim-${i}`, snapshotDataName: '' },
  };
}

function rate(count: number, ms: number): number {
  return (count / ms) * 1000;
}

function forceGc(): () => void {
  v8.setFlagsFromString('--expose_gc');
  return runInNewContext('gc') as () => void;
}

async function benchCrud(dir: string, n: number, synchronous: 'FULL' | 'NORMAL'): Promise<BenchRow[]> {
  const objects = Array.from({ length: n }, (_, i) => widget(i));
  const store = SqliteStore.open({ path: join(dir, `store-${synchronous}.db`), synchronous });
  // The floor: one autocommitted INSERT of the same JSON per object, same journal and sync settings.
  const db = new Database(join(dir, `raw-${synchronous}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE objects (resource TEXT, key TEXT, data TEXT, PRIMARY KEY (resource, key)) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO objects (resource, key, data) VALUES (?, ?, ?)');
  const select = db.prepare<[string, string], { data: string }>(
    'SELECT data FROM objects WHERE resource = ? AND key = ?',
  );

  // Store and raw take turns in rounds so that drifting disk latency (fsync) hits both alike.
  const rounds = 4;
  const time = { storeCreate: 0, storeGet: 0, rawInsert: 0, rawSelect: 0 };
  for (let r = 0; r < rounds; r++) {
    const slice = objects.slice((r * n) / rounds, ((r + 1) * n) / rounds);
    let t0 = performance.now();
    for (const obj of slice) await store.create(RESOURCE, obj);
    time.storeCreate += performance.now() - t0;
    t0 = performance.now();
    for (const obj of slice) {
      insert.run(RESOURCE, `${obj.metadata.namespace}/${obj.metadata.name}`, JSON.stringify(obj));
    }
    time.rawInsert += performance.now() - t0;
    t0 = performance.now();
    for (const obj of slice) {
      await store.get({ resource: RESOURCE, namespace: obj.metadata.namespace, name: obj.metadata.name });
    }
    time.storeGet += performance.now() - t0;
    t0 = performance.now();
    for (const obj of slice) {
      JSON.parse(select.get(RESOURCE, `${obj.metadata.namespace}/${obj.metadata.name}`)!.data);
    }
    time.rawSelect += performance.now() - t0;
  }
  await store.close();
  db.close();
  const storeCreate = rate(n, time.storeCreate);
  const storeGet = rate(n, time.storeGet);
  const rawInsert = rate(n, time.rawInsert);
  const rawSelect = rate(n, time.rawSelect);

  const createRatio = storeCreate / rawInsert;
  const getRatio = storeGet / rawSelect;
  return [
    {
      name: `store create (synchronous=${synchronous}, ${n} objects)`,
      value: storeCreate,
      unit: 'ops/s',
      limitName: 'raw INSERT',
      limitValue: rawInsert,
      ratio: createRatio,
      // With FULL the fsync per commit dominates both; with NORMAL it is CPU: the store runs five statements per
      // create (BEGIN, object, event, revision, COMMIT) where raw runs one autocommitted INSERT.
      goal: synchronous === 'FULL' ? '≥ 0.5× raw' : '≥ 0.3× raw',
      met: createRatio >= (synchronous === 'FULL' ? 0.5 : 0.3),
    },
    {
      name: `store get (synchronous=${synchronous}, ${n} objects)`,
      value: storeGet,
      unit: 'ops/s',
      limitName: 'raw SELECT+parse',
      limitValue: rawSelect,
      ratio: getRatio,
      goal: '≥ 0.5× raw',
      met: getRatio >= 0.5,
    },
  ];
}

async function benchFanOut(watchers: number, events: number): Promise<BenchRow[]> {
  const gc = forceGc();
  const store = SqliteStore.open({ path: ':memory:' });
  await store.create(RESOURCE, widget(-1));
  const base = Number(await store.currentResourceVersion());

  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const sent = new Float64Array(events);
  // Lag is sampled on every 10th watcher to keep the sample array small.
  const sampled = Math.ceil(watchers / 10);
  const lags = new Float64Array(sampled * events);
  const delivered = new Uint32Array(watchers);
  let outOfOrder = 0;
  const handles: Watch[] = [];
  const consumers: Promise<void>[] = [];
  for (let w = 0; w < watchers; w++) {
    const watch = store.watch(RESOURCE, { resourceVersion: String(base), maxQueuedEvents: events + 1 });
    handles.push(watch);
    consumers.push(
      (async () => {
        let last = base;
        for await (const event of watch) {
          const rv = Number(event.resourceVersion);
          if (rv <= last) outOfOrder++;
          last = rv;
          const i = rv - base - 1;
          if (w % 10 === 0) lags[(w / 10) * events + i] = performance.now() - sent[i];
          if (++delivered[w] === events) return;
        }
      })(),
    );
  }
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const perWatcher = (process.memoryUsage().heapUsed - heapBefore) / watchers;

  const t0 = performance.now();
  for (let i = 0; i < events; i++) {
    sent[i] = performance.now();
    await store.create(RESOURCE, widget(i));
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(consumers);
  const elapsed = performance.now() - t0;
  for (const watch of handles) watch.stop();
  await store.close();

  const total = delivered.reduce((a, b) => a + b, 0);
  const expected = watchers * events;
  const sortedLags = Float64Array.from(lags).sort();
  const p = (q: number) => sortedLags[Math.min(sortedLags.length - 1, Math.floor(q * sortedLags.length))];
  const label = `${watchers} watchers × ${events} events`;
  return [
    {
      name: `watch fan-out delivered (${label})`,
      value: total,
      unit: 'events',
      limitName: 'expected',
      limitValue: expected,
      ratio: total / expected,
      goal: 'all, in order',
      met: total === expected && outOfOrder === 0,
    },
    {
      name: `watch fan-out throughput (${label})`,
      value: rate(total, elapsed),
      unit: 'events/s',
      note: `${elapsed.toFixed(0)} ms`,
    },
    { name: `watch delivery lag p50 (${label})`, value: p(0.5), unit: 'ms' },
    {
      name: `watch delivery lag p99 (${label})`,
      value: p(0.99),
      unit: 'ms',
      goal: '< 100 ms',
      met: p(0.99) < 100,
    },
    {
      name: `memory per idle watcher (${watchers} watchers)`,
      value: perWatcher / 1024,
      unit: 'KiB',
      goal: '< 16 KiB',
      met: perWatcher < 16 * 1024,
    },
  ];
}

export async function benchStore(opts: { quick: boolean }): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'store-bench-'));
  try {
    // FULL pays one fsync per create (milliseconds on a busy disk), so it gets fewer objects.
    return [
      ...(await benchCrud(dir, opts.quick ? 300 : 5_000, 'FULL')),
      ...(await benchCrud(dir, opts.quick ? 2_000 : 20_000, 'NORMAL')),
      ...(await benchFanOut(opts.quick ? 200 : 1_000, opts.quick ? 2_000 : 10_000)),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchStore({ quick: process.argv.includes('--quick') });
  process.stdout.write(formatRows(rows));
}
