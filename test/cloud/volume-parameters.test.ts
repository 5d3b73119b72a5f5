import t from 'tap';
import { CloudError } from '../../src/cloud/cloud-error.js';
import { thrownBy } from '../helpers/thrown.js';
import { parseEbsParameters, parseHostPathParameters, parsePdParameters } from '../../src/cloud/volume-parameters.js';


t.test('EBS parameters', async (t) => {
  const ok: Array<[Record<string, string>, number, unknown]> = [
    [{}, 10, { volumeType: 'gp2', encrypted: false }],
    [{ type: 'GP3' }, 10, { volumeType: 'gp3', encrypted: false }],
    [{ type: 'gp3', iops: '6000', throughput: '500' }, 100, { volumeType: 'gp3', iops: 6000, throughput: 500 }],
    [{ type: 'gp3', iopsPerGB: '100' }, 50, { iops: 5000 }],
    [{ type: 'gp3', iopsPerGB: '1' }, 50, { iops: 3000 }],
    [{ type: 'io1', iopsPerGB: '10' }, 20, { volumeType: 'io1', iops: 200 }],
    [{ type: 'io1', iopsPerGB: '10' }, 5, { iops: 100 }],
    [{ type: 'io1', iopsPerGB: '50' }, 10_000, { iops: 64_000 }],
    [{ type: 'io1', iopsPerGB: '1000' }, 10, { iops: 500 }],
    [{ type: 'io2', iopsPerGB: '500' }, 100, { volumeType: 'io2', iops: 50_000 }],
    [{ type: 'io2', iops: '3000' }, 8, { iops: 3000 }],
    [{ encrypted: 'TRUE' }, 1, { encrypted: true }],
    [{ kmsKeyId: 'arn:k' }, 1, { encrypted: true, kmsKeyId: 'arn:k' }],
    [{ encrypted: 'true', kmsKeyId: 'arn:k' }, 1, { encrypted: true, kmsKeyId: 'arn:k' }],
    [{ zone: 'us-east-1d', type: 'sc1' }, 500, { zone: 'us-east-1d', volumeType: 'sc1' }],
    [{ type: 'st1' }, 500, { volumeType: 'st1' }],
    [{ type: 'standard', fsType: 'xfs' }, 1, { volumeType: 'standard', fsType: 'xfs' }],
    [{ 'csi.storage.k8s.io/fstype': 'ext4' }, 1, { fsType: 'ext4' }],
  ];
  for (const [params, size, expected] of ok) t.match(parseEbsParameters(params, size), expected, JSON.stringify(params));
  t.same(parseEbsParameters({}, 1), { volumeType: 'gp2', encrypted: false }, 'no stray keys');

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ Bogus: 'x' }, /unknown StorageClass parameter "Bogus" for AWS EBS/],
    [{ type: 'gp4' }, /unsupported EBS volume type "gp4"; supported: gp2, gp3, io1, io2, sc1, st1, standard/],
    [{ type: 'io1' }, /volume type "io1" needs "iops" or "iopsPerGB"/],
    [{ type: 'io2', iops: '50' }, /out of range 100–256000/],
    [{ type: 'io1', iops: '100', iopsPerGB: '10' }, /mutually exclusive/],
    [{ type: 'st1', iopsPerGB: '10' }, /parameter "iopsPerGB" is not supported for volume type "st1"/],
    [{ iops: '3000' }, /parameter "iops" is not supported for volume type "gp2"/],
    [{ type: 'gp3', iops: '20000' }, /out of range 3000–16000/],
    [{ type: 'gp3', throughput: '90' }, /out of range 125–1000/],
    [{ type: 'io1', iopsPerGB: '10', throughput: '200' }, /only supported for volume type "gp3"/],
    [{ iopsPerGB: '-1', type: 'io1' }, /not a positive integer/],
    [{ type: 'gp3', iops: '1.5' }, /not a positive integer/],
    [{ encrypted: 'maybe' }, /not a boolean/],
    [{ encrypted: 'false', kmsKeyId: 'k' }, /needs encryption/],
  ];
  for (const [params, pattern] of bad) {
    const err = thrownBy(CloudError, () => parseEbsParameters(params, 10));
    t.equal(err.code, 'InvalidParameter');
    t.equal(err.retryable, false);
    t.match(err.message, pattern, JSON.stringify(params));
  }
});

t.test('GCE PD parameters', async (t) => {
  t.same(parsePdParameters({}), { diskType: 'pd-standard' });
  t.same(parsePdParameters({ type: 'pd-ssd', zone: 'z', 'replication-type': 'none', fstype: 'ext4' }), { diskType: 'pd-ssd', zone: 'z', fsType: 'ext4' });
  t.same(parsePdParameters({ Type: 'PD-BALANCED' }), { diskType: 'pd-balanced' });
  for (const [params, pattern] of [
    [{ type: 'pd-extreme' }, /unsupported GCE PD type "pd-extreme"; supported: pd-standard, pd-ssd, pd-balanced/],
    [{ 'replication-type': 'regional-pd' }, /only "none"/],
    [{ iops: '1' }, /unknown StorageClass parameter "iops" for GCE PD/],
  ] as Array<[Record<string, string>, RegExp]>) {
    const err = thrownBy(CloudError, () => parsePdParameters(params));
    t.equal(err.code, 'InvalidParameter');
    t.match(err.message, pattern);
  }
});

t.test('hostpath parameters: only a file system type', async (t) => {
  t.doesNotThrow(() => parseHostPathParameters({ fsType: 'ext4' }));
  t.match(thrownBy(CloudError, () => parseHostPathParameters({ zone: 'a' })).message, /unknown StorageClass parameter "zone" for hostpath/);
});
