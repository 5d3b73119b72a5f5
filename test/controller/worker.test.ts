// The worker's surroundings: event aggregation, a deletion held by a restore in progress, a start that waits for
// an unreachable main cluster.

import t from 'tap';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HostPathProvider } from '../../src/cloud/hostpath.js';
import { EventRecorder } from '../../src/controller/event-recorder.js';
import { realClock } from '../../src/controller/clock.js';
import { createWorker } from '../../src/controller/worker.js';
import { ClusterError, type MainCluster } from '../../src/cluster/main-cluster.js';
import { AwsProvider } from '../../src/cloud/aws.js';
import { Ec2Fake } from '../fakes/ec2-fake.js';
import { VS, VSD, conditionsOf, createBoundClaim, eventually, isReady, quietLog, snapshotBody, startBed, tempDir, waitBound, type Bed, type Teardown } from './bed.js';

interface Ev {
  reason: string;
  message: string;
  count: number;
  type: string;
  firstTimestamp: string;
  lastTimestamp: string;
  involvedObject: { uid: string };
}

/** Starts a hostPath worker on `bed`, with the claim "data" bound to a source directory holding f = "x". */
async function startHostPathWorker(t: Teardown, bed: Bed): Promise<void> {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await mkdir(src);
  await writeFile(path.join(src, 'f'), 'x');
  const cloud = new HostPathProvider({ dataDir: path.join(dir, 'data') });
  const worker = createWorker({ registry: bed.registry, cluster: bed.cluster, cloud, workerThreads: 2, resyncPeriodMs: 0, log: quietLog, baseDelayMs: 50, maxDelayMs: 200 });
  t.teardown(() => worker.stop());
  await createBoundClaim(bed.registry, 'data', { hostPath: { path: src } });
  await waitBound(bed.registry, 'data');
  await worker.start();
}

t.test('events: repeats are aggregated by count; a different message is a new Event', async (t) => {
  const { cluster, registry } = await startBed(t);
  const rec = new EventRecorder({ cluster, clock: realClock });
  const ref = { kind: 'VolumeSnapshot', apiVersion: 'volumesnapshot.external-storage.k8s.io/v1', namespace: 'default', name: 's', uid: 'u1' };
  await rec.record(ref, 'Warning', 'SnapshotCreationFailed', 'RequestLimitExceeded');
  await rec.record(ref, 'Warning', 'SnapshotCreationFailed', 'RequestLimitExceeded');
  await rec.record(ref, 'Warning', 'SnapshotCreationFailed', 'RequestLimitExceeded');
  await rec.record(ref, 'Warning', 'SnapshotCreationFailed', 'other');
  const events = (await registry.list('events', { namespace: 'default' })).items as unknown as Ev[];
  t.equal(events.length, 2);
  const agg = events.find((e) => e.message === 'RequestLimitExceeded')!;
  t.equal(agg.count, 3);
  t.equal(agg.type, 'Warning');
  t.equal(agg.involvedObject.uid, 'u1');
  t.ok(agg.lastTimestamp >= agg.firstTimestamp);
  t.equal(events.find((e) => e.message === 'other')!.count, 1);

  // An Event deleted meanwhile: the recorder starts a new one instead of failing.
  await registry.deleteCollection('events', { namespace: 'default' });
  await rec.record(ref, 'Warning', 'SnapshotCreationFailed', 'other');
  const again = (await registry.list('events', { namespace: 'default' })).items as unknown as Ev[];
  t.same(again.map((e) => [e.message, e.count]), [['other', 1]]);
});

t.test('deletion waits while a restore from the snapshot is in progress', async (t) => {
  const bed = await startBed(t);
  await startHostPathWorker(t, bed);
  await bed.registry.create(VS, snapshotBody('s', 'data'), { namespace: 'default' });
  await eventually(async () => isReady(await bed.registry.get(VS, { namespace: 'default', name: 's' })), 10_000, 'Ready');
  // A claim addressed to the promoter that is not provisioned yet (its class does not exist, so it stays Pending).
  await bed.registry.create(
    'persistentvolumeclaims',
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'restoring',
        annotations: {
          'snapshot.alpha.kubernetes.io/snapshot': 's',
          'volume.kubernetes.io/storage-provisioner': 'volumesnapshot.external-storage.k8s.io/snapshot-promoter',
        },
      },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'not-yet', resources: { requests: { storage: '1Gi' } } },
    },
    { namespace: 'default' },
  );
  await new Promise((r) => setTimeout(r, 300));
  await bed.registry.delete(VS, { namespace: 'default', name: 's' });
  await new Promise((r) => setTimeout(r, 1000));
  const held = await bed.registry.get(VS, { namespace: 'default', name: 's' });
  t.ok(held.metadata.deletionTimestamp, 'still there, being deleted');
  await bed.registry.delete('persistentvolumeclaims', { namespace: 'default', name: 'restoring' });
  await eventually(async () => bed.registry.get(VS, { namespace: 'default', name: 's' }).then(() => false, () => true), 10_000, 'deleted once the restore is gone');
});

