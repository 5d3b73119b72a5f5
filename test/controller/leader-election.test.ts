// Leader election over a real Lease (client-node → API plugin → Registry), with short durations.

import t from 'tap';
import { Registry as PromRegistry } from 'prom-client';
import { LeaderElector, type LeaseClient } from '../../src/controller/leader-election.js';
import { createWorker } from '../../src/controller/worker.js';
import { AwsProvider } from '../../src/cloud/aws.js';
import type { MainCluster } from '../../src/cluster/main-cluster.js';
import { Ec2Fake } from '../fakes/ec2-fake.js';
import { VS, createBoundClaim, eventually, isReady, quietLog, snapshotBody, startBed, waitBound } from './bed.js';

const timing = { leaseDurationMs: 800, renewDeadlineMs: 500, retryPeriodMs: 100 };

/** A lease client that can be "killed": every call fails afterwards, as for a process that is gone. */
function killable(inner: LeaseClient): LeaseClient & { kill(): void } {
  let dead = false;
  const guard = <T>(fn: () => Promise<T>) => (dead ? Promise.reject(new Error('killed')) : fn());
  return {
    kill: () => (dead = true),
    getLease: (ns, name) => guard(() => inner.getLease(ns, name)),
    createLease: (ns, name, r) => guard(() => inner.createLease(ns, name, r)),
    updateLease: (l, r) => guard(() => inner.updateLease(l, r)),
  };
}

t.test('two candidates: one leader; kill it; the other takes over once the lease expires', async (t) => {
  const { cluster, registry } = await startBed(t);
  const log: string[] = [];
  const make = (id: string, leases: LeaseClient) =>
    new LeaderElector({
      leases,
      namespace: 'kube-system',
      name: 'worker',
      identity: id,
      ...timing,
      onStartedLeading: () => void log.push(`${id}:start`),
      onStoppedLeading: () => void log.push(`${id}:stop`),
    });
  const la = killable(cluster);
  const a = make('a', la);
  a.start();
  await eventually(() => a.isLeader(), 5000, 'a leads');
  const b = make('b', cluster);
  b.start();
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  await new Promise((r) => setTimeout(r, 1200));
  t.ok(a.isLeader(), 'a keeps renewing');
  t.notOk(b.isLeader(), 'b waits while the lease is renewed');
  const lease = (await registry.get('leases.coordination.k8s.io', { namespace: 'kube-system', name: 'worker' })) as unknown as {
    spec: { holderIdentity: string; renewTime: string; leaseDurationSeconds: number };
  };
  t.equal(lease.spec.holderIdentity, 'a');
  t.match(lease.spec.renewTime, /\.\d{6}Z$/, 'MicroTime on the wire');

  la.kill();
  await eventually(() => b.isLeader(), 5000, 'b takes over');
  await eventually(() => !a.isLeader(), 5000, 'a stepped down');
  t.same(log.slice(0, 1), ['a:start']);
  t.ok(log.includes('a:stop') && log.includes('b:start'));
  const after = (await registry.get('leases.coordination.k8s.io', { namespace: 'kube-system', name: 'worker' })) as unknown as {
    spec: { holderIdentity: string; leaseTransitions: number };
  };
  t.equal(after.spec.holderIdentity, 'b');
  t.equal(after.spec.leaseTransitions, 1);
});

t.test('a leader that stops releases the lease: the other takes over without waiting for expiry', async (t) => {
  const { cluster } = await startBed(t);
  const slow = { leaseDurationMs: 30_000, renewDeadlineMs: 500, retryPeriodMs: 100 };
  const mk = (id: string) => new LeaderElector({ leases: cluster, namespace: 'kube-system', name: 'w2', identity: id, ...slow, onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
  const a = mk('a');
  a.start();
  await eventually(() => a.isLeader(), 5000, 'a leads');
  const b = mk('b');
  b.start();
  t.teardown(() => b.stop());
  await a.stop();
  t.notOk(a.isLeader());
  await eventually(() => b.isLeader(), 3000, 'b leads long before the 30 s lease would expire');
});

t.test('two workers: only the leader works; stop it mid-work; the other finishes without duplicates', async (t) => {
  const bed = await startBed(t);
  const ec2 = new Ec2Fake({ snapshotCompletionMs: 1500 });
  const { url } = await ec2.start();
  t.teardown(() => ec2.stop());
  const provider = () =>
    new AwsProvider({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, qps: 1000, burst: 1000, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20, throttlePauseMs: 5 } });
  const vol = ec2.addVolume({ zone: 'us-east-1a', sizeGiB: 1 });
  await createBoundClaim(bed.registry, 'data', { awsElasticBlockStore: { volumeID: `aws://us-east-1a/${vol.volumeId}` } });
  await waitBound(bed.registry, 'data');
  const mk = (id: string, cluster: MainCluster) =>
    createWorker({
      registry: bed.registry,
      cluster,
      cloud: provider(),
      identity: id,
      leaderElection: { namespace: 'kube-system', ...timing },
      workerThreads: 4,
      resyncPeriodMs: 0,
      log: quietLog,
      metrics: new PromRegistry(),
      baseDelayMs: 50,
      maxDelayMs: 200,
    });
  const a = mk('a', bed.cluster);
  await a.start();
  await eventually(() => a.isLeader() && a.ready(), 5000, 'a leads');
  const b = mk('b', bed.cluster);
  await b.start();
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  t.ok(b.ready(), 'a follower is ready (it serves the API)');
  t.notOk(b.isLeader());
  const uids: string[] = [];
  for (let i = 0; i < 10; i++) uids.push((await bed.registry.create(VS, snapshotBody(`s-${i}`, 'data'), { namespace: 'default' })).metadata.uid as string);
  await eventually(() => ec2.callCount('CreateSnapshot') >= 3, 5000, 'a started working');
  await a.stop();
  await eventually(() => b.isLeader(), 5000, 'b takes over');
  await eventually(async () => (await bed.registry.list(VS, { namespace: 'default' })).items.filter(isReady).length === 10, 20_000, 'all Ready');
  for (const uid of uids) {
    t.equal(ec2.listSnapshots().filter((s) => Object.values(s.tags).includes(uid)).length, 1, `one cloud snapshot for ${uid}`);
  }
});
