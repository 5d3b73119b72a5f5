// Worker benchmark: N VolumeSnapshots created at once against the EC2 fake (real SDK, instant completion), timed
// from creation to Ready — compared, in the same run, with the bare cloud calls the worker cannot avoid
// (find-by-uid, CreateSnapshot, DescribeSnapshots per snapshot) made directly at the same concurrency. The ratio is
// the worker's own cost: Registry writes, events over HTTP, queue and watch.
// Alone: `node dist/bench/worker-bench.js [--quick]`.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { AwsProvider } from '../src/cloud/aws.js';
import { Ec2Fake } from '../test/fakes/ec2-fake.js';
import { VS, snapshotBody } from '../test/controller/bed.js';
import { formatRows, type BenchRow } from './bench-row.js';
import { WORKER_THREADS, benchTeardowns, claimName, startEc2WorkerBed, watchUntilReady } from './ec2-worker-bed.js';

export type { BenchRow };

function provider(url: string): AwsProvider {
  return new AwsProvider({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    qps: 100_000,
    burst: 100_000,
    pollIntervalMs: 5,
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export async function benchWorker(opts: { quick: boolean }): Promise<BenchRow[]> {
  const n = opts.quick ? 50 : 300;
  const t = benchTeardowns();
  const ec2 = new Ec2Fake();
  const { url } = await ec2.start();
  try {
    // Floor: the cloud calls alone.
    const direct = provider(url);
    const vol = ec2.addVolume({ zone: 'us-east-1a', sizeGiB: 1 });
    const floorStart = performance.now();
    await pool(Array.from({ length: n }, () => randomUUID()), WORKER_THREADS, async (uid) => {
      const volume = { type: 'aws-ebs' as const, volumeId: vol.volumeId, zone: 'us-east-1a' };
      const found = await direct.findSnapshotByUid(uid, volume);
      const info = found ?? (await direct.createSnapshot({ volume, tags: { namespace: 'default', name: uid, uid } }));
      await direct.getSnapshot(info.id);
    });
    const floorMs = performance.now() - floorStart;
    await direct.close();
    ec2.reset();

    // The worker, end to end.
    const cloud = provider(url);
    t.teardown(() => cloud.close());
    const bed = await startEc2WorkerBed(t, ec2, cloud);
    const createdAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const watch = watchUntilReady(bed, n, (name) => readyAt.set(name, performance.now()));
    const start = performance.now();
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        createdAt.set(`s-${i}`, performance.now());
        await bed.registry.create(VS, snapshotBody(`s-${i}`, claimName(i)), { namespace: 'default' });
      }),
    );
    await watch.done;
    watch.stop();
    const workerMs = performance.now() - start;
    const latencies = [...readyAt.entries()].map(([name, at]) => at - createdAt.get(name)!).sort((a, b) => a - b);
    const duplicates = ec2.listSnapshots().length - n;
    return [
      {
        name: `worker: ${n} snapshots to Ready (${WORKER_THREADS} workers)`,
        value: (n / workerMs) * 1000,
        unit: 'snapshots/s',
        limitName: 'bare cloud calls',
        limitValue: (n / floorMs) * 1000,
        ratio: floorMs / workerMs,
        goal: '≥ 0.25× the bare cloud calls',
        met: floorMs / workerMs >= 0.25,
      },
      { name: 'worker: create → Ready p50', value: percentile(latencies, 50), unit: 'ms' },
      { name: 'worker: create → Ready p95', value: percentile(latencies, 95), unit: 'ms' },
      { name: 'worker: duplicate cloud snapshots', value: duplicates, unit: '', goal: '0', met: duplicates === 0 },
    ];
  } finally {
    await t.run();
    await ec2.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchWorker({ quick: process.argv.includes('--quick') });
  process.stdout.write(formatRows(rows));
}