t.test('start retries while the main cluster cannot be listed', async (t) => {
  const bed = await startBed(t);
  let failures = 1;
  const flaky: MainCluster = Object.create(bed.cluster) as MainCluster;
  flaky.informPersistentVolumeClaims = (h) => {
    if (failures-- > 0) return Promise.reject(new ClusterError(0, 'connect ECONNREFUSED'));
    return bed.cluster.informPersistentVolumeClaims(h);
  };
  const dir = await tempDir(t);
  const worker = createWorker({ registry: bed.registry, cluster: flaky, cloud: new HostPathProvider({ dataDir: dir }), workerThreads: 1, resyncPeriodMs: 0, log: quietLog });
  t.teardown(() => worker.stop());
  await worker.start();
  t.notOk(worker.ready(), 'not ready while the cluster is unreachable');
  await eventually(() => worker.ready(), 10_000, 'started on the retry');
});

t.test('a cloud snapshot in state error is surfaced as the Error condition; deletion still cleans up', async (t) => {
  const bed = await startBed(t);
  const ec2 = new Ec2Fake({ snapshotCompletionMs: 60_000 });
  const { url } = await ec2.start();
  t.teardown(() => ec2.stop());
  const cloud = new AwsProvider({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, qps: 1000, burst: 1000 });
  t.teardown(() => cloud.close());
  const vol = ec2.addVolume({ zone: 'us-east-1a', sizeGiB: 1 });
  await createBoundClaim(bed.registry, 'data', { awsElasticBlockStore: { volumeID: `aws://us-east-1a/${vol.volumeId}` } });
  await waitBound(bed.registry, 'data');
  const worker = createWorker({ registry: bed.registry, cluster: bed.cluster, cloud, workerThreads: 2, resyncPeriodMs: 0, log: quietLog, baseDelayMs: 50, maxDelayMs: 200 });
  t.teardown(() => worker.stop());
  await worker.start();
  const created = await bed.registry.create(VS, snapshotBody('s', 'data'), { namespace: 'default' });
  await eventually(() => ec2.listSnapshots().length === 1, 5000, 'cloud snapshot');
  await eventually(async () => conditionsOf(await bed.registry.get(VS, { namespace: 'default', name: 's' })).some((c) => c.type === 'Pending' && c.status === 'True' && /% done/.test(c.message ?? '')), 5000, 'Pending with progress');
  ec2.setSnapshotState(ec2.listSnapshots()[0]!.snapshotId, 'error', 'Snapshot could not be completed: volume busy');
  const failed = await eventually(async () => {
    const s = await bed.registry.get(VS, { namespace: 'default', name: 's' });
    return conditionsOf(s).find((c) => c.type === 'Error' && c.status === 'True') ? s : undefined;
  }, 5000, 'Error');
  t.match(conditionsOf(failed).find((c) => c.type === 'Error')!.message, /volume busy/);
  t.same(
    conditionsOf(failed).filter((c) => c.status === 'True').map((c) => c.type),
    ['Error'],
    'one True condition',
  );
  await bed.registry.delete(VS, { namespace: 'default', name: 's' });
  await eventually(async () => bed.registry.get(VS, { namespace: 'default', name: 's' }).then(() => false, () => true), 5000, 'deleted');
  t.equal(ec2.listSnapshots().filter((s) => Object.values(s.tags).includes(created.metadata.uid as string)).length, 0, 'the failed cloud snapshot is deleted too');
});

t.test('reclaim policy Retain on the data object keeps the cloud snapshot', async (t) => {
  const bed = await startBed(t);
  await startHostPathWorker(t, bed);
  await bed.registry.create(VS, snapshotBody('keep', 'data'), { namespace: 'default' });
  const ready = await eventually(async () => {
    const s = await bed.registry.get(VS, { namespace: 'default', name: 'keep' });
    return isReady(s) ? s : undefined;
  }, 10_000, 'Ready');
  const dataName = (ready as unknown as { spec: { snapshotDataName: string } }).spec.snapshotDataName;
  await bed.registry.patch(VSD, { name: dataName, patchType: 'merge', patch: { spec: { persistentVolumeReclaimPolicy: 'Retain' } } });
  const snapshotDir = ((await bed.registry.get(VSD, { name: dataName })) as unknown as { spec: { hostPath: { snapshot: string } } }).spec.hostPath.snapshot;
  await bed.registry.delete(VS, { namespace: 'default', name: 'keep' });
  await eventually(async () => bed.registry.get(VS, { namespace: 'default', name: 'keep' }).then(() => false, () => true), 5000, 'deleted');
  t.ok(await bed.registry.get(VSD, { name: dataName }).then(() => false, () => true), 'the data object is gone');
  t.equal(await readFile(path.join(snapshotDir, 'data', 'f'), 'utf8'), 'x', 'the cloud snapshot is kept');
});
