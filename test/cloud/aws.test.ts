import t, { type Test } from 'tap';
import { AwsProvider, TAG_NAME, TAG_NAMESPACE, TAG_UID, clientTokenFor, regionOfZone, type AwsProviderOptions } from '../../src/cloud/aws.js';
import { CloudError } from '../../src/cloud/cloud-error.js';
import { GiB, type SnapshotInfo } from '../../src/cloud/provider.js';
import { Ec2Fake, type Ec2FakeOptions } from '../fakes/ec2-fake.js';

const ZONE = 'us-east-1a';

async function setup(
  t: Test,
  fakeOptions: Ec2FakeOptions = {},
  providerOptions: Partial<AwsProviderOptions> = {},
): Promise<{ ec2: Ec2Fake; aws: AwsProvider; volumeId: string }> {
  const ec2 = new Ec2Fake(fakeOptions);
  const { url } = await ec2.start();
  const aws = new AwsProvider({
    region: 'us-east-1',
    endpoint: url,
    clusterId: 'c1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20, throttlePauseMs: 5 },
    pollIntervalMs: 10,
    requestTimeoutMs: 5_000,
    ...providerOptions,
  });
  t.teardown(async () => {
    await aws.close();
    await ec2.stop();
  });
  const volumeId = ec2.addVolume({ zone: ZONE, sizeGiB: 8 }).volumeId;
  return { ec2, aws, volumeId };
}

const tags = (uid: string) => ({ namespace: 'ns1', name: 'snap1', uid });

async function waitReady(aws: AwsProvider, id: string): Promise<SnapshotInfo> {
  for (let i = 0; i < 200; i++) {
    const info = await aws.getSnapshot(id);
    if (info.state !== 'pending') return info;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('snapshot never left pending');
}

t.test('regionOfZone and clientTokenFor', async (t) => {
  t.equal(regionOfZone('us-east-1a'), 'us-east-1');
  t.equal(regionOfZone('us-west-2-lax-1a'), 'us-west-2');
  t.equal(regionOfZone('us-gov-west-1b'), 'us-gov-west-1');
  t.equal(regionOfZone('nowhere'), undefined);
  t.equal(clientTokenFor('pvc-1').length, 64);
  t.equal(clientTokenFor('pvc-1'), clientTokenFor('pvc-1'));
  t.not(clientTokenFor('pvc-1'), clientTokenFor('pvc-2'));
});

t.test('snapshot lifecycle: create with tags, progress, ready, idempotent by uid, delete', async (t) => {
  const { ec2, aws, volumeId } = await setup(t, { snapshotCompletionMs: 150 });
  const created = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId: `aws://${ZONE}/${volumeId}` }, tags: tags('uid-1') });
  t.match(created, { state: 'pending', sizeBytes: 8 * GiB });
  t.match(created.id, /^snap-/);
  t.ok(created.createdAt instanceof Date);
  const inventory = ec2.listSnapshots();
  t.equal(inventory.length, 1);
  t.same(
    { ns: inventory[0]!.tags[TAG_NAMESPACE], name: inventory[0]!.tags[TAG_NAME], uid: inventory[0]!.tags[TAG_UID] },
    { ns: 'ns1', name: 'snap1', uid: 'uid-1' },
  );
  t.equal(inventory[0]!.tags['kubernetes.io/cluster/c1'], 'owned');
  t.equal(inventory[0]!.tags['Name'], 'ns1/snap1');
  t.equal(inventory[0]!.volumeId, volumeId);
  // Tags went in the CreateSnapshot call itself (atomically), not a later CreateTags.
  t.equal(ec2.callCount('CreateTags'), 0);

  const again = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-1') });
  t.equal(again.id, created.id, 'same uid → same snapshot');
  t.equal(ec2.listSnapshots().length, 1);

  const found = await aws.findSnapshotByUid('uid-1');
  t.equal(found?.id, created.id);
  t.equal(await aws.findSnapshotByUid('uid-unknown'), undefined);

  const ready = await waitReady(aws, created.id);
  t.match(ready, { id: created.id, state: 'ready', progress: 100, sizeBytes: 8 * GiB });

  await aws.deleteSnapshot(created.id);
  await aws.deleteSnapshot(created.id); // already gone = success
  t.equal(ec2.listSnapshots().length, 0);
  const err = await aws.getSnapshot(created.id).catch((e: unknown) => e);
  t.ok(err instanceof CloudError && err.notFound, 'gone snapshot → notFound');
});

