import tap, { type Test } from 'tap';

const t = tap;
import { CloudError } from '../../src/cloud/cloud-error.js';
import {
  GceProvider,
  LABEL_NAME,
  LABEL_NAMESPACE,
  LABEL_UID,
  diskNameFor,
  labelValue,
  snapshotNameForUid,
  type GceProviderOptions,
} from '../../src/cloud/gce.js';
import { GiB, type SnapshotInfo } from '../../src/cloud/provider.js';
import { GceFake, type GceFakeOptions } from '../fakes/gce-fake.js';

const ZONE = 'us-central1-a';
const PROJECT = 'test-project';
const UUID = '0e3c7d4a-2b1f-4c55-9a0e-5f1f6c2d9b71';

let shared: { gce: GceFake; provider: GceProvider } | undefined;

/**
 * A fake and a provider for one test. Tests with the default provider options share one of each (reset
 * between tests), since every Compute client parses a large protobuf description when it is built.
 */
async function setup(
  t: Test,
  fakeOptions: GceFakeOptions = {},
  providerOptions?: Partial<GceProviderOptions>,
): Promise<{ gce: GceFake; provider: GceProvider }> {
  const make = async () => {
    const gce = new GceFake();
    const { port } = await gce.start();
    const provider = new GceProvider({
      project: PROJECT,
      apiEndpoint: '127.0.0.1',
      port,
      protocol: 'http',
      accessToken: 'test-token',
      clusterId: 'c1',
      retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20, throttlePauseMs: 5 },
      pollIntervalMs: 10,
      requestTimeoutMs: 5_000,
      ...providerOptions,
    });
    return { gce, provider };
  };
  let env: { gce: GceFake; provider: GceProvider };
  if (providerOptions) {
    env = await make();
    t.teardown(async () => {
      await env.provider.close();
      await env.gce.stop();
    });
  } else {
    if (!shared) {
      shared = await make();
      const { gce, provider } = shared;
      tap.teardown(async () => {
        await provider.close();
        await gce.stop();
      });
    }
    env = shared;
    env.gce.reset();
    env.provider.pacer.throttledCount = 0;
  }
  env.gce.snapshotCompletionMs = fakeOptions.snapshotCompletionMs ?? 0;
  env.gce.diskCreationMs = fakeOptions.diskCreationMs ?? 0;
  env.gce.callsPerSecond = fakeOptions.callsPerSecond;
  env.gce.addDisk({ zone: ZONE, name: 'disk-1', sizeGb: 10 });
  return env;
}

const source = { type: 'gce-pd' as const, disk: 'disk-1', zone: ZONE };
const tags = (uid: string) => ({ namespace: 'ns1', name: 'Snap.One', uid });

