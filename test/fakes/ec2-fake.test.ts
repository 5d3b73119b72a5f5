// The EC2 fake's own contract, through the real SDK: other suites and the bench rely on it.
import { CreateVolumeCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client, paginateDescribeSnapshots } from '@aws-sdk/client-ec2';
import t from 'tap';
import { Ec2Fake } from './ec2-fake.js';

t.test('paging, filters, progress, ClientToken, faults and the calls-per-second limit', async (t) => {
  const ec2 = new Ec2Fake({ pageSize: 3, snapshotCompletionMs: 400 });
  const { url } = await ec2.start();
  const client = new EC2Client({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  t.teardown(async () => {
    client.destroy();
    await ec2.stop();
  });
  const vol = ec2.addVolume({ zone: 'us-east-1a', sizeGiB: 4 }).volumeId;
  for (let i = 0; i < 7; i++) ec2.addSnapshot({ volumeId: vol, tags: { team: i % 2 ? 'odd' : 'even' }, state: 'completed' });
  const all: string[] = [];
  for await (const page of paginateDescribeSnapshots({ client }, {})) all.push(...(page.Snapshots ?? []).map((s) => s.SnapshotId!));
  t.equal(all.length, 7, 'all pages');
  t.equal(ec2.callCount('DescribeSnapshots'), 3, 'three pages of three');
  const odd = await client.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:team', Values: ['odd'] }] }));
  t.equal(odd.Snapshots?.length, 3);
  t.ok(odd.Snapshots?.every((s) => s.Tags?.some((tag) => tag.Key === 'team' && tag.Value === 'odd')));

  const fresh = ec2.addSnapshot({ volumeId: vol });
  const [s] = (await client.send(new DescribeSnapshotsCommand({ SnapshotIds: [fresh.snapshotId] }))).Snapshots ?? [];
  t.equal(s?.State, 'pending');
  t.match(s?.Progress, /^\d+%$/);
  t.equal(s?.VolumeSize, 4);
  await t.rejects(client.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-00000000'] })), { name: 'InvalidSnapshot.NotFound' });

  const req = { SnapshotId: all[0]!, AvailabilityZone: 'us-east-1b', Size: 5, ClientToken: 'tok-1' };
  const v1 = await client.send(new CreateVolumeCommand(req));
  const v2 = await client.send(new CreateVolumeCommand(req));
  t.equal(v1.VolumeId, v2.VolumeId, 'same ClientToken → same volume');
  await t.rejects(client.send(new CreateVolumeCommand({ ...req, AvailabilityZone: 'us-east-1c' })), { name: 'IdempotentParameterMismatch' });
  await t.rejects(client.send(new CreateVolumeCommand({ ...req, ClientToken: 'tok-2', Size: 1 })), { name: 'InvalidParameterValue' });
  const byZone = await client.send(new DescribeVolumesCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1b'] }] }));
  t.same(byZone.Volumes?.map((v) => v.VolumeId), [v1.VolumeId]);

  ec2.injectFault('*', { kind: 'server-error' });
  await t.rejects(client.send(new DescribeVolumesCommand({})), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
  ec2.injectFault('DescribeVolumes', { kind: 'throttle' });
  await t.rejects(client.send(new DescribeVolumesCommand({})), { name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } });
  ec2.injectFault('DescribeVolumes', { kind: 'lost-response' });
  await t.rejects(client.send(new DescribeVolumesCommand({})));
  ec2.clearFaults();

  ec2.callsPerSecond = 2;
  const results = await Promise.allSettled([1, 2, 3, 4].map(() => client.send(new DescribeVolumesCommand({}))));
  t.equal(results.filter((r) => r.status === 'rejected').length, 2, 'over the limit → RequestLimitExceeded');
});