t.test('pending progress and error state are reported', async (t) => {
  const { ec2, aws, volumeId } = await setup(t, { snapshotCompletionMs: 60_000 });
  const s = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-p') });
  const info = await aws.getSnapshot(s.id);
  t.equal(info.state, 'pending');
  t.type(info.progress, 'number');
  ec2.setSnapshotState(s.id, 'error', 'disk read failure');
  t.match(await aws.getSnapshot(s.id), { state: 'error', message: 'disk read failure' });
});

t.test('findSnapshotByUid pages and prefers a completed snapshot, then the oldest', async (t) => {
  const { ec2, aws, volumeId } = await setup(t, { pageSize: 2 });
  const uidTags = { [TAG_UID]: 'dup' };
  ec2.addSnapshot({ volumeId, tags: uidTags, state: 'error', startTime: 1000 });
  ec2.addSnapshot({ volumeId, tags: uidTags, state: 'pending', startTime: 2000 });
  for (let i = 0; i < 3; i++) ec2.addSnapshot({ volumeId, tags: { [TAG_UID]: `other-${i}` } });
  const newer = ec2.addSnapshot({ volumeId, tags: uidTags, state: 'completed', startTime: 5000 });
  const older = ec2.addSnapshot({ volumeId, tags: uidTags, state: 'completed', startTime: 3000 });
  const found = await aws.findSnapshotByUid('dup');
  t.equal(found?.id, older.snapshotId);
  t.not(found?.id, newer.snapshotId);
  t.ok(ec2.callCount('DescribeSnapshots') >= 2, 'followed NextToken');
});

t.test('restore: size rounded up and raised to the snapshot size, idempotent by PV name, delete', async (t) => {
  const { ec2, aws, volumeId } = await setup(t, { volumeCreationMs: 50 });
  const snap = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-r') });
  const vol = await aws.createVolume({
    snapshotId: snap.id,
    name: 'pvc-abc',
    sizeBytes: 3 * GiB,
    zone: ZONE,
    parameters: { type: 'gp3', iops: '4000', throughput: '250', encrypted: 'true', fsType: 'xfs' },
  });
  t.match(vol, { kind: 'awsElasticBlockStore', zone: ZONE, sizeBytes: 8 * GiB, state: 'available', fsType: 'xfs' });
  t.ok(ec2.callCount('DescribeVolumes') >= 2, 'waited for available');
  const created = ec2.createdVolumes();
  t.equal(created.length, 1);
  t.match(created[0], {
    volumeId: vol.volumeId,
    size: 8,
    volumeType: 'gp3',
    iops: 4000,
    throughput: 250,
    encrypted: true,
    snapshotId: snap.id,
    clientToken: clientTokenFor('pvc-abc'),
  });
  t.equal(created[0]!.tags['kubernetes.io/created-for/pv/name'], 'pvc-abc');
  t.equal(created[0]!.tags['kubernetes.io/cluster/c1'], 'owned');

  const bigger = await aws.createVolume({ snapshotId: snap.id, name: 'pvc-big', sizeBytes: 10 * GiB + 1, zone: ZONE, parameters: {} });
  t.equal(bigger.sizeBytes, 11 * GiB, 'rounded up to whole GiB');
  t.equal(ec2.listVolumes().find((v) => v.volumeId === bigger.volumeId)?.volumeType, 'gp2', 'gp2 by default');

  const again = await aws.createVolume({ snapshotId: snap.id, name: 'pvc-abc', sizeBytes: 3 * GiB, zone: ZONE, parameters: { type: 'gp3', iops: '4000', throughput: '250', encrypted: 'true' } });
  t.equal(again.volumeId, vol.volumeId, 'same PV name → same volume');
  t.equal(ec2.createdVolumes().length, 2);

  const csi = await aws.createVolume({ snapshotId: snap.id, name: 'pvc-csi', sizeBytes: GiB, parameters: { zone: 'us-east-1b' }, sourceKind: 'csi' });
  t.match(csi, { kind: 'csi', driver: 'ebs.csi.aws.com', zone: 'us-east-1b' });

  t.match(await aws.getVolume({ volumeId: `aws://${ZONE}/${vol.volumeId}` }), { volumeId: vol.volumeId, state: 'available', sizeBytes: 8 * GiB });
  await aws.deleteVolume({ volumeId: vol.volumeId });
  await aws.deleteVolume({ volumeId: vol.volumeId });
  const err = await aws.getVolume({ volumeId: vol.volumeId }).catch((e: unknown) => e);
  t.ok(err instanceof CloudError && err.notFound);
});

