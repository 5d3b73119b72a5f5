// Faults from the cloud: 30 % of EC2 requests throttled or failing with a 5xx → every snapshot Ready in the end, no
// duplicate, the backoff visible in the metrics; and 200 snapshots at once against a rate-limited EC2.

import t, { type Test } from 'tap';
import { Registry as PromRegistry } from 'prom-client';
import { AwsProvider } from '../../src/cloud/aws.js';
import { createWorker } from '../../src/controller/worker.js';
import { Ec2Fake, type Ec2Fault, type Ec2FakeOptions } from '../fakes/ec2-fake.js';
import { VS, createBoundClaim, eventually, isReady, quietLog, snapshotBody, startBed, waitBound, type Bed } from './bed.js';

/** Deterministic PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function setup(t: Test, fake: Ec2FakeOptions, qps: number) {
  const bed: Bed = await startBed(t);
  const ec2 = new Ec2Fake(fake);
  const { url } = await ec2.start();
  t.teardown(() => ec2.stop());
  const aws = new AwsProvider({
    region: 'us-east-1',
    endpoint: url,
    clusterId: 'c1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    // Few SDK-level retries, so that the faults reach the worker's own backoff.
    retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 20, throttlePauseMs: 5 },
    qps,
    burst: qps,
    pollIntervalMs: 10,
    requestTimeoutMs: 2000,
  });
  t.teardown(() => aws.close());
  return { bed, ec2, aws };
}

async function claims(bed: Bed, ec2: Ec2Fake, n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const vol = ec2.addVolume({ zone: 'us-east-1a', sizeGiB: 1 });
    const name = `data-${i}`;
    await createBoundClaim(bed.registry, name, { awsElasticBlockStore: { volumeID: `aws://us-east-1a/${vol.volumeId}` } });
    names.push(name);
  }
  for (const name of names) await waitBound(bed.registry, name);
  return names;
}

t.test('30 % throttling and 5xx: all Ready, no duplicates, backoff in the metrics', async (t) => {
  const { bed, ec2, aws } = await setup(t, { snapshotCompletionMs: 100 }, 1000);
  const random = prng(42);
  const faults: Ec2Fault[] = [{ kind: 'throttle' }, { kind: 'throttle', code: 'SnapshotCreationPerVolumeRateExceeded' }, { kind: 'server-error', status: 503, code: 'Unavailable' }, { kind: 'server-error' }];
  let injected = 0;
  ec2.injectFaultsBy(() => {
    if (random() >= 0.3) return undefined;
    injected++;
    return faults[Math.floor(random() * faults.length)];
  });
  const names = await claims(bed, ec2, 10);
  const prom = new PromRegistry();
  const worker = createWorker({ registry: bed.registry, cluster: bed.cluster, cloud: aws, workerThreads: 5, resyncPeriodMs: 0, log: quietLog, metrics: prom, baseDelayMs: 20, maxDelayMs: 400 });
  t.teardown(() => worker.stop());
  await worker.start();
  const uids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const s = await bed.registry.create(VS, snapshotBody(`s-${i}`, names[i % names.length]!), { namespace: 'default' });
    uids.push(s.metadata.uid as string);
  }
  await eventually(async () => {
    const list = await bed.registry.list(VS, { namespace: 'default' });
    return list.items.length === 30 && list.items.every(isReady);
  }, 60_000, 'all 30 Ready');
  t.ok(injected > 10, `faults were injected (${injected})`);
  for (const uid of uids) {
    const mine = ec2.listSnapshots().filter((s) => Object.values(s.tags).includes(uid));
    if (mine.length !== 1) t.fail(`snapshot ${uid} has ${mine.length} cloud snapshots`);
  }
  t.equal(ec2.listSnapshots().length, 30, 'exactly one cloud snapshot per VolumeSnapshot');
  // The Ready status is written just before the operation is observed: wait for the metric to catch up.
  const metrics = await eventually(async () => {
    const m = await prom.metrics();
    return /operation_name="CreateSnapshotAndReady",operation_status="success",provider="aws"\} 30\n/.test(m) ? m : undefined;
  }, 5000, 'all 30 operations observed');
  const retries = /snapshot_controller_queue_retries_total\{reason="error"\} (\d+)/.exec(metrics);
  t.ok(retries && Number(retries[1]) > 0, `retries with backoff are counted (${retries?.[1]})`);
  t.match(metrics, /snapshot_controller_cloud_calls_total\{provider="aws",operation="[a-zA-Z]+",code="(RequestLimitExceeded|SnapshotCreationPerVolumeRateExceeded|Unavailable|InternalError)"\} \d+/);
  t.match(metrics, /snapshot_controller_operation_total_seconds_count\{operation_name="CreateSnapshotAndReady",operation_status="success",provider="aws"\} 30/);
  t.match(metrics, /snapshot_controller_operations_in_flight\{operation_name="CreateSnapshotAndReady"\} 0/);

  // Clean up under the same faults: every cloud snapshot goes.
  for (let i = 0; i < 30; i++) await bed.registry.delete(VS, { namespace: 'default', name: `s-${i}` });
  await eventually(async () => (await bed.registry.list(VS, { namespace: 'default' })).items.length === 0, 30_000, 'all deleted');
  t.equal(ec2.listSnapshots().length, 0, 'none left in the cloud');
});

t.test('200 snapshots at once against a rate-limited EC2: all Ready, no duplicate', async (t) => {
  const { bed, ec2, aws } = await setup(t, { callsPerSecond: 150 }, 200);
  const names = await claims(bed, ec2, 20);
  const prom = new PromRegistry();
  const worker = createWorker({ registry: bed.registry, cluster: bed.cluster, cloud: aws, workerThreads: 10, resyncPeriodMs: 0, log: quietLog, metrics: prom, baseDelayMs: 50, maxDelayMs: 1000 });
  t.teardown(() => worker.stop());
  await worker.start();
  await Promise.all(
    Array.from({ length: 200 }, (_, i) => bed.registry.create(VS, snapshotBody(`m-${i}`, names[i % names.length]!), { namespace: 'default' })),
  );
  await eventually(async () => {
    const list = await bed.registry.list(VS, { namespace: 'default' });
    return list.items.length === 200 && list.items.every(isReady);
  }, 120_000, 'all 200 Ready'); // ~15 s on an idle machine; generous for a loaded CI runner
  const perUid = new Map<string, number>();
  for (const s of ec2.listSnapshots()) {
    const uid = Object.entries(s.tags).find(([k]) => k.endsWith('/uid'))?.[1] ?? '';
    perUid.set(uid, (perUid.get(uid) ?? 0) + 1);
  }
  t.equal(perUid.size, 200, 'one cloud snapshot per VolumeSnapshot');
  t.ok([...perUid.values()].every((n) => n === 1), 'no duplicate');
});
