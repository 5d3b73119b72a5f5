// The full story against the EC2 and Compute fakes through the real SDKs: claim → snapshot (Pending with progress,
// then Ready) → restore claim → PV of the same kind, in the same zone, Bound → delete the snapshot → nothing left
// in the cloud → delete the restore claim → the released volume and PV go.

import t, { type Test } from 'tap';
import { AwsProvider } from '../../src/cloud/aws.js';
import { GceProvider } from '../../src/cloud/gce.js';
import type { CloudProvider } from '../../src/cloud/index.js';
import { createWorker } from '../../src/controller/worker.js';
import { Ec2Fake } from '../fakes/ec2-fake.js';
import { GceFake } from '../fakes/gce-fake.js';
import { VS, VSD, conditionsOf, createBoundClaim, eventually, isReady, quietLog, snapshotBody, startBed, waitBound, type Bed } from './bed.js';

interface Case {
  name: string;
  setup(t: Test): Promise<{ cloud: CloudProvider; source: Record<string, unknown>; labels?: Record<string, string>; snapshots(): number; volumes(): number }>;
  expectSource(t: Test, pv: Record<string, unknown>): void;
}

const cases: Case[] = [
  {
    name: 'aws',
    async setup(t) {
      const ec2 = new Ec2Fake({ snapshotCompletionMs: 600 });
      const { url } = await ec2.start();
      t.teardown(() => ec2.stop());
      const vol = ec2.addVolume({ zone: 'us-east-1a', sizeGiB: 3 });
      const cloud = new AwsProvider({
        region: 'us-east-1',
        endpoint: url,
        clusterId: 'c1',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
        qps: 1000,
        burst: 1000,
        pollIntervalMs: 10,
      });
      t.teardown(() => cloud.close());
      return {
        cloud,
        source: { awsElasticBlockStore: { volumeID: `aws://us-east-1a/${vol.volumeId}`, fsType: 'ext4' } },
        snapshots: () => ec2.listSnapshots().length,
        volumes: () => ec2.createdVolumes().length,
      };
    },
    expectSource(t, pv) {
      const spec = pv.spec as { awsElasticBlockStore: { volumeID: string; fsType: string } };
      t.match(spec.awsElasticBlockStore.volumeID, /^aws:\/\/us-east-1a\/vol-[0-9a-f]+$/);
      t.equal(spec.awsElasticBlockStore.fsType, 'ext4');
    },
  },
  {
    name: 'gce',
    async setup(t) {
      const gce = new GceFake({ snapshotCompletionMs: 600 });
      const { port } = await gce.start();
      t.teardown(() => gce.stop());
      gce.addDisk({ zone: 'us-central1-a', name: 'disk-1', sizeGb: 3 });
      const cloud = new GceProvider({
        project: 'test-project',
        apiEndpoint: '127.0.0.1',
        port,
        protocol: 'http',
        accessToken: 'test-token',
        clusterId: 'c1',
        qps: 1000,
        burst: 1000,
        pollIntervalMs: 10,
      });
      t.teardown(() => cloud.close());
      return {
        cloud,
        source: { gcePersistentDisk: { pdName: 'disk-1' } },
        labels: { 'topology.kubernetes.io/zone': 'us-central1-a' },
        snapshots: () => gce.listSnapshots().length,
        volumes: () => gce.createdDisks().length,
      };
    },
    expectSource(t, pv) {
      const spec = pv.spec as { gcePersistentDisk: { pdName: string } };
      t.ok(spec.gcePersistentDisk.pdName);
    },
  },
];

async function gone(bed: Bed, ref: string, name: string, namespace?: string): Promise<boolean> {
  return bed.registry.get(ref, { name, namespace }).then(
    () => false,
    () => true,
  );
}

for (const c of cases) {
  t.test(`${c.name}: snapshot, restore, delete`, async (t) => {
    const bed = await startBed(t);
    const env = await c.setup(t);
    const worker = createWorker({ registry: bed.registry, cluster: bed.cluster, cloud: env.cloud, workerThreads: 4, resyncPeriodMs: 0, log: quietLog, baseDelayMs: 50, maxDelayMs: 200 });
    t.teardown(() => worker.stop());
    await createBoundClaim(bed.registry, 'data', env.source, { capacity: '3Gi', labels: env.labels });
    await waitBound(bed.registry, 'data');
    await worker.start();
    await bed.registry.create(VS, snapshotBody('snap', 'data'), { namespace: 'default' });
    const messages = new Set<string>();
    const ready = await eventually(async () => {
      const s = await bed.registry.get(VS, { namespace: 'default', name: 'snap' });
      for (const cond of conditionsOf(s)) if (cond.type === 'Pending' && cond.status === 'True' && cond.message) messages.add(cond.message);
      return isReady(s) ? s : undefined;
    }, 20_000, 'Ready');
    t.ok([...messages].some((m) => m.startsWith('Snapshot is being created')), `Pending was visible (${[...messages].join(' | ')})`);
    t.equal((ready as unknown as { status: { restoreSize: string } }).status.restoreSize, '3Gi');
    t.equal(env.snapshots(), 1);
    const dataName = (ready as unknown as { spec: { snapshotDataName: string } }).spec.snapshotDataName;
    const data = (await bed.registry.get(VSD, { name: dataName })) as unknown as { spec: Record<string, unknown> };
    t.ok(data.spec[c.name === 'aws' ? 'awsElasticBlockStore' : 'gcePersistentDisk'], 'data object records the cloud snapshot');

    const restore = await bed.registry.create(
      'persistentvolumeclaims',
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'restored', annotations: { 'snapshot.alpha.kubernetes.io/snapshot': 'snap' } },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'snapshot-promoter', resources: { requests: { storage: '5Gi' } } },
      },
      { namespace: 'default' },
    );
    await waitBound(bed.registry, 'restored').catch(async (err: unknown) => {
      const events = (await bed.registry.list('events', { namespace: 'default' })).items.map((e) => `${(e as unknown as { reason: string }).reason}: ${(e as unknown as { message: string }).message}`);
      throw new Error(`${(err as Error).message}; events: ${events.join(' / ')}`);
    });
    const pvName = `pvc-${restore.metadata.uid}`;
    const pv = (await bed.registry.get('persistentvolumes', { name: pvName })) as unknown as Record<string, unknown> & {
      metadata: { labels: Record<string, string> };
      spec: { capacity: { storage: string }; nodeAffinity: unknown };
    };
    c.expectSource(t, pv);
    t.equal(pv.spec.capacity.storage, '5Gi', 'capacity is the real size');
    const zone = c.name === 'aws' ? 'us-east-1a' : 'us-central1-a';
    t.equal(pv.metadata.labels['topology.kubernetes.io/zone'], zone);
    t.same(pv.spec.nodeAffinity, { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [zone] }] }] } });
    t.equal(env.volumes(), 1);

    await bed.registry.delete(VS, { namespace: 'default', name: 'snap' });
    await eventually(() => gone(bed, VS, 'snap', 'default'), 10_000, 'snapshot deleted');
    t.ok(await gone(bed, VSD, dataName));
    t.equal(env.snapshots(), 0, 'cloud snapshot deleted');

    await bed.registry.delete('persistentvolumeclaims', { namespace: 'default', name: 'restored' });
    await eventually(() => gone(bed, 'persistentvolumes', pvName), 10_000, 'released PV deleted');
    t.equal(env.volumes(), 0, 'cloud volume deleted');
  });
}