t.test('restore parameter rules reach EC2 as the right fields; bad ones fail before any call', async (t) => {
  const { ec2, aws, volumeId } = await setup(t);
  const snap = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-params') });
  const make = (name: string, sizeGiB: number, parameters: Record<string, string>) =>
    aws.createVolume({ snapshotId: snap.id, name, sizeBytes: sizeGiB * GiB, zone: ZONE, parameters });
  const fakeVolume = (id: string) => ec2.listVolumes().find((v) => v.volumeId === id)!;

  t.match(fakeVolume((await make('io1', 20, { type: 'io1', iopsPerGB: '10' })).volumeId), { volumeType: 'io1', iops: 200 });
  t.match(fakeVolume((await make('io1-clamp-low', 8, { type: 'io1', iopsPerGB: '2' })).volumeId), { iops: 100 });
  t.match(fakeVolume((await make('io2', 100, { type: 'io2', iopsPerGB: '50' })).volumeId), { volumeType: 'io2', iops: 5000 });
  t.match(fakeVolume((await make('kms', 8, { kmsKeyId: 'arn:aws:kms:us-east-1:1:key/k' })).volumeId), {
    encrypted: true,
    kmsKeyId: 'arn:aws:kms:us-east-1:1:key/k',
  });
  t.match(fakeVolume((await make('zone', 8, { zone: 'us-east-1c', type: 'ST1' })).volumeId), { zone: 'us-east-1c', volumeType: 'st1' });

  const before = ec2.callCount('CreateVolume');
  for (const [parameters, pattern] of [
    [{ bogus: 'x' }, /unknown StorageClass parameter "bogus"/],
    [{ type: 'gp9' }, /unsupported EBS volume type "gp9"/],
    [{ type: 'io1' }, /needs "iops" or "iopsPerGB"/],
    [{ type: 'gp2', iops: '3000' }, /not supported for volume type "gp2"/],
    [{ type: 'gp2', throughput: '200' }, /only supported for volume type "gp3"/],
    [{ encrypted: 'yes' }, /not a boolean/],
    [{ encrypted: 'false', kmsKeyId: 'k' }, /needs encryption/],
  ] as Array<[Record<string, string>, RegExp]>) {
    const err = await make('bad', 8, parameters).catch((e: unknown) => e);
    t.ok(err instanceof CloudError && !err.retryable && err.code === 'InvalidParameter', JSON.stringify(parameters));
    t.match((err as Error).message, pattern);
  }
  t.equal(ec2.callCount('CreateVolume'), before, 'no CreateVolume for a bad class');
});

t.test('restore refuses a snapshot that is not completed and a volume without zone', async (t) => {
  const { aws, volumeId } = await setup(t, { snapshotCompletionMs: 60_000 });
  const snap = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-nr') });
  await t.rejects(aws.createVolume({ snapshotId: snap.id, name: 'x', sizeBytes: GiB, zone: ZONE, parameters: {} }), { code: 'SnapshotNotReady', retryable: false });
  await t.rejects(aws.createVolume({ snapshotId: 'not-a-snapshot', name: 'x', sizeBytes: GiB, zone: ZONE, parameters: {} }), { code: 'InvalidSnapshotId' });
  await t.rejects(aws.createSnapshot({ volume: { type: 'hostpath', path: '/x' }, tags: tags('u') }), { code: 'UnsupportedVolumeSource' });
});

t.test('a restore without zone is refused', async (t) => {
  const { aws, volumeId } = await setup(t);
  const snap = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-nz') });
  await t.rejects(aws.createVolume({ snapshotId: snap.id, name: 'x', sizeBytes: GiB, parameters: {} }), { code: 'MissingZone' });
});

t.test('a volume slow to become available is a retryable error; the retry gets the same volume', async (t) => {
  const { ec2, aws, volumeId } = await setup(t, { volumeCreationMs: 60_000 }, { volumeTimeoutMs: 50 });
  const snap = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-slowvol') });
  await t.rejects(aws.createVolume({ snapshotId: snap.id, name: 'pvc-slow', sizeBytes: GiB, zone: ZONE, parameters: {} }), {
    code: 'VolumeNotReady',
    retryable: true,
  });
  const [v] = ec2.createdVolumes();
  ec2.setVolumeState(v!.volumeId, 'available');
  const info = await aws.createVolume({ snapshotId: snap.id, name: 'pvc-slow', sizeBytes: GiB, zone: ZONE, parameters: {} });
  t.equal(info.volumeId, v!.volumeId);
  t.equal(ec2.createdVolumes().length, 1);
  ec2.setVolumeState(v!.volumeId, 'error');
  await t.rejects(aws.createVolume({ snapshotId: snap.id, name: 'pvc-slow', sizeBytes: GiB, zone: ZONE, parameters: {} }), {
    code: 'VolumeCreationFailed',
    retryable: false,
  });
});

