// What both worker benchmarks stand on: the test bed (local cluster + Registry) with claims bound to volumes of the
// EC2 fake, the embedded worker running over it, and a watch that sees the VolumeSnapshots turn Ready.
import type { AwsProvider } from '../src/cloud/aws.js';
import { createWorker } from '../src/controller/worker.js';
import type { Ec2Fake } from '../test/fakes/ec2-fake.js';
import { VS, createBoundClaim, isReady, quietLog, startBed, waitBound, type Bed, type Teardown } from '../test/controller/bed.js';

export const WORKER_THREADS = 10;
/** Claims data-0 … data-9: the snapshots are spread over them. */
export const CLAIMS = 10;

export function claimName(i: number): string {
  return `data-${i % CLAIMS}`;
}

/** The bed with CLAIMS claims bound to fresh EC2 volumes, and a started worker snapshotting through `cloud`. */
export async function startEc2WorkerBed(t: Teardown, ec2: Ec2Fake, cloud: AwsProvider): Promise<Bed> {
  const bed = await startBed(t);
  for (let i = 0; i < CLAIMS; i++) {
    const v = ec2.addVolume({ zone: 'us-east-1a', sizeGiB: 1 });
    await createBoundClaim(bed.registry, claimName(i), { awsElasticBlockStore: { volumeID: `aws://us-east-1a/${v.volumeId}` } });
  }
  for (let i = 0; i < CLAIMS; i++) await waitBound(bed.registry, claimName(i));
  const worker = createWorker({ registry: bed.registry, cluster: bed.cluster, cloud, workerThreads: WORKER_THREADS, resyncPeriodMs: 0, log: quietLog, baseDelayMs: 5, maxDelayMs: 50 });
  t.teardown(() => worker.stop());
  await worker.start();
  return bed;
}

/**
 * Watches the default namespace's VolumeSnapshots until `n` of them have been Ready, calling `onReady` once for
 * each; `done` settles then (or when stop() ends the watch first).
 */
export function watchUntilReady(bed: Bed, n: number, onReady: (name: string) => void): { done: Promise<void>; stop(): void } {
  const ready = new Set<string>();
  const watch = bed.registry.watch(VS, { namespace: 'default' });
  const done = (async () => {
    for await (const e of watch) {
      const name = e.object.metadata.name as string;
      if (!ready.has(name) && isReady(e.object)) {
        ready.add(name);
        onReady(name);
      }
      if (ready.size === n) break;
    }
  })();
  return { done, stop: () => watch.stop() };
}

/** tap's `t.teardown` for code that runs outside tap: run() calls the clean-ups newest first. */
export function benchTeardowns(): Teardown & { run(): Promise<void> } {
  const fns: Array<() => unknown> = [];
  return {
    teardown: (fn) => void fns.push(fn),
    async run() {
      for (const fn of fns.reverse()) await fn();
    },
  };
}
