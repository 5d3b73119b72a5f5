import t from 'tap';
import {
  validateVolumeSnapshot,
  validateVolumeSnapshotUpdate,
  volumeSnapshotDefinition,
} from '../../../../src/apis/volumesnapshot/v1/volume-snapshot.js';
import {
  validateVolumeSnapshotData,
  validateVolumeSnapshotDataUpdate,
  sourceOf,
  volumeSnapshotDataDefinition,
} from '../../../../src/apis/volumesnapshot/v1/volume-snapshot-data.js';
import { conditionStatus } from '../../../../src/apis/volumesnapshot/v1/conditions.js';
import { formatFieldError } from '../../../../src/apimachinery/status-error.js';
import type { KubeObject } from '../../../../src/apimachinery/resource-definition.js';

const snap = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject =>
  ({ apiVersion: 'volumesnapshot.external-storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 's', namespace: 'd' }, spec, status }) as KubeObject;
const data = (spec: Record<string, unknown>): KubeObject =>
  ({ apiVersion: 'volumesnapshot.external-storage.k8s.io/v1', kind: 'VolumeSnapshotData', metadata: { name: 'd' }, spec }) as KubeObject;
const msgs = (errs: Parameters<typeof formatFieldError>[0][]) => errs.map(formatFieldError);

t.test('VolumeSnapshot rules', async (t) => {
  t.same(msgs(validateVolumeSnapshot(snap({ persistentVolumeClaimName: 'pvc' }))), []);
  t.same(msgs(validateVolumeSnapshot(snap({ persistentVolumeClaimName: '' }))), ['spec.persistentVolumeClaimName: Required value']);
  t.match(msgs(validateVolumeSnapshot(snap({ persistentVolumeClaimName: 'Bad_Name' })))[0], /^spec.persistentVolumeClaimName: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  t.match(msgs(validateVolumeSnapshot(snap({ persistentVolumeClaimName: 'p' }, { restoreSize: '5 Gi' })))[0], /^status.restoreSize: Invalid value: "5 Gi"/);
  t.same(
    msgs(validateVolumeSnapshot(snap({ persistentVolumeClaimName: 'p' }, { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Ready', status: 'False' }] }))),
    ['status.conditions[1].type: Duplicate value: "Ready"'],
  );
  t.same(msgs(validateVolumeSnapshotUpdate(snap({ persistentVolumeClaimName: 'b' }), snap({ persistentVolumeClaimName: 'a' }))), [
    'spec.persistentVolumeClaimName: Invalid value: "b": field is immutable',
  ]);
  // snapshotDataName: settable once.
  t.same(validateVolumeSnapshotUpdate(snap({ persistentVolumeClaimName: 'a', snapshotDataName: 'x' }), snap({ persistentVolumeClaimName: 'a' })), []);
  t.same(msgs(validateVolumeSnapshotUpdate(snap({ persistentVolumeClaimName: 'a', snapshotDataName: 'y' }), snap({ persistentVolumeClaimName: 'a', snapshotDataName: 'x' }))), [
    'spec.snapshotDataName: Invalid value: "y": field is immutable',
  ]);
});

t.test('VolumeSnapshotData: exactly one source', async (t) => {
  t.same(validateVolumeSnapshotData(data({ hostPath: { snapshot: '/x' } })), []);
  t.same(msgs(validateVolumeSnapshotData(data({}))), ['spec: Required value: must specify a snapshot source']);
  t.same(msgs(validateVolumeSnapshotData(data({ hostPath: { snapshot: '/x' }, gcePersistentDisk: { snapshotId: 'g' } }))), [
    'spec.hostPath: Forbidden: may not specify more than 1 snapshot source',
  ]);
  t.same(msgs(validateVolumeSnapshotDataUpdate(data({ hostPath: { snapshot: '/y' } }), data({ hostPath: { snapshot: '/x' } }))), [
    'spec.hostPath: Invalid value: {"snapshot":"/y"}: field is immutable',
  ]);
  t.equal(sourceOf(data({ awsElasticBlockStore: { snapshotId: 'snap-1' } })), 'aws:snap-1');
  t.equal(sourceOf(data({ gcePersistentDisk: { snapshotId: 'g1' } })), 'gce:g1');
});

t.test('columns', async (t) => {
  t.equal(conditionStatus([{ type: 'Pending', status: 'True' }, { type: 'Ready', status: 'True' }]), 'Ready');
  t.equal(conditionStatus([{ type: 'Ready', status: 'True' }, { type: 'Error', status: 'True' }]), 'Error');
  t.equal(conditionStatus([{ type: 'Ready', status: 'False' }]), 'NotReady');
  t.equal(conditionStatus(undefined), undefined);
  const s = snap({ persistentVolumeClaimName: 'pvc', snapshotDataName: 'k8s-volume-snapshot-1' }, { restoreSize: '1Gi', conditions: [{ type: 'Ready', status: 'True', message: 'done' }] });
  t.same(
    volumeSnapshotDefinition.columns.map((c) => [c.name, c.priority, c.name === 'Age' ? 'x' : c.cell(s)]),
    [
      ['PVC', 0, 'pvc'],
      ['Status', 0, 'Ready'],
      ['RestoreSize', 0, '1Gi'],
      ['Age', 0, 'x'],
      ['SnapshotData', 1, 'k8s-volume-snapshot-1'],
      ['Message', 1, 'done'],
    ],
  );
  const d = data({ volumeSnapshotRef: { namespace: 'ns', name: 's' }, persistentVolumeRef: { name: 'pv1' }, hostPath: { snapshot: '/s' } });
  t.same(volumeSnapshotDataDefinition.columns.slice(0, 3).map((c) => c.cell(d)), ['ns/s', 'pv1', 'hostPath:/s']);
  t.same(volumeSnapshotDefinition.shortNames, ['vsnap']);
});