t.test('throttling is retried, counted, and surfaced when it persists', async (t) => {
  const { ec2, aws, volumeId } = await setup(t);
  ec2.injectFault('CreateSnapshot', { kind: 'throttle' }, 1);
  ec2.injectFault('CreateSnapshot', { kind: 'throttle', code: 'SnapshotCreationPerVolumeRateExceeded' }, 1);
  const s = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-thr') });
  t.match(s.id, /^snap-/);
  t.equal(ec2.listSnapshots().length, 1);
  t.equal(aws.pacer.throttledCount, 2);

  ec2.injectFault('DescribeSnapshots', { kind: 'throttle' }, 10);
  const before = ec2.callCount('DescribeSnapshots');
  const err = await aws.getSnapshot(s.id).catch((e: unknown) => e);
  t.ok(err instanceof CloudError, 'a CloudError');
  t.match(err, { code: 'RequestLimitExceeded', throttled: true, retryable: true });
  t.equal(ec2.callCount('DescribeSnapshots') - before, 4, 'bounded: 4 attempts');
});

t.test('5xx answers are retried; 4xx answers are terminal', async (t) => {
  const { ec2, aws, volumeId } = await setup(t);
  ec2.injectFault('DescribeSnapshots', { kind: 'server-error', status: 503, code: 'Unavailable' }, 2);
  const s = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-5xx') });
  t.equal(ec2.listSnapshots().length, 1);
  ec2.injectFault('DeleteSnapshot', { kind: 'error', status: 400, code: 'InvalidSnapshot.InUse', message: 'in use by ami-1' });
  await t.rejects(aws.deleteSnapshot(s.id), { code: 'InvalidSnapshot.InUse', retryable: false });
  await t.rejects(
    aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId: 'vol-0000000000000000', zone: ZONE }, tags: tags('uid-novol') }),
    { code: 'InvalidVolume.NotFound', notFound: true },
  );
});

t.test('lost responses never create a second snapshot or volume', async (t) => {
  const { ec2, aws, volumeId } = await setup(t, {}, { requestTimeoutMs: 600 });
  ec2.injectFault('CreateSnapshot', { kind: 'lost-response' });
  const s1 = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-lost') });
  t.equal(ec2.callCount('CreateSnapshot'), 1, 'the retry found the first snapshot');
  t.equal(ec2.listSnapshots().length, 1);
  t.equal(ec2.listSnapshots()[0]!.snapshotId, s1.id);

  ec2.injectFault('CreateSnapshot', { kind: 'lost-response', mode: '500' });
  await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-lost-500') });
  ec2.injectFault('CreateSnapshot', { kind: 'slow', delayMs: 1500 });
  await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-lost-slow') });
  t.equal(ec2.listSnapshots().length, 3, 'one per uid');

  ec2.injectFault('CreateVolume', { kind: 'lost-response' });
  const v1 = await aws.createVolume({ snapshotId: s1.id, name: 'pvc-lost', sizeBytes: GiB, zone: ZONE, parameters: {} });
  ec2.injectFault('CreateVolume', { kind: 'slow', delayMs: 1500 });
  const v2 = await aws.createVolume({ snapshotId: s1.id, name: 'pvc-lost-slow', sizeBytes: GiB, zone: ZONE, parameters: {} });
  t.ok(ec2.callCount('CreateVolume') >= 4, 'each was retried');
  t.same(ec2.createdVolumes().map((v) => v.volumeId).sort(), [v1.volumeId, v2.volumeId].sort(), 'exactly one volume per PV name');
});

t.test('a lost CreateSnapshot answer under eventual consistency still makes exactly one snapshot', async (t) => {
  const { ec2, aws, volumeId } = await setup(t, { consistencyLagMs: 400 }, { consistencyWaitMs: 3_000 });
  ec2.injectFault('CreateSnapshot', { kind: 'lost-response' });
  const s = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-lag') });
  t.equal(ec2.callCount('CreateSnapshot'), 1, 'kept looking instead of creating again');
  t.same(ec2.listSnapshots().map((x) => x.snapshotId), [s.id]);
  // A throttled CreateSnapshot made nothing, so its retry creates without waiting.
  ec2.injectFault('CreateSnapshot', { kind: 'throttle' });
  await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-lag-2') });
  t.equal(ec2.callCount('CreateSnapshot'), 3);
  t.equal(ec2.listSnapshots().length, 2);
});

