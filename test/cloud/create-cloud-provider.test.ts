import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { AwsProvider } from '../../src/cloud/aws.js';
import { GceProvider } from '../../src/cloud/gce.js';
import { HostPathProvider } from '../../src/cloud/hostpath.js';
import { createCloudProvider } from '../../src/cloud/index.js';
import { Ec2Fake } from '../fakes/ec2-fake.js';
import { GceFake } from '../fakes/gce-fake.js';

t.test('builds each provider from plain options and rejects what cannot work', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cloud-factory-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const hp = await createCloudProvider({ provider: 'hostpath', dataDir: dir });
  t.ok(hp instanceof HostPathProvider);
  t.equal(hp.name, 'hostpath');
  await t.rejects(createCloudProvider({ provider: 'hostpath' }), { code: 'MissingDataDir' });
  await t.rejects(createCloudProvider({ provider: 'azure' as 'aws' }), { code: 'UnknownProvider', message: /supported: aws, gce, hostpath/ });
  await t.rejects(createCloudProvider({ provider: 'gce', gceEndpoint: 'ftp://x' }), { code: 'InvalidEndpoint' });
});

t.test('aws and gce endpoint overrides reach the fakes; qps/burst apply', async (t) => {
  // No credentials in the options: the SDK's default chain must find them in the environment.
  process.env['AWS_ACCESS_KEY_ID'] ??= 'AKIDFACTORY';
  process.env['AWS_SECRET_ACCESS_KEY'] ??= 'secret';
  const ec2 = new Ec2Fake({ accessKeyId: process.env['AWS_ACCESS_KEY_ID'] });
  const gce = new GceFake();
  const e = await ec2.start();
  const g = await gce.start();
  t.teardown(async () => {
    await ec2.stop();
    await gce.stop();
  });
  const aws = await createCloudProvider({ provider: 'aws', awsRegion: 'us-east-1', awsEndpoint: e.url, clusterId: 'c', qps: 100, burst: 5 });
  t.teardown(() => aws.close());
  t.ok(aws instanceof AwsProvider);
  const vol = ec2.addVolume({ zone: 'us-east-1a', sizeGiB: 1 }).volumeId;
  const s = await aws.createSnapshot({ volume: { type: 'aws-ebs', volumeId: vol }, tags: { namespace: 'n', name: 'm', uid: 'u' } });
  t.equal(ec2.listSnapshots()[0]!.snapshotId, s.id);
  t.equal(ec2.listSnapshots()[0]!.tags['kubernetes.io/cluster/c'], 'owned');

  const pd = await createCloudProvider({ provider: 'gce', gceEndpoint: g.url, gceAccessToken: gce.token, gceProject: 'test-project' });
  t.teardown(() => pd.close());
  t.ok(pd instanceof GceProvider);
  gce.addDisk({ zone: 'z-a', name: 'd', sizeGb: 1 });
  const ps = await pd.createSnapshot({ volume: { type: 'gce-pd', zone: 'z-a', disk: 'd' }, tags: { namespace: 'n', name: 'm', uid: 'u' } });
  t.equal(gce.listSnapshots()[0]!.name, ps.id);
});
