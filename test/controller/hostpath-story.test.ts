// The full story on hostpath: claim → VolumeSnapshot → Pending → Ready with VolumeSnapshotData → restore claim →
// PV Bound with the original files → delete the snapshot → data object and cloud snapshot gone → delete the restore
// claim → the released PV and its volume gone. The worker reaches the cluster through client-node over HTTP.

import t from 'tap';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Registry as PromRegistry } from 'prom-client';
import { HostPathProvider } from '../../src/cloud/hostpath.js';
import { createWorker } from '../../src/controller/worker.js';
import { SNAPSHOT_FINALIZER } from '../../src/controller/snapshotter.js';
import {
  G,
  VS,
  VSD,
  conditionsOf,
  createBoundClaim,
  eventually,
  isReady,
  quietLog,
  snapshotBody,
  startBed,
  tempDir,
  waitBound,
} from './bed.js';

t.test('hostpath: snapshot, restore, delete', async (t) => {
  const bed = await startBed(t);
  const { registry, cluster } = bed;
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await mkdir(path.join(src, 'sub'), { recursive: true });
  await writeFile(path.join(src, 'hello.txt'), 'hello world\n');
  await writeFile(path.join(src, 'sub', 'b.bin'), Buffer.alloc(4096, 7));
  const cloud = new HostPathProvider({ dataDir: path.join(dir, 'data') });
  const prom = new PromRegistry();
  const worker = createWorker({ registry, cluster, cloud, workerThreads: 4, resyncPeriodMs: 0, log: quietLog, metrics: prom, baseDelayMs: 50, maxDelayMs: 500 });
  t.teardown(() => worker.stop());

  await createBoundClaim(registry, 'data', { hostPath: { path: src } }, { capacity: '2Gi' });
  await waitBound(registry, 'data');
  await worker.start();
  t.ok(worker.ready());
  t.ok(worker.isLeader(), 'without leader election this replica runs the worker');

  const created = await registry.create(VS, { ...snapshotBody('snap1', 'data'), metadata: { name: 'snap1', labels: { team: 'a', 'SnapshotMetadata-PVName': 'mine' } } }, { namespace: 'default' });
  const uid = created.metadata.uid as string;
  const ready = await eventually(async () => {
    const s = await registry.get(VS, { namespace: 'default', name: 'snap1' });
    return isReady(s) ? s : undefined;
  }, 15_000, 'snapshot Ready');
  const snap = ready as unknown as {
    metadata: { finalizers: string[]; labels: Record<string, string> };
    spec: { snapshotDataName: string };
    status: { restoreSize: string; creationTimestamp: string };
  };
  t.same(snap.metadata.finalizers, [SNAPSHOT_FINALIZER]);
  t.equal(snap.spec.snapshotDataName, `k8s-volume-snapshot-${uid}`);
  t.equal(snap.status.restoreSize, '2Gi', 'restoreSize is the PV capacity');
  t.match(snap.status.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.equal(snap.metadata.labels.team, 'a', 'user label kept');
  t.equal(snap.metadata.labels['SnapshotMetadata-PVName'], 'mine', "the user's value wins");
  t.match(snap.metadata.labels['SnapshotMetadata-Timestamp'], /^\d{19}$/);
  const conds = conditionsOf(ready);
  t.same(
    conds.map((c) => [c.type, c.status, c.message]),
    [
      ['Pending', 'False', 'Snapshot is being created'],
      ['Ready', 'True', 'Snapshot created successfully'],
    ],
  );
  const data = (await registry.get(VSD, { name: snap.spec.snapshotDataName })) as unknown as {
    spec: { hostPath: { snapshot: string }; volumeSnapshotRef: Record<string, string>; persistentVolumeRef: Record<string, string> };
    status: { conditions: { type: string; status: string; message: string }[]; creationTimestamp: string };
  };
  t.same(data.spec.volumeSnapshotRef, { kind: 'VolumeSnapshot', apiVersion: `${G}/v1`, namespace: 'default', name: 'snap1', uid });
  t.equal(data.spec.persistentVolumeRef.name, 'pv-data');
  t.same(data.status.conditions.map((c) => [c.type, c.status, c.message]), [['Ready', 'True', 'Snapshot created successfully']]);
  const snapshotDir = data.spec.hostPath.snapshot;
  // Deleting the data object alone would orphan the cloud snapshot: its finalizer keeps it until the snapshot goes.
  await registry.delete(VSD, { name: snap.spec.snapshotDataName });
  const kept = await registry.get(VSD, { name: snap.spec.snapshotDataName });
  t.ok(kept.metadata.deletionTimestamp, 'the data object waits, Terminating');
  t.same(kept.metadata.finalizers, ['volumesnapshot.external-storage.k8s.io/snapshot-data-protection']);
  t.equal(await readFile(path.join(snapshotDir, 'data', 'hello.txt'), 'utf8'), 'hello world\n');

  const events = await eventually(async () => {
    const list = await registry.list('events', { namespace: 'default' });
    const mine = list.items.filter((e) => (e as unknown as { involvedObject: { uid: string } }).involvedObject.uid === uid);
    return mine.length >= 3 ? mine : undefined;
  }, 5000, 'events');
  const reasons = events.map((e) => (e as unknown as { reason: string }).reason).sort();
  t.same(reasons, ['CreatingSnapshot', 'SnapshotCreated', 'SnapshotReady']);
  const ev = events[0] as unknown as { involvedObject: Record<string, string>; source: { component: string } };
  t.equal(ev.involvedObject.apiVersion, `${G}/v1`);
  t.equal(ev.involvedObject.kind, 'VolumeSnapshot');
  t.equal(ev.source.component, 'volumesnapshot-controller');

  // Restore into a new claim of the promoter class.
  const restore = await registry.create(
    'persistentvolumeclaims',
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'restored', annotations: { 'snapshot.alpha.kubernetes.io/snapshot': 'snap1' } },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'snapshot-promoter', resources: { requests: { storage: '2Gi' } } },
    },
    { namespace: 'default' },
  );
  const bound = await waitBound(registry, 'restored');
  const pvName = `pvc-${restore.metadata.uid}`;
  t.equal((bound as unknown as { spec: { volumeName: string } }).spec.volumeName, pvName);
  const pv = (await registry.get('persistentvolumes', { name: pvName })) as unknown as {
    metadata: { annotations: Record<string, string> };
    spec: { hostPath: { path: string }; claimRef: Record<string, string>; persistentVolumeReclaimPolicy: string; storageClassName: string; capacity: { storage: string } };
  };
  t.equal(pv.metadata.annotations['pv.kubernetes.io/provisioned-by'], 'volumesnapshot.external-storage.k8s.io/snapshot-promoter');
  t.ok(pv.metadata.annotations.snapshotProvisionerIdentity);
  t.equal(pv.spec.claimRef.uid, restore.metadata.uid);
  t.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
  t.equal(pv.spec.storageClassName, 'snapshot-promoter');
  t.equal(pv.spec.capacity.storage, '2Gi');
  t.equal(await readFile(path.join(pv.spec.hostPath.path, 'hello.txt'), 'utf8'), 'hello world\n', 'the restored volume holds the original files');
  t.equal((await readFile(path.join(pv.spec.hostPath.path, 'sub', 'b.bin'))).length, 4096);
  await eventually(async () => {
    const list = await registry.list('events', { namespace: 'default' });
    return list.items.some((e) => (e as unknown as { reason: string; involvedObject: { name: string } }).reason === 'ProvisioningSucceeded');
  }, 5000, 'ProvisioningSucceeded');

  // Delete the snapshot: finalizer-driven cleanup of the data object and the cloud snapshot.
  await registry.delete(VS, { namespace: 'default', name: 'snap1' });
  await eventually(async () => {
    try {
      await registry.get(VS, { namespace: 'default', name: 'snap1' });
      return false;
    } catch {
      return true;
    }
  }, 10_000, 'snapshot gone');
  await registry.get(VSD, { name: snap.spec.snapshotDataName }).then(
    () => t.fail('data object still there'),
    (e: { reason?: string }) => t.equal(e.reason, 'NotFound', 'data object gone'),
  );
  t.same((await readdir(path.dirname(snapshotDir))).filter((n) => !n.startsWith('.')), [], 'no cloud snapshot left');

  // Delete the restore claim: the released PV and its volume go.
  await registry.delete('persistentvolumeclaims', { namespace: 'default', name: 'restored' });
  await eventually(async () => {
    try {
      await registry.get('persistentvolumes', { name: pvName });
      return false;
    } catch {
      return true;
    }
  }, 10_000, 'released PV deleted');
  t.same((await readdir(path.join(dir, 'data', 'volumes'))).filter((n) => !n.startsWith('.')), [], 'volume deleted');

  const metrics = await prom.metrics();
  t.match(metrics, /snapshot_controller_operation_total_seconds_count\{operation_name="CreateSnapshotAndReady",operation_status="success",provider="hostpath"\} 1/);
  t.match(metrics, /snapshot_controller_operation_total_seconds_count\{operation_name="DeleteSnapshot",operation_status="success",provider="hostpath"\} 1/);
  t.match(metrics, /snapshot_controller_operation_total_seconds_count\{operation_name="RestoreVolume",operation_status="success",provider="hostpath"\} 1/);
  t.match(metrics, /snapshot_controller_cloud_calls_total\{provider="hostpath",operation="createSnapshot",code="OK"\} 1/);
  await worker.stop();
  t.notOk(worker.ready());
});

