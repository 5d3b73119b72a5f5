import t from 'tap';
import { CloudError } from '../../src/cloud/cloud-error.js';
import { parseEbsVolumeId, toVolumeSource, type PlainVolumeSource } from '../../src/cloud/volume-source.js';

t.test('EBS volume IDs in every in-tree form', async (t) => {
  t.same(parseEbsVolumeId('aws://us-east-1a/vol-0123456789abcdef0'), { volumeId: 'vol-0123456789abcdef0', zone: 'us-east-1a' });
  t.same(parseEbsVolumeId('aws:///vol-0abc'), { volumeId: 'vol-0abc' });
  t.same(parseEbsVolumeId('vol-0abc'), { volumeId: 'vol-0abc' });
  for (const bad of ['aws://us-east-1a', 'snap-0abc', 'vol-XYZ', '', 'aws://z/vol-1/extra']) {
    t.throws(() => parseEbsVolumeId(bad), { code: 'InvalidVolumeSource' }, bad);
  }
});

t.test('plain PV sources → provider volume sources', async (t) => {
  const cases: Array<[PlainVolumeSource, unknown]> = [
    [{ kind: 'awsElasticBlockStore', volumeID: 'aws://eu-west-1b/vol-1a' }, { type: 'aws-ebs', volumeId: 'vol-1a', zone: 'eu-west-1b' }],
    [{ kind: 'awsElasticBlockStore', volumeID: 'vol-1a', zone: 'eu-west-1c' }, { type: 'aws-ebs', volumeId: 'vol-1a', zone: 'eu-west-1c' }],
    [{ kind: 'awsElasticBlockStore', volumeID: 'vol-1a' }, { type: 'aws-ebs', volumeId: 'vol-1a' }],
    [{ kind: 'csi', driver: 'ebs.csi.aws.com', volumeHandle: 'vol-0f', zone: 'us-west-2a' }, { type: 'aws-ebs', volumeId: 'vol-0f', zone: 'us-west-2a' }],
    [{ kind: 'gcePersistentDisk', pdName: 'my-disk', zone: 'us-central1-a' }, { type: 'gce-pd', disk: 'my-disk', zone: 'us-central1-a' }],
    [
      { kind: 'csi', driver: 'pd.csi.storage.gke.io', volumeHandle: 'projects/p1/zones/europe-west4-b/disks/pvc-1' },
      { type: 'gce-pd', project: 'p1', zone: 'europe-west4-b', disk: 'pvc-1' },
    ],
    [{ kind: 'hostPath', path: '/var/data/x' }, { type: 'hostpath', path: '/var/data/x' }],
  ];
  for (const [input, expected] of cases) t.same(toVolumeSource(input), expected, JSON.stringify(input));

  const errors: Array<[PlainVolumeSource, string]> = [
    [{ kind: 'gcePersistentDisk', pdName: 'd' }, 'InvalidVolumeSource'],
    [{ kind: 'csi', driver: 'pd.csi.storage.gke.io', volumeHandle: 'projects/p/regions/r/disks/d' }, 'InvalidVolumeSource'],
    [{ kind: 'csi', driver: 'rbd.csi.ceph.com', volumeHandle: 'x' }, 'UnsupportedVolumeSource'],
  ];
  for (const [input, code] of errors) {
    const err = (() => {
      try {
        toVolumeSource(input);
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof CloudError && err.code === code && !err.retryable, JSON.stringify(input));
  }
});
