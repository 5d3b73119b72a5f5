// The binder against a real Registry over an in-memory SQLite store: the example PV + PVC end Bound with REFERENCE
// §8's exact fields; a claim of the promoter class gets the provisioner annotations and an ExternalProvisioning
// event; deleting a bound claim releases its volume; the seed is idempotent.
import t, { type Test } from 'tap';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from '../../src/apimachinery/registry.js';
import type { KubeObject } from '../../src/apimachinery/resource-definition.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { createLocalCluster } from '../../src/localcluster/local-cluster.js';
import { EVENTS, PERSISTENT_VOLUMES, PERSISTENT_VOLUME_CLAIMS, STORAGE_CLASSES, NAMESPACES } from '../../src/localcluster/definitions.js';
import { seedLocalCluster } from '../../src/localcluster/seed.js';
import { checkNamespaceLifecycle } from '../../src/localcluster/namespace-lifecycle.js';
import { noopLog } from './fixtures/objects.js';

const NOW = new Date('2026-11-26T12:00:00Z');

async function setup(t: Test) {
  const store = SqliteStore.open({ path: ':memory:' });
  // The definitions are needed to build the Registry, so the cluster gets a getter (as serve.ts would wire it).
  const cluster = createLocalCluster(() => registry, { log: noopLog, clock: () => NOW, resyncMs: 60_000 });
  const registry = new Registry({ store, definitions: cluster.definitions, clock: () => NOW });
  await cluster.start();
  t.teardown(async () => {
    await cluster.stop();
    await store.close();
  });
  return { registry, cluster };
}

/** Waits until `check` passes (the binder works off watches), bounded. */
async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const examplePv = {
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: 'pv-demo' },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/volumesnapshot-demo/pv-demo', type: 'DirectoryOrCreate' } },
};
const examplePvc = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'pvc-demo', namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', resources: { requests: { storage: '1Gi' } } },
};