t.test('errors: an unbound claim is retried until it binds; a terminal error waits for the user', async (t) => {
  const bed = await startBed(t);
  const { registry, cluster } = bed;
  const dir = await tempDir(t);
  const cloud = new HostPathProvider({ dataDir: path.join(dir, 'data') });
  const worker = createWorker({ registry, cluster, cloud, workerThreads: 2, resyncPeriodMs: 0, log: quietLog, baseDelayMs: 50, maxDelayMs: 300 });
  t.teardown(() => worker.stop());
  await worker.start();

  // A claim with nothing to bind to yet.
  await registry.create(VS, snapshotBody('early', 'later'), { namespace: 'default' });
  const failing = await eventually(async () => {
    const s = await registry.get(VS, { namespace: 'default', name: 'early' });
    return conditionsOf(s).find((c) => c.type === 'Error' && c.status === 'True') ? s : undefined;
  }, 5000, 'Error condition');
  t.match(conditionsOf(failing).find((c) => c.type === 'Error')!.message, /PersistentVolumeClaim "later" not found/);
  const src = path.join(dir, 'later');
  await mkdir(src);
  await writeFile(path.join(src, 'f'), 'x');
  await createBoundClaim(registry, 'later', { hostPath: { path: src } });
  const ok = await eventually(async () => {
    const s = await registry.get(VS, { namespace: 'default', name: 'early' });
    return isReady(s) ? s : undefined;
  }, 10_000, 'Ready after the claim bound');
  t.same(
    conditionsOf(ok).map((c) => [c.type, c.status]),
    [
      ['Error', 'False'],
      ['Pending', 'False'],
      ['Ready', 'True'],
    ],
  );

  // A source that does not exist is terminal: Error stays, no retries, until the retry annotation changes.
  await createBoundClaim(registry, 'ghost', { hostPath: { path: path.join(dir, 'missing') } });
  await waitBound(registry, 'ghost');
  await registry.create(VS, snapshotBody('doomed', 'ghost'), { namespace: 'default' });
  const failed = await eventually(async () => {
    const s = await registry.get(VS, { namespace: 'default', name: 'doomed' });
    return (s.metadata.annotations as Record<string, string> | undefined)?.[`${G}/failed-attempt`] ? s : undefined;
  }, 5000, 'terminal failure recorded');
  t.match(conditionsOf(failed).find((c) => c.type === 'Error')!.message, /is not a directory/);
  const rv = failed.metadata.resourceVersion;
  await new Promise((r) => setTimeout(r, 700));
  t.equal((await registry.get(VS, { namespace: 'default', name: 'doomed' })).metadata.resourceVersion, rv, 'left alone');
  const warnings = (await registry.list('events', { namespace: 'default' })).items.filter(
    (e) => (e as unknown as { reason: string; involvedObject: { name: string } }).reason === 'SnapshotCreationFailed' && (e as unknown as { involvedObject: { name: string } }).involvedObject.name === 'doomed',
  );
  t.equal(warnings.length, 1);
  t.equal((warnings[0] as unknown as { type: string }).type, 'Warning');

  // The user fixes the source and asks again.
  await mkdir(path.join(dir, 'missing'));
  await registry.patch(VS, { namespace: 'default', name: 'doomed', patchType: 'merge', patch: { metadata: { annotations: { [`${G}/retry`]: '1' } } } });
  await eventually(async () => isReady(await registry.get(VS, { namespace: 'default', name: 'doomed' })), 10_000, 'Ready after retry');

  // Deleting a snapshot in Error (never created in the cloud) works too.
  await registry.create(VS, snapshotBody('never', 'nope'), { namespace: 'default' });
  await eventually(async () => conditionsOf(await registry.get(VS, { namespace: 'default', name: 'never' })).some((c) => c.type === 'Error'), 5000, 'Error');
  await registry.delete(VS, { namespace: 'default', name: 'never' });
  await eventually(async () => registry.get(VS, { namespace: 'default', name: 'never' }).then(() => false, () => true), 5000, 'deleted from Error');
});
