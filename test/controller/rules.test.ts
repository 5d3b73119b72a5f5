import t from 'tap';
import { setCondition, transitionTo, pendingMessage, isTrue } from '../../src/controller/snapshot-conditions.js';
import {
  dataSourceFor,
  snapshotIdOfData,
  sourceKindOfPv,
  volumeSourceFromPv,
  zoneOfPv,
  volumeZoneOfPv,
} from '../../src/controller/volume-source-from-pv.js';
import {
  buildRestoredPv,
  restoreProblem,
  restoreSnapshotName,
  shouldDeleteReleased,
  shouldProvision,
  volumeRefOfPv,
} from '../../src/controller/restore-rules.js';
import { restoreInProgress } from '../../src/controller/promoter.js';
import { attemptToken, isGivenUp, snapshotDataName, FAILED_ATTEMPT_ANNOTATION, RETRY_ANNOTATION } from '../../src/controller/snapshotter.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../src/cluster/main-cluster.js';
import type { VolumeSnapshot, VolumeSnapshotCondition } from '../../src/apis/volumesnapshot/v1/types.js';
import { isCloudError } from '../../src/cloud/index.js';

const T1 = '2026-01-01T00:00:00Z';
const T2 = '2026-01-01T00:01:00Z';

t.test('conditions: appended by type, replaced by type, time moves only when the status flips', async (t) => {
  let c = setCondition(undefined, { type: 'Pending', status: 'True', message: 'a' }, T1);
  t.same(c, [{ type: 'Pending', status: 'True', lastTransitionTime: T1, message: 'a' }]);
  c = setCondition(c, { type: 'Pending', status: 'True', message: 'b (50% done)' }, T2);
  t.same(c, [{ type: 'Pending', status: 'True', lastTransitionTime: T1, message: 'b (50% done)' }], 'same status keeps the time');
  c = setCondition(c, { type: 'Ready', status: 'True', message: 'r' }, T2);
  t.equal(c.length, 2, 'new type appended');
  c = setCondition(c, { type: 'Pending', status: 'False', message: 'b' }, T2);
  t.equal(c[0]!.lastTransitionTime, T2, 'flip moves the time');
  t.equal(c[0]!.type, 'Pending', 'replaced in place');
});

t.test('transitionTo: one True condition; the others become False', async (t) => {
  let c: VolumeSnapshotCondition[] = transitionTo(undefined, 'Pending', 'SnapshotCreating', 'Snapshot is being created', T1);
  c = transitionTo(c, 'Error', 'SnapshotCreationFailed', 'RequestLimitExceeded', T2);
  t.same(c.map((x) => [x.type, x.status]), [['Pending', 'False'], ['Error', 'True']]);
  c = transitionTo(c, 'Pending', 'SnapshotCreating', 'Snapshot is being created (40% done)', T2);
  c = transitionTo(c, 'Ready', 'SnapshotReady', 'Snapshot created successfully', T2);
  t.same(c.map((x) => [x.type, x.status]), [['Pending', 'False'], ['Error', 'False'], ['Ready', 'True']]);
  t.ok(isTrue(c, 'Ready'));
  t.notOk(isTrue(c, 'Error'));
  t.equal(pendingMessage(undefined), 'Snapshot is being created');
  t.equal(pendingMessage(41.6), 'Snapshot is being created (42% done)');
});

const pv = (spec: Record<string, unknown>, labels?: Record<string, string>): PersistentVolume => ({
  metadata: { name: 'pv1', ...(labels ? { labels } : {}) },
  spec: { capacity: { storage: '5Gi' }, ...spec } as PersistentVolume['spec'],
});