t.test('seed: namespaces and the restore class, once', async (t) => {
  const { registry } = await setup(t);
  t.same((await registry.list(NAMESPACES)).items.map((n) => n.metadata.name).sort(), ['default', 'kube-system']);
  const sc = await registry.get(STORAGE_CLASSES, { name: 'snapshot-promoter' });
  t.match(sc, { provisioner: 'volumesnapshot.external-storage.k8s.io/snapshot-promoter', reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
  t.same(await seedLocalCluster(registry), [], 'a second start creates nothing');
  t.equal((await registry.get(STORAGE_CLASSES, { name: 'snapshot-promoter' })).metadata.resourceVersion, sc.metadata.resourceVersion, 'and changes nothing');
});

t.test('example PV + PVC → both Bound', async (t) => {
  const { registry, cluster } = await setup(t);
  await registry.create(PERSISTENT_VOLUMES, structuredClone(examplePv));
  const available = await eventually(() => registry.get(PERSISTENT_VOLUMES, { name: 'pv-demo' }), (v) => (v.status as { phase?: string }).phase === 'Available');
  t.equal((available.status as { phase: string }).phase, 'Available', 'a new volume becomes Available');
  const created = await registry.create(PERSISTENT_VOLUME_CLAIMS, structuredClone(examplePvc), { namespace: 'default' });

  const pvc = await eventually(
    () => registry.get(PERSISTENT_VOLUME_CLAIMS, { namespace: 'default', name: 'pvc-demo' }),
    (c) => (c.status as { phase?: string }).phase === 'Bound',
  );
  await cluster.idle();
  const pv = await registry.get(PERSISTENT_VOLUMES, { name: 'pv-demo' });
  t.same((pv.spec as Record<string, unknown>).claimRef, {
    kind: 'PersistentVolumeClaim',
    namespace: 'default',
    name: 'pvc-demo',
    uid: created.metadata.uid,
    apiVersion: 'v1',
    resourceVersion: created.metadata.resourceVersion,
  });
  t.equal((pv.metadata.annotations as Record<string, string>)['pv.kubernetes.io/bound-by-controller'], 'yes');
  t.match(pv.status, { phase: 'Bound', lastPhaseTransitionTime: '2026-11-26T12:00:00Z' });
  t.equal((pv.metadata.finalizers as unknown) ?? undefined, undefined, 'no pv-protection finalizer');
  t.equal((pvc.spec as Record<string, unknown>).volumeName, 'pv-demo');
  t.same(pvc.metadata.annotations, { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
  t.same(pvc.status, { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
  t.same((await registry.list(EVENTS, { namespace: 'default' })).items, [], 'a successful bind records no event');

  // Deleting the bound claim releases the volume (Retain keeps it Released) and is not held up by a finalizer.
  await registry.delete(PERSISTENT_VOLUME_CLAIMS, { namespace: 'default', name: 'pvc-demo' });
  const released = await eventually(() => registry.get(PERSISTENT_VOLUMES, { name: 'pv-demo' }), (v) => (v.status as { phase?: string }).phase === 'Released');
  t.equal((released.status as { phase: string }).phase, 'Released');
  await cluster.idle();
  t.equal(((await registry.get(PERSISTENT_VOLUMES, { name: 'pv-demo' })).status as { phase: string }).phase, 'Released', 'Retain stays Released');
});

t.test('static binding by spec.volumeName', async (t) => {
  const { registry, cluster } = await setup(t);
  await registry.create(PERSISTENT_VOLUMES, { ...structuredClone(examplePv), metadata: { name: 'big' }, spec: { ...examplePv.spec, capacity: { storage: '5Gi' } } });
  await registry.create(PERSISTENT_VOLUMES, structuredClone(examplePv));
  await registry.create(PERSISTENT_VOLUME_CLAIMS, { ...structuredClone(examplePvc), spec: { ...examplePvc.spec, volumeName: 'big' } }, { namespace: 'default' });
  const pvc = await eventually(
    () => registry.get(PERSISTENT_VOLUME_CLAIMS, { namespace: 'default', name: 'pvc-demo' }),
    (c) => (c.status as { phase?: string }).phase === 'Bound',
  );
  await cluster.idle();
  t.same(pvc.metadata.annotations, { 'pv.kubernetes.io/bind-completed': 'yes' }, 'the user chose: no bound-by-controller');
  t.same(pvc.status, { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '5Gi' } });
  const big = await registry.get(PERSISTENT_VOLUMES, { name: 'big' });
  t.same(big.metadata.annotations, { 'pv.kubernetes.io/bound-by-controller': 'yes' }, 'the controller set the claimRef');
  t.equal(((await registry.get(PERSISTENT_VOLUMES, { name: 'pv-demo' })).status as { phase: string }).phase, 'Available', 'the other volume stays free');
});

t.test('a claim of the promoter class waits for its external provisioner', async (t) => {
  const { registry, cluster } = await setup(t);
  const created = await registry.create(
    PERSISTENT_VOLUME_CLAIMS,
    { ...structuredClone(examplePvc), metadata: { name: 'restore', namespace: 'default' }, spec: { ...examplePvc.spec, storageClassName: 'snapshot-promoter' } },
    { namespace: 'default' },
  );
  const pvc = await eventually(
    () => registry.get(PERSISTENT_VOLUME_CLAIMS, { namespace: 'default', name: 'restore' }),
    (c) => !!(c.metadata.annotations as Record<string, string> | undefined)?.['volume.kubernetes.io/storage-provisioner'],
  );
  await cluster.idle();
  t.same(pvc.metadata.annotations, {
    'volume.kubernetes.io/storage-provisioner': 'volumesnapshot.external-storage.k8s.io/snapshot-promoter',
    'volume.beta.kubernetes.io/storage-provisioner': 'volumesnapshot.external-storage.k8s.io/snapshot-promoter',
  });
  t.equal((pvc.status as { phase: string }).phase, 'Pending');
  const events = (
    await registry.list(EVENTS, {
      namespace: 'default',
      fieldSelector: `involvedObject.name=restore,involvedObject.namespace=default,involvedObject.kind=PersistentVolumeClaim,involvedObject.uid=${created.metadata.uid}`,
    })
  ).items as (KubeObject & Record<string, unknown>)[];
  t.equal(events.length, 1, 'one event, as kubectl describe finds it');
  const e = events[0];
  t.match(e.metadata.name, /^restore\.[0-9a-f]+$/);
  t.same(e.involvedObject, { kind: 'PersistentVolumeClaim', name: 'restore', uid: created.metadata.uid, apiVersion: 'v1', resourceVersion: pvc.metadata.resourceVersion, namespace: 'default' }, 'about the claim as last written');
  t.match(e, {
    reason: 'ExternalProvisioning',
    type: 'Normal',
    count: 1,
    source: { component: 'persistentvolume-controller' },
    firstTimestamp: '2026-11-26T12:00:00Z',
    lastTimestamp: '2026-11-26T12:00:00Z',
    message:
      "Waiting for a volume to be created either by the external provisioner 'volumesnapshot.external-storage.k8s.io/snapshot-promoter' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
  });

  // The provisioner's PV (pre-bound to the claim, as sig-storage-lib-external-provisioner makes it) completes the binding.
  await registry.create(PERSISTENT_VOLUMES, {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `pvc-${created.metadata.uid}`, annotations: { 'pv.kubernetes.io/provisioned-by': 'volumesnapshot.external-storage.k8s.io/snapshot-promoter' } },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'snapshot-promoter',
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'default', name: 'restore', uid: created.metadata.uid },
      hostPath: { path: '/tmp/restored' },
    },
  });
  const bound = await eventually(
    () => registry.get(PERSISTENT_VOLUME_CLAIMS, { namespace: 'default', name: 'restore' }),
    (c) => (c.status as { phase?: string }).phase === 'Bound',
  );
  t.equal((bound.spec as Record<string, unknown>).volumeName, `pvc-${created.metadata.uid}`);
  t.equal((bound.metadata.annotations as Record<string, string>)['pv.kubernetes.io/bound-by-controller'], 'yes');
  await cluster.idle();
  t.same((await registry.get(PERSISTENT_VOLUMES, { name: `pvc-${created.metadata.uid}` })).metadata.annotations, {
    'pv.kubernetes.io/provisioned-by': 'volumesnapshot.external-storage.k8s.io/snapshot-promoter',
  }, 'pre-bound PV: no bound-by-controller on it');

  // Released with reclaim Delete and provisioned by an external provisioner: left for it.
  await registry.delete(PERSISTENT_VOLUME_CLAIMS, { namespace: 'default', name: 'restore' });
  const released = await eventually(
    () => registry.get(PERSISTENT_VOLUMES, { name: `pvc-${created.metadata.uid}` }),
    (v) => (v.status as { phase?: string }).phase === 'Released',
  );
  await cluster.idle();
  t.equal((released.status as { phase: string }).phase, 'Released');
  t.equal(((await registry.get(PERSISTENT_VOLUMES, { name: `pvc-${created.metadata.uid}` })).status as { phase: string }).phase, 'Released', 'not Failed');
});

t.test('no class and no volume: FailedBinding event', async (t) => {
  const { registry, cluster } = await setup(t);
  await registry.create(PERSISTENT_VOLUME_CLAIMS, structuredClone(examplePvc), { namespace: 'default' });
  const events = await eventually(
    async () => (await registry.list(EVENTS, { namespace: 'default', fieldSelector: 'reason=FailedBinding' })).items,
    (items) => items.length > 0,
  );
  await cluster.idle();
  t.match(events[0], { type: 'Normal', message: 'no persistent volumes available for this claim and no storage class is set' });
});

t.test('namespace lifecycle', async (t) => {
  const { registry } = await setup(t);
  const pvcs = registry.resolve(PERSISTENT_VOLUME_CLAIMS);
  const nss = registry.resolve(NAMESPACES);
  await t.resolves(checkNamespaceLifecycle(registry, { operation: 'CREATE', resource: pvcs, namespace: 'default', name: 'a' }));
  await t.rejects(checkNamespaceLifecycle(registry, { operation: 'CREATE', resource: pvcs, namespace: 'nope', name: 'a' }), {
    code: 404,
    message: 'namespaces "nope" not found',
  });
  await t.resolves(checkNamespaceLifecycle(registry, { operation: 'UPDATE', resource: pvcs, namespace: 'nope', name: 'a' }), 'only creates are checked');
  await t.rejects(checkNamespaceLifecycle(registry, { operation: 'DELETE', resource: nss, name: 'kube-system' }), {
    code: 403,
    message: 'namespaces "kube-system" is forbidden: this namespace may not be deleted',
  });
  await registry.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'going' } });
  const going = await registry.get(NAMESPACES, { name: 'going' });
  await registry.updateStatus(NAMESPACES, { ...going, status: { phase: 'Terminating' } }, { name: 'going' });
  await t.rejects(checkNamespaceLifecycle(registry, { operation: 'CREATE', resource: pvcs, namespace: 'going', name: 'a' }), {
    code: 403,
    message: 'persistentvolumeclaims "a" is forbidden: unable to create new content in namespace going because it is being terminated',
  });
});

