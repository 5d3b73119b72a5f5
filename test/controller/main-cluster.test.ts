import t from 'tap';
import { startBed, createBoundClaim, waitBound, eventually } from './bed.js';
import { isAlreadyExists, isConflict, type PersistentVolumeClaim } from '../../src/cluster/main-cluster.js';

t.test('client-node MainCluster against the local cluster over HTTP', async (t) => {
  const { cluster, registry } = await startBed(t);
  await createBoundClaim(registry, 'data', { hostPath: { path: '/tmp/x' } });
  await waitBound(registry, 'data');
  const pvc = await cluster.getPersistentVolumeClaim('default', 'data');
  t.equal(pvc?.status?.phase, 'Bound');
  t.equal(pvc?.spec?.volumeName, 'pv-data');
  t.type(pvc?.metadata.creationTimestamp, 'string', 'plain JSON: times stay strings');
  t.equal(await cluster.getPersistentVolumeClaim('default', 'nope'), undefined);
  const pv = await cluster.getPersistentVolume('pv-data');
  t.same(pv?.spec?.hostPath, { path: '/tmp/x' });
  t.equal((await cluster.getStorageClass('snapshot-promoter'))?.provisioner, 'volumesnapshot.external-storage.k8s.io/snapshot-promoter');
  t.equal((await cluster.listPersistentVolumes()).length, 1);

  const seen: string[] = [];
  const inf = await cluster.informPersistentVolumeClaims({ onUpsert: (o) => seen.push(`up:${o.metadata.name}`), onDelete: (o) => seen.push(`del:${o.metadata.name}`) });
  t.teardown(() => inf.stop());
  await eventually(() => seen.includes('up:data'), 5000, 'initial list');
  await registry.create('persistentvolumeclaims', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'second' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'manual' } }, { namespace: 'default' });
  await eventually(() => seen.includes('up:second'), 5000, 'watch event');
  t.ok(inf.list().some((p: PersistentVolumeClaim) => p.metadata.name === 'second'));

  const created = await cluster.createPersistentVolume({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-new' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/y' } } });
  t.ok(created.metadata.uid);
  const again = await cluster.createPersistentVolume({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-new' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/y' } } }).catch((e: unknown) => e);
  t.ok(isAlreadyExists(again), 'AlreadyExists is recognisable');
  await cluster.deletePersistentVolume('pv-new');
  await cluster.deletePersistentVolume('pv-new');
  await eventually(async () => (await cluster.getPersistentVolume('pv-new')) === undefined, 5000, 'pv gone');
});

t.test('leases are written as MicroTime and guarded by resourceVersion', async (t) => {
  const { cluster, registry } = await startBed(t);
  const at = new Date('2026-01-02T03:04:05.678Z');
  const lease = await cluster.createLease('kube-system', 'l1', { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: at, renewTime: at, leaseTransitions: 0 });
  const raw = (await registry.get('leases.coordination.k8s.io', { namespace: 'kube-system', name: 'l1' })) as unknown as { spec: { renewTime: string } };
  t.equal(raw.spec.renewTime, '2026-01-02T03:04:05.678000Z', 'six fractional digits on the wire');
  const read = await cluster.getLease('kube-system', 'l1');
  t.equal(read?.record.renewTime?.getTime(), at.getTime());
  t.equal(read?.record.holderIdentity, 'a');
  const updated = await cluster.updateLease(lease, { ...lease.record, holderIdentity: 'b' });
  t.equal(updated.record.holderIdentity, 'b');
  const stale = await cluster.updateLease(lease, { ...lease.record, holderIdentity: 'c' }).catch((e: unknown) => e);
  t.ok(isConflict(stale), 'a stale resourceVersion is a 409');
  t.equal(await cluster.getLease('kube-system', 'nope'), undefined);
});