async function waitReady(p: GceProvider, id: string): Promise<SnapshotInfo> {
  for (let i = 0; i < 200; i++) {
    const info = await p.getSnapshot(id);
    if (info.state !== 'pending') return info;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('snapshot never left pending');
}

t.test('names and labels are valid for Compute', async (t) => {
  t.equal(snapshotNameForUid(UUID), `snapshot-${UUID}`);
  t.ok(snapshotNameForUid(UUID).length <= 63);
  t.match(snapshotNameForUid('X'.repeat(100)), /^snapshot-[0-9a-f]{40}$/);
  t.not(snapshotNameForUid('Uid-A'), snapshotNameForUid('Uid-B'));
  t.ok(snapshotNameForUid('x'.repeat(100)).length <= 63);
  t.match(snapshotNameForUid('__--'), /^snapshot-[0-9a-f]{40}$/);
  t.equal(diskNameFor(`pvc-${UUID}`), `pvc-${UUID}`);
  t.match(diskNameFor('Not_Valid.Name'), /^pv-[0-9a-f]{40}$/);
  t.equal(labelValue('My.Name/x'), 'my-name-x');
  t.equal(labelValue('a'.repeat(80)).length, 63);
});

t.test('snapshot lifecycle: create with labels, pending → ready, idempotent by uid, delete', async (t) => {
  const { gce, provider } = await setup(t, { snapshotCompletionMs: 150 });
  const created = await provider.createSnapshot({ volume: source, tags: tags(UUID) });
  t.match(created, { id: `snapshot-${UUID}`, state: 'pending', sizeBytes: 10 * GiB });
  const [s] = gce.listSnapshots();
  t.equal(gce.listSnapshots().length, 1);
  t.same(
    { ns: s!.labels[LABEL_NAMESPACE], name: s!.labels[LABEL_NAME], uid: s!.labels[LABEL_UID], cluster: s!.labels['kubernetes-io-cluster-c1'] },
    { ns: 'ns1', name: 'snap-one', uid: UUID, cluster: 'owned' },
  );
  t.match(s!.description, /ns1\/Snap\.One/);
  t.match(s!.sourceDisk, /projects\/test-project\/zones\/us-central1-a\/disks\/disk-1$/);

  const again = await provider.createSnapshot({ volume: source, tags: tags(UUID) });
  t.equal(again.id, created.id);
  t.equal(gce.listSnapshots().length, 1);
  t.equal(gce.callCount('disks.createSnapshot'), 1, 'the second create only looked');
  t.equal((await provider.findSnapshotByUid(UUID))?.id, created.id);
  t.equal(await provider.findSnapshotByUid('another-uid'), undefined);

  t.match(await waitReady(provider, created.id), { state: 'ready', sizeBytes: 10 * GiB });
  await provider.deleteSnapshot(created.id);
  await provider.deleteSnapshot(created.id);
  t.equal(gce.listSnapshots().length, 0);
  const err = await provider.getSnapshot(created.id).catch((e: unknown) => e);
  t.ok(err instanceof CloudError && err.notFound);
});

t.test('a CSI source in another project: the snapshot lives there and its id says so', async (t) => {
  const { gce, provider } = await setup(t);
  gce.addDisk({ project: 'other-project', zone: 'europe-west1-b', name: 'pd-x', sizeGb: 4 });
  const s = await provider.createSnapshot({ volume: { type: 'gce-pd', project: 'other-project', zone: 'europe-west1-b', disk: 'pd-x' }, tags: tags('u-other') });
  t.equal(s.id, 'projects/other-project/global/snapshots/snapshot-u-other');
  t.match(await provider.getSnapshot(s.id), { state: 'ready', sizeBytes: 4 * GiB });
  t.equal(gce.listSnapshots()[0]!.project, 'other-project');
});

t.test('every Compute status maps, unknown ones without crashing', async (t) => {
  const { gce, provider } = await setup(t);
  const s = await provider.createSnapshot({ volume: source, tags: tags('u-status') });
  for (const [status, expected] of [
    ['READY', { state: 'ready' }],
    ['CREATING', { state: 'pending' }],
    ['UPLOADING', { state: 'pending' }],
    ['FAILED', { state: 'error', message: /FAILED/ }],
    ['DELETING', { state: 'error', message: /being deleted/ }],
    ['FROBNICATING', { state: 'pending', message: /unknown GCE snapshot status "FROBNICATING"/ }],
  ] as const) {
    gce.setSnapshotStatus(s.id, status);
    t.match(await provider.getSnapshot(s.id), expected, status);
  }
});

t.test('restore: size raised to the snapshot, type, labels, waits for READY, idempotent by PV name, delete', async (t) => {
  const { gce, provider } = await setup(t, { diskCreationMs: 80 });
  const snap = await provider.createSnapshot({ volume: source, tags: tags('u-restore') });
  const name = `pvc-${UUID}`;
  const vol = await provider.createVolume({ snapshotId: snap.id, name, sizeBytes: 3 * GiB, zone: ZONE, parameters: { type: 'pd-ssd', fsType: 'ext4' } });
  t.match(vol, { kind: 'gcePersistentDisk', volumeId: name, zone: ZONE, sizeBytes: 10 * GiB, state: 'available', fsType: 'ext4' });
  t.ok(gce.callCount('disks.get') >= 2, 'polled until READY');
  const [d] = gce.createdDisks();
  t.match(d, { name, zone: ZONE, sizeGb: 10, type: 'pd-ssd' });
  t.match(d!.sourceSnapshot, /global\/snapshots\/snapshot-u-restore$/);
  t.equal(d!.labels['kubernetes-io-created-for-pv-name'], name);

  const again = await provider.createVolume({ snapshotId: snap.id, name, sizeBytes: 3 * GiB, zone: ZONE, parameters: { type: 'pd-ssd' } });
  t.equal(again.volumeId, vol.volumeId);
  t.equal(gce.createdDisks().length, 1);
  t.equal(gce.callCount('disks.insert'), 1);

  const big = await provider.createVolume({ snapshotId: snap.id, name: 'pvc-big', sizeBytes: 20 * GiB + 5, parameters: { zone: 'us-central1-b' } });
  t.match(big, { sizeBytes: 21 * GiB, zone: 'us-central1-b' });
  t.equal(gce.createdDisks().find((x) => x.name === 'pvc-big')?.type, 'pd-standard');

  const csi = await provider.createVolume({ snapshotId: snap.id, name: 'pvc-csi', sizeBytes: GiB, zone: ZONE, parameters: { type: 'pd-balanced' }, sourceKind: 'csi' });
  t.match(csi, { kind: 'csi', driver: 'pd.csi.storage.gke.io', volumeId: `projects/${PROJECT}/zones/${ZONE}/disks/pvc-csi` });
  t.match(await provider.getVolume({ volumeId: csi.volumeId }), { kind: 'csi', state: 'available' });
  t.match(await provider.getVolume({ volumeId: name, zone: ZONE }), { kind: 'gcePersistentDisk', sizeBytes: 10 * GiB });

  await provider.deleteVolume({ volumeId: name, zone: ZONE });
  await provider.deleteVolume({ volumeId: name, zone: ZONE });
  await provider.deleteVolume({ volumeId: csi.volumeId });
  t.same(gce.createdDisks().map((x) => x.name), ['pvc-big']);
  const err = await provider.getVolume({ volumeId: name, zone: ZONE }).catch((e: unknown) => e);
  t.ok(err instanceof CloudError && err.notFound);
  await t.rejects(provider.getVolume({ volumeId: name }), { code: 'MissingZone' });
});

t.test('restore parameter rules: bad ones fail before any call', async (t) => {
  const { gce, provider } = await setup(t);
  const snap = await provider.createSnapshot({ volume: source, tags: tags('u-params') });
  for (const [parameters, pattern] of [
    [{ bogus: '1' }, /unknown StorageClass parameter "bogus" for GCE PD/],
    [{ type: 'pd-fast' }, /unsupported GCE PD type "pd-fast"/],
    [{ 'replication-type': 'regional-pd' }, /only "none"/],
  ] as Array<[Record<string, string>, RegExp]>) {
    const err = await provider.createVolume({ snapshotId: snap.id, name: 'bad', sizeBytes: GiB, zone: ZONE, parameters }).catch((e: unknown) => e);
    t.ok(err instanceof CloudError && err.code === 'InvalidParameter' && !err.retryable, JSON.stringify(parameters));
    t.match((err as Error).message, pattern);
  }
  t.equal(gce.callCount('disks.insert'), 0);
  const ok = await provider.createVolume({ snapshotId: snap.id, name: 'ok', sizeBytes: GiB, zone: ZONE, parameters: { 'replication-type': 'none', TYPE: 'PD-SSD' } });
  t.equal(ok.state, 'available');
  t.equal(gce.createdDisks()[0]!.type, 'pd-ssd');
});

t.test('restore refuses a snapshot that is not READY and a disk without zone', async (t) => {
  const { provider } = await setup(t, { snapshotCompletionMs: 60_000 });
  const snap = await provider.createSnapshot({ volume: source, tags: tags('u-nr') });
  await t.rejects(provider.createVolume({ snapshotId: snap.id, name: 'x', sizeBytes: GiB, zone: ZONE, parameters: {} }), { code: 'SnapshotNotReady' });
  await t.rejects(provider.createVolume({ snapshotId: 'no-such-snapshot', name: 'x', sizeBytes: GiB, zone: ZONE, parameters: {} }), { notFound: true, name: 'CloudError' });
  await t.rejects(provider.createVolume({ snapshotId: 'Not Valid', name: 'x', sizeBytes: GiB, parameters: {} }), { code: 'InvalidSnapshotId' });
  await t.rejects(provider.createSnapshot({ volume: { type: 'aws-ebs', volumeId: 'vol-1' }, tags: tags('u') }), { code: 'UnsupportedVolumeSource' });
});

t.test('a restore without zone is refused; an existing disk from another snapshot is a conflict', async (t) => {
  const { gce, provider } = await setup(t);
  const snap = await provider.createSnapshot({ volume: source, tags: tags('u-nz') });
  await t.rejects(provider.createVolume({ snapshotId: snap.id, name: 'x', sizeBytes: GiB, parameters: {} }), { code: 'MissingZone' });
  gce.addDisk({ zone: ZONE, name: 'pvc-taken', sizeGb: 10 });
  await t.rejects(provider.createVolume({ snapshotId: snap.id, name: 'pvc-taken', sizeBytes: GiB, zone: ZONE, parameters: {} }), {
    code: 'DiskNameConflict',
  });
});

t.test('throttling (429 and 403 rateLimitExceeded) is retried and counted; persistent throttling is surfaced', async (t) => {
  const { gce, provider } = await setup(t);
  gce.injectFault('disks.createSnapshot', { kind: 'throttle', status: 429 });
  gce.injectFault('disks.createSnapshot', { kind: 'throttle', status: 403 });
  const s = await provider.createSnapshot({ volume: source, tags: tags('u-thr') });
  t.equal(gce.listSnapshots().length, 1);
  t.equal(provider.pacer.throttledCount, 2);
  gce.injectFault('snapshots.get', { kind: 'throttle' }, 10);
  const before = gce.callCount('snapshots.get');
  const err = await provider.getSnapshot(s.id).catch((e: unknown) => e);
  t.ok(err instanceof CloudError);
  t.match(err, { throttled: true, retryable: true });
  t.equal(gce.callCount('snapshots.get') - before, 4, 'bounded');
});

t.test('5xx is retried; permission and quota errors are terminal', async (t) => {
  const { gce, provider } = await setup(t);
  gce.injectFault('snapshots.get', { kind: 'server-error' }, 2);
  gce.injectFault('disks.createSnapshot', { kind: 'server-error', status: 500 }, 1);
  await provider.createSnapshot({ volume: source, tags: tags('u-5xx') });
  t.equal(gce.listSnapshots().length, 1);
  gce.injectFault('disks.createSnapshot', { kind: 'error', status: 403, reason: 'forbidden', message: "Required 'compute.disks.createSnapshot' permission" });
  await t.rejects(provider.createSnapshot({ volume: source, tags: tags('u-403') }), { retryable: false, throttled: false, name: 'CloudError' });
  gce.injectFault('disks.createSnapshot', { kind: 'operation-error', code: 'QUOTA_EXCEEDED', message: "Quota 'SNAPSHOTS' exceeded" });
  await t.rejects(provider.createSnapshot({ volume: source, tags: tags('u-quota') }), { code: 'QUOTA_EXCEEDED', retryable: false });
  await t.rejects(provider.createSnapshot({ volume: { ...source, disk: 'missing' }, tags: tags('u-missing') }), { notFound: true, name: 'CloudError' });
  t.equal(gce.listSnapshots().length, 1);
});

t.test('a failed disk insert operation is reported with its error', async (t) => {
  const { gce, provider } = await setup(t);
  const snap = await provider.createSnapshot({ volume: source, tags: tags('u-opfail') });
  gce.injectFault('disks.insert', { kind: 'operation-error', code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: 'no capacity' });
  await t.rejects(provider.createVolume({ snapshotId: snap.id, name: 'pvc-x', sizeBytes: GiB, zone: ZONE, parameters: {} }), {
    code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
    message: /no capacity/,
  });
  t.equal(gce.createdDisks().length, 0);
});

t.test('lost responses never create a second snapshot or disk', async (t) => {
  const { gce, provider } = await setup(t, { diskCreationMs: 30 }, { requestTimeoutMs: 600 });
  gce.injectFault('disks.createSnapshot', { kind: 'lost-response' });
  const s = await provider.createSnapshot({ volume: source, tags: tags('u-lost') });
  gce.injectFault('disks.createSnapshot', { kind: 'lost-response', mode: '503' });
  await provider.createSnapshot({ volume: source, tags: tags('u-lost-503') });
  gce.injectFault('disks.createSnapshot', { kind: 'slow', delayMs: 1500 });
  await provider.createSnapshot({ volume: source, tags: tags('u-lost-slow') });
  t.equal(gce.callCount('disks.createSnapshot'), 3, 'no second create: the retry found each');
  t.equal(gce.listSnapshots().length, 3, 'one snapshot per uid');

  gce.injectFault('disks.insert', { kind: 'lost-response' });
  const v1 = await provider.createVolume({ snapshotId: s.id, name: 'pvc-lost', sizeBytes: GiB, zone: ZONE, parameters: {} });
  gce.injectFault('disks.insert', { kind: 'slow', delayMs: 1500 });
  const v2 = await provider.createVolume({ snapshotId: s.id, name: 'pvc-lost-slow', sizeBytes: GiB, zone: ZONE, parameters: {} });
  t.same(gce.createdDisks().map((d) => d.name).sort(), [v1.volumeId, v2.volumeId].sort(), 'one disk per PV name');
  t.equal(gce.callCount('disks.insert'), 2);

  gce.injectFault('snapshots.delete', { kind: 'lost-response' });
  await provider.deleteSnapshot(s.id);
  t.notOk(gce.listSnapshots().some((x) => x.name === s.id), 'deleted; the retry saw it gone');
});

t.test('an insert that races another creator (alreadyExists) is success', async (t) => {
  const { gce, provider } = await setup(t);
  const snap = await provider.createSnapshot({ volume: source, tags: tags('u-race') });
  // The first disks.get says nothing is there, yet the disk exists by the time insert runs.
  gce.injectFault('disks.get', { kind: 'error', status: 404, reason: 'notFound', message: "The resource 'x' was not found" });
  await provider.createVolume({ snapshotId: snap.id, name: 'pvc-race', sizeBytes: GiB, zone: ZONE, parameters: {} });
  gce.injectFault('disks.get', { kind: 'error', status: 404, reason: 'notFound', message: "The resource 'x' was not found" });
  const v = await provider.createVolume({ snapshotId: snap.id, name: 'pvc-race', sizeBytes: GiB, zone: ZONE, parameters: {} });
  t.equal(v.volumeId, 'pvc-race');
  t.equal(gce.callCount('disks.insert'), 2, 'the second insert got alreadyExists');
  t.equal(gce.createdDisks().length, 1);
});

t.test('a wrong token is a terminal error', async (t) => {
  const { provider } = await setup(t, {}, { accessToken: 'wrong' });
  await t.rejects(provider.getSnapshot('snapshot-x'), { retryable: false, code: 'UNAUTHENTICATED' });
});

t.test('client-side qps keeps under the cloud limit', async (t) => {
  const { gce, provider } = await setup(t, { callsPerSecond: 8 }, { qps: 3, burst: 1, retry: { attempts: 1 } });
  const s = await provider.createSnapshot({ volume: source, tags: tags('u-qps') });
  await Promise.all(Array.from({ length: 5 }, () => provider.getSnapshot(s.id)));
  t.equal(provider.pacer.throttledCount, 0);
  t.equal(gce.calls.length, 3 + 5);
});

t.test('a call that hangs past the request timeout is abandoned and retried', async (t) => {
  const { gce, provider } = await setup(t, {}, { requestTimeoutMs: 400 });
  const s = await provider.createSnapshot({ volume: source, tags: tags('u-hang') });
  gce.injectFault('snapshots.get', { kind: 'slow', delayMs: 1500 });
  const before = gce.callCount('snapshots.get');
  t.equal((await provider.getSnapshot(s.id)).id, s.id);
  t.ok(gce.callCount('snapshots.get') - before >= 2, 'retried after the timeout');
});

t.test('a snapshot not yet visible after its create reads as pending while the operation runs', async (t) => {
  const { gce, provider } = await setup(t, { snapshotCompletionMs: 60_000 });
  const s = await provider.createSnapshot({ volume: source, tags: tags('u-invisible') });
  const notFound = { kind: 'error', status: 404, reason: 'notFound', message: "The resource 'x' was not found" } as const;
  gce.injectFault('snapshots.get', notFound);
  t.match(await provider.getSnapshot(s.id), { id: s.id, state: 'pending' });
  t.equal(gce.callCount('zoneOperations.get'), 1, 'asked the create operation');
  // Once the snapshot shows up, the operation is no longer consulted.
  t.match(await provider.getSnapshot(s.id), { state: 'pending' });
  gce.injectFault('snapshots.get', notFound);
  await t.rejects(provider.getSnapshot(s.id), { notFound: true, name: 'CloudError' });
  t.equal(gce.callCount('zoneOperations.get'), 1);
});