t.test('restart on the same store: the seed is not re-created, edits are kept, a deleted seed object comes back', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'localcluster-restart-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const boot = async () => {
    const store = SqliteStore.open({ path: path.join(dir, 'store.db') });
    const cluster = createLocalCluster(() => registry, { log: noopLog, resyncMs: 60_000 });
    const registry = new Registry({ store, definitions: cluster.definitions });
    await cluster.start();
    return { registry, stop: async () => { await cluster.stop(); await store.close(); } };
  };
  const first = await boot();
  const sc = await first.registry.get(STORAGE_CLASSES, { name: 'snapshot-promoter' });
  await first.registry.update(STORAGE_CLASSES, { ...sc, metadata: { ...sc.metadata, labels: { edited: 'yes' } } }, { name: 'snapshot-promoter' });
  await first.registry.delete(NAMESPACES, { name: 'kube-system' });
  await first.stop();

  const second = await boot();
  t.teardown(second.stop);
  t.same((await second.registry.get(STORAGE_CLASSES, { name: 'snapshot-promoter' })).metadata.labels, { edited: 'yes' }, 'the edit survives');
  t.equal((await second.registry.get(NAMESPACES, { name: 'kube-system' })).metadata.name, 'kube-system', 'absent again → created again');
  t.equal((await second.registry.list(STORAGE_CLASSES)).items.length, 1);
});