t.test('PV → cloud VolumeSource', async (t) => {
  const rows: [string, PersistentVolume, unknown][] = [
    ['in-tree EBS with zone', pv({ awsElasticBlockStore: { volumeID: 'aws://us-east-1a/vol-0abc' } }), { type: 'aws-ebs', volumeId: 'vol-0abc', zone: 'us-east-1a' }],
    ['in-tree EBS bare + label', pv({ awsElasticBlockStore: { volumeID: 'vol-0abc' } }, { 'topology.kubernetes.io/zone': 'eu-west-1b' }), { type: 'aws-ebs', volumeId: 'vol-0abc', zone: 'eu-west-1b' }],
    ['EBS CSI', pv({ csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-0def' } }), { type: 'aws-ebs', volumeId: 'vol-0def' }],
    ['GCE PD + beta label', pv({ gcePersistentDisk: { pdName: 'disk-1' } }, { 'failure-domain.beta.kubernetes.io/zone': 'us-central1-a' }), { type: 'gce-pd', disk: 'disk-1', zone: 'us-central1-a' }],
    ['GCE PD + GA label wins', pv({ gcePersistentDisk: { pdName: 'disk-1' } }, { 'topology.kubernetes.io/zone': 'z-ga', 'failure-domain.beta.kubernetes.io/zone': 'z-beta' }), { type: 'gce-pd', disk: 'disk-1', zone: 'z-ga' }],
    ['PD CSI handle', pv({ csi: { driver: 'pd.csi.storage.gke.io', volumeHandle: 'projects/p1/zones/us-east1-b/disks/d1' } }), { type: 'gce-pd', project: 'p1', zone: 'us-east1-b', disk: 'd1' }],
    ['hostPath', pv({ hostPath: { path: '/data/v1' } }), { type: 'hostpath', path: '/data/v1' }],
    [
      'zone from node affinity',
      pv({ gcePersistentDisk: { pdName: 'd' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.gke.io/zone', operator: 'In', values: ['z9'] }] }] } } }),
      { type: 'gce-pd', disk: 'd', zone: 'z9' },
    ],
  ];
  for (const [name, input, want] of rows) t.same(volumeSourceFromPv(input), want, name);
  const bad: [string, PersistentVolume, RegExp][] = [
    ['nfs', pv({ nfs: { server: 'x', path: '/' } }), /cannot be snapshotted \(nfs\)/],
    ['GCE PD without zone', pv({ gcePersistentDisk: { pdName: 'd' } }), /has no zone/],
    ['other CSI driver', pv({ csi: { driver: 'x.example.com', volumeHandle: 'h' } }), /not supported/],
    ['bad EBS id', pv({ awsElasticBlockStore: { volumeID: 'aws://zone/notavol' } }), /invalid AWS volume ID/],
  ];
  for (const [name, input, re] of bad) {
    const err = (() => {
      try {
        volumeSourceFromPv(input);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    t.ok(isCloudError(err) && !err.retryable && re.test(err.message), name);
  }
  t.equal(zoneOfPv(pv({}, { 'topology.kubernetes.io/zone': 'a__b' })), undefined, 'multi-zone label names no zone');
  t.equal(volumeZoneOfPv(pv({ awsElasticBlockStore: { volumeID: 'aws://us-east-1c/vol-0abc' } })), 'us-east-1c', 'zone from the EBS volume ID');
  t.equal(volumeZoneOfPv(pv({ csi: { driver: 'pd.csi.storage.gke.io', volumeHandle: 'projects/p/zones/z2/disks/d' } })), 'z2', 'zone from the PD handle');
  t.equal(volumeZoneOfPv(pv({ hostPath: { path: '/x' } })), undefined);
  t.equal(sourceKindOfPv(pv({ csi: { driver: 'd', volumeHandle: 'h' } })), 'csi');
  t.equal(sourceKindOfPv(undefined), 'in-tree');
});

t.test('snapshot data sources', async (t) => {
  t.same(dataSourceFor('aws', 'snap-1', 'ext4'), { awsElasticBlockStore: { snapshotId: 'snap-1', fsType: 'ext4' } });
  t.same(dataSourceFor('gce', 's1'), { gcePersistentDisk: { snapshotId: 's1' } });
  t.same(dataSourceFor('hostpath', '/d/s'), { hostPath: { snapshot: '/d/s' } });
  for (const p of ['aws', 'gce', 'hostpath'] as const) t.equal(snapshotIdOfData({ spec: dataSourceFor(p, 'id-x') }), 'id-x');
  t.equal(snapshotDataName('1234'), 'k8s-volume-snapshot-1234');
});

const claim = (o: { ann?: Record<string, string>; request?: string; volumeName?: string; phase?: string; dataSource?: Record<string, string> } = {}): PersistentVolumeClaim => ({
  metadata: { name: 'restore', namespace: 'default', uid: 'u-1', resourceVersion: '7', ...(o.ann ? { annotations: o.ann } : {}) },
  spec: {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: o.request ?? '5Gi' } },
    storageClassName: 'snapshot-promoter',
    ...(o.volumeName ? { volumeName: o.volumeName } : {}),
    ...(o.dataSource ? { dataSource: o.dataSource } : {}),
  },
  status: { phase: o.phase ?? 'Pending' },
});
const promoterClass: StorageClass = { metadata: { name: 'snapshot-promoter' }, provisioner: 'volumesnapshot.external-storage.k8s.io/snapshot-promoter', reclaimPolicy: 'Delete' };
const readySnap = (o: { ready?: boolean; size?: string; deleting?: boolean } = {}): VolumeSnapshot => ({
  apiVersion: 'volumesnapshot.external-storage.k8s.io/v1',
  kind: 'VolumeSnapshot',
  metadata: { name: 's1', namespace: 'default', uid: 'su', ...(o.deleting ? { deletionTimestamp: T1 } : {}) },
  spec: { persistentVolumeClaimName: 'data', snapshotDataName: 'k8s-volume-snapshot-su' },
  status: { restoreSize: o.size ?? '5Gi', conditions: [{ type: o.ready === false ? 'Pending' : 'Ready', status: 'True' }] },
});

t.test('promoter rules', async (t) => {
  const ann = { 'snapshot.alpha.kubernetes.io/snapshot': 's1' };
  t.equal(restoreSnapshotName(claim({ ann })), 's1');
  t.equal(restoreSnapshotName(claim({ dataSource: { apiGroup: 'volumesnapshot.external-storage.k8s.io', kind: 'VolumeSnapshot', name: 's2' } })), 's2');
  t.equal(restoreSnapshotName(claim({ dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 's2' } })), undefined);
  t.ok(shouldProvision(claim({ ann }), promoterClass));
  t.notOk(shouldProvision(claim({ ann }), { ...promoterClass, provisioner: 'ebs.csi.aws.com' }), 'other provisioner');
  t.notOk(shouldProvision(claim({ ann, volumeName: 'x' }), promoterClass), 'already bound');
  t.notOk(shouldProvision(claim(), promoterClass), 'not a restore');
  t.notOk(shouldProvision({ ...claim({ ann: { ...ann, 'volume.kubernetes.io/storage-provisioner': 'other' } }) }, promoterClass), 'addressed to another provisioner');

  t.equal(restoreProblem(claim({ ann }), readySnap(), 's1'), undefined);
  t.match(restoreProblem(claim({ ann }), undefined, 's1'), /does not exist in namespace "default"/);
  t.match(restoreProblem(claim({ ann }), readySnap({ ready: false }), 's1'), /not Ready/);
  t.match(restoreProblem(claim({ ann, request: '1Gi' }), readySnap(), 's1'), /requested volume size 1Gi is less than the size 5Gi/);
  t.equal(restoreProblem(claim({ ann, request: '5120Mi' }), readySnap(), 's1'), undefined, 'equal sizes in other units');
  t.equal(restoreProblem(claim({ ann }), readySnap({ deleting: true }), 's1'), undefined, 'a deleting snapshot still serves earlier claims');

  const ours = { ...ann, 'volume.kubernetes.io/storage-provisioner': 'volumesnapshot.external-storage.k8s.io/snapshot-promoter' };
  t.ok(restoreInProgress([claim({ ann: ours })], readySnap()));
  t.notOk(restoreInProgress([claim({ ann })], readySnap()), 'not addressed to the promoter (yet): no hold');
  t.notOk(restoreInProgress([claim({ ann: ours, request: '1Gi' })], readySnap()), 'a claim that cannot work does not hold deletion');
  t.notOk(restoreInProgress([claim({ ann: ours, volumeName: 'pv', phase: 'Bound' })], readySnap()), 'bound: done');
});

t.test('the restored PV', async (t) => {
  const pvc = claim({ ann: { 'snapshot.alpha.kubernetes.io/snapshot': 's1' } });
  const ebs = buildRestoredPv({ pvc, storageClass: promoterClass, identity: 'me', volume: { kind: 'awsElasticBlockStore', volumeId: 'vol-1', zone: 'us-east-1a', sizeBytes: 5 * 1024 ** 3, fsType: 'ext4', state: 'available' } });
  t.equal(ebs.metadata.name, 'pvc-u-1');
  t.same(ebs.metadata.annotations, { 'pv.kubernetes.io/provisioned-by': 'volumesnapshot.external-storage.k8s.io/snapshot-promoter', snapshotProvisionerIdentity: 'me' });
  t.same(ebs.metadata.labels, { 'topology.kubernetes.io/zone': 'us-east-1a' });
  t.same(ebs.spec?.capacity, { storage: '5Gi' });
  t.same(ebs.spec?.awsElasticBlockStore, { volumeID: 'aws://us-east-1a/vol-1', fsType: 'ext4' });
  t.same(ebs.spec?.claimRef, { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'default', name: 'restore', uid: 'u-1', resourceVersion: '7' });
  t.equal(ebs.spec?.persistentVolumeReclaimPolicy, 'Delete');
  t.equal(ebs.spec?.storageClassName, 'snapshot-promoter');
  t.equal(ebs.spec?.volumeMode, 'Filesystem');
  t.same(ebs.spec?.nodeAffinity, { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['us-east-1a'] }] }] } });
  t.same(volumeRefOfPv(ebs), { volumeId: 'vol-1', zone: 'us-east-1a' });

  const csi = buildRestoredPv({ pvc, storageClass: { ...promoterClass, reclaimPolicy: 'Retain' }, identity: 'me', volume: { kind: 'csi', driver: 'pd.csi.storage.gke.io', volumeId: 'projects/p/zones/z/disks/d', zone: 'z', sizeBytes: 3 * 1024 ** 3, state: 'available' } });
  t.same(csi.spec?.csi, { driver: 'pd.csi.storage.gke.io', volumeHandle: 'projects/p/zones/z/disks/d' });
  t.equal(csi.spec?.persistentVolumeReclaimPolicy, 'Retain');
  const hp = buildRestoredPv({ pvc, storageClass: promoterClass, identity: 'me', volume: { kind: 'hostPath', volumeId: '/data/volumes/pvc-u-1', sizeBytes: 1024 ** 3, state: 'available' } });
  t.same(hp.spec?.hostPath, { path: '/data/volumes/pvc-u-1', type: 'Directory' });
  t.notOk(hp.spec?.nodeAffinity);

  t.ok(shouldDeleteReleased({ ...ebs, status: { phase: 'Released' } }));
  t.notOk(shouldDeleteReleased({ ...csi, status: { phase: 'Released' } }), 'Retain');
  t.notOk(shouldDeleteReleased({ ...ebs, status: { phase: 'Bound' } }));
  t.notOk(shouldDeleteReleased({ ...ebs, metadata: { ...ebs.metadata, annotations: {} }, status: { phase: 'Released' } }), 'not ours');
});

t.test('a terminal failure waits for the user', async (t) => {
  const snap = readySnap();
  snap.status!.conditions = [{ type: 'Error', status: 'True', message: 'x' }];
  snap.metadata.generation = 1;
  t.equal(attemptToken(snap), '1/');
  t.notOk(isGivenUp(snap), 'no failed attempt recorded');
  snap.metadata.annotations = { [FAILED_ATTEMPT_ANNOTATION]: '1/' };
  t.ok(isGivenUp(snap));
  snap.metadata.annotations[RETRY_ANNOTATION] = 'now';
  t.notOk(isGivenUp(snap), 'the retry annotation changes the attempt');
});