t.test('slowness within the timeout is just slow', async (t) => {
  const { ec2, aws, volumeId } = await setup(t);
  ec2.injectFault('CreateSnapshot', { kind: 'slow', delayMs: 100 });
  await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-slow') });
  t.equal(ec2.callCount('CreateSnapshot'), 1);
  t.equal(ec2.listSnapshots().length, 1);
});

t.test('client-side qps keeps under the cloud limit', async (t) => {
  const { ec2, aws, volumeId } = await setup(t, { callsPerSecond: 8 }, { qps: 3, burst: 1, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  const s = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-qps') });
  await Promise.all(Array.from({ length: 5 }, () => aws.getSnapshot(s.id)));
  t.equal(aws.pacer.throttledCount, 0, 'never throttled');
  t.equal(ec2.calls.length, 7);
});

t.test('without client-side limit the fake throttles and the error says so', async (t) => {
  const { aws, volumeId } = await setup(t, { callsPerSecond: 3 }, { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  const s = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-noqps') });
  const results = await Promise.allSettled(Array.from({ length: 6 }, () => aws.getSnapshot(s.id)));
  const rejected = results.filter((r) => r.status === 'rejected');
  t.ok(rejected.length > 0);
  for (const r of rejected) t.match((r as PromiseRejectedResult).reason, { throttled: true, code: 'RequestLimitExceeded' });
});

t.test('region: from the volume zone when not configured; unknown otherwise', async (t) => {
  const fresh = new Ec2Fake();
  const started = await fresh.start();
  t.teardown(() => fresh.stop());
  const vol = fresh.addVolume({ zone: 'eu-west-1b', sizeGiB: 2 }).volumeId;
  const noRegion = new AwsProvider({ endpoint: started.url, env: {}, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, retry: { attempts: 1 } });
  t.teardown(() => noRegion.close());
  await t.rejects(noRegion.getSnapshot('snap-0123'), { code: 'MissingRegion', retryable: false });
  const s = await noRegion.createSnapshot({ volume: { type: 'aws-ebs', volumeId: `aws://eu-west-1b/${vol}` }, tags: tags('uid-region') });
  t.match(await noRegion.getSnapshot(s.id), { id: s.id }, 'region learned from the zone');
  const other = new AwsProvider({ endpoint: started.url, env: {}, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, retry: { attempts: 1 } });
  t.teardown(() => other.close());
  const v = await other.createVolume({ snapshotId: s.id, name: 'pvc-r', sizeBytes: GiB, zone: 'eu-west-1c', parameters: {} });
  t.equal(v.zone, 'eu-west-1c', 'a restore finds its region from the zone too');
  const fromEnv = new AwsProvider({ endpoint: started.url, env: { AWS_REGION: 'eu-west-1' }, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  t.teardown(() => fromEnv.close());
  t.match(await fromEnv.getSnapshot(s.id), { id: s.id }, 'AWS_REGION from the environment');
});

t.test('bad credentials are a terminal error', async (t) => {
  const ec2 = new Ec2Fake({ accessKeyId: 'AKIDRIGHT' });
  const { url } = await ec2.start();
  t.teardown(() => ec2.stop());
  const aws = new AwsProvider({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'AKIDWRONG', secretAccessKey: 's' } });
  t.teardown(() => aws.close());
  await t.rejects(aws.getSnapshot('snap-0123'), { code: 'AuthFailure', retryable: false, name: 'CloudError' });
  t.equal(ec2.calls.length, 1, 'not retried');
});

t.test('a call that hangs past the request timeout is abandoned and retried', async (t) => {
  const { ec2, aws, volumeId } = await setup(t, {}, { requestTimeoutMs: 400 });
  const s = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId, zone: ZONE }, tags: tags('uid-hang') });
  ec2.injectFault('DescribeSnapshots', { kind: 'slow', delayMs: 1500 });
  const before = ec2.callCount('DescribeSnapshots');
  t.equal((await aws.getSnapshot(s.id)).id, s.id);
  t.ok(ec2.callCount('DescribeSnapshots') - before >= 2, 'retried after the timeout');
});
