// The PV controller's decisions as tables: matching (class, selector, volumeMode, access-mode groups, capacity,
// smallest), static binding both ways, external provisioning, lost claims, and the volume side (phases, release,
// reclaim).
import t from 'tap';
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_DYNAMICALLY_PROVISIONED,
  decideClaim,
  decideVolume,
  externalProvisioningMessage,
  findBestMatch,
  type ClassInfo,
} from '../../src/localcluster/binding-rules.js';
import type { KubeObject } from '../../src/apimachinery/resource-definition.js';
import { claimRefTo, pv, pvc } from './fixtures/objects.js';

const PROMOTER = 'volumesnapshot.external-storage.k8s.io/snapshot-promoter';
const classes = new Map<string, ClassInfo>([
  ['snapshot-promoter', { provisioner: PROMOTER, volumeBindingMode: 'Immediate' }],
  ['in-tree', { provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'Immediate' }],
  ['late', { provisioner: 'example.com/late', volumeBindingMode: 'WaitForFirstConsumer' }],
  ['fast', { provisioner: 'example.com/fast', volumeBindingMode: 'Immediate' }],
]);

t.test('findBestMatch', async (t) => {
  const cases: { name: string; claim: KubeObject; volumes: KubeObject[]; want: string | undefined }[] = [
    { name: 'no volumes', claim: pvc('c'), volumes: [], want: undefined },
    { name: 'the one available volume', claim: pvc('c'), volumes: [pv('a')], want: 'a' },
    { name: 'smallest that fits', claim: pvc('c', { request: '1Gi' }), volumes: [pv('big', { capacity: '10Gi' }), pv('mid', { capacity: '2Gi' }), pv('small', { capacity: '500Mi' })], want: 'mid' },
    { name: 'equal in other units fits', claim: pvc('c', { request: '1024Mi' }), volumes: [pv('a', { capacity: '1Gi' })], want: 'a' },
    { name: 'too small', claim: pvc('c', { request: '2Gi' }), volumes: [pv('a', { capacity: '1Gi' })], want: undefined },
    { name: 'class must match (unset = "")', claim: pvc('c'), volumes: [pv('a', { storageClassName: 'fast' })], want: undefined },
    { name: 'class match', claim: pvc('c', { storageClassName: 'fast' }), volumes: [pv('a'), pv('b', { storageClassName: 'fast' })], want: 'b' },
    { name: 'not Available', claim: pvc('c'), volumes: [pv('a', { phase: 'Released' }), pv('b', { phase: 'Pending' })], want: undefined },
    { name: 'claimed by another', claim: pvc('c'), volumes: [pv('a', { claimRef: { namespace: 'default', name: 'other' } })], want: undefined },
    { name: 'pre-bound to this claim wins over a smaller one, whatever its phase', claim: pvc('c'), volumes: [pv('tiny', { capacity: '1Gi' }), pv('pre', { capacity: '5Gi', phase: 'Pending', claimRef: { namespace: 'default', name: 'c' } })], want: 'pre' },
    { name: 'pre-bound with another uid is not ours', claim: pvc('c'), volumes: [pv('pre', { claimRef: { namespace: 'default', name: 'c', uid: 'someone-else' } })], want: undefined },
    { name: 'volumeMode must match', claim: pvc('c', { volumeMode: 'Block' }), volumes: [pv('a')], want: undefined },
    { name: 'selector matches labels', claim: pvc('c', { selector: { matchLabels: { tier: 'gold' } } }), volumes: [pv('a', { labels: { tier: 'silver' } }), pv('b', { capacity: '5Gi', labels: { tier: 'gold' } })], want: 'b' },
    { name: 'selector expressions', claim: pvc('c', { selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] } }), volumes: [pv('a', { labels: { tier: 'gold' } }), pv('b', { capacity: '5Gi' })], want: 'b' },
    { name: 'access modes must be a superset', claim: pvc('c', { accessModes: ['ReadWriteMany'] }), volumes: [pv('a')], want: undefined },
    {
      name: 'tightest access-mode group first, even when larger',
      claim: pvc('c', { accessModes: ['ReadWriteOnce'] }),
      volumes: [pv('wide', { capacity: '1Gi', accessModes: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany'] }), pv('tight', { capacity: '8Gi', accessModes: ['ReadWriteOnce'] })],
      want: 'tight',
    },
    { name: 'deleting volume skipped', claim: pvc('c'), volumes: [{ ...pv('a'), metadata: { ...pv('a').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }], want: undefined },
  ];
  for (const c of cases) t.equal(findBestMatch(c.claim, c.volumes)?.metadata.name, c.want, c.name);
  t.equal(findBestMatch(pvc('c'), [pv('a')], true), undefined, 'delayed binding leaves unbound volumes to the scheduler');
  t.equal(findBestMatch(pvc('c'), [pv('a', { claimRef: { namespace: 'default', name: 'c' } })], true)?.metadata.name, 'a', 'but takes a pre-bound one');
});

t.test('decideClaim: unbound claims', async (t) => {
  t.same(decideClaim(pvc('c'), [pv('a')], classes), { action: 'bind', volume: pv('a'), boundByController: true }, 'controller-chosen match');
  t.same(
    decideClaim(pvc('c'), [], classes),
    { action: 'pending', event: { type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' } },
    'no class, no volume',
  );
  t.same(
    decideClaim(pvc('c', { storageClassName: 'snapshot-promoter' }), [], classes),
    { action: 'pending', provisioner: PROMOTER, event: { type: 'Normal', reason: 'ExternalProvisioning', message: externalProvisioningMessage(PROMOTER) } },
    'external provisioner',
  );
  t.match(externalProvisioningMessage(PROMOTER), /^Waiting for a volume to be created either by the external provisioner 'volumesnapshot\.external-storage\.k8s\.io\/snapshot-promoter' or manually by the system administrator\./);
  t.same(
    decideClaim(pvc('c', { storageClassName: 'gone' }), [], classes),
    { action: 'pending', event: { type: 'Warning', reason: 'ProvisioningFailed', message: 'storageclass.storage.k8s.io "gone" not found' } },
    'missing class',
  );
  t.same(
    decideClaim(pvc('c', { storageClassName: 'late' }), [pv('a', { storageClassName: 'late' })], classes),
    { action: 'pending', event: { type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' } },
    'WaitForFirstConsumer',
  );
  t.same(
    decideClaim(pvc('c', { storageClassName: 'in-tree' }), [], classes),
    { action: 'pending', event: { type: 'Warning', reason: 'ProvisioningFailed', message: 'no volume plugin matched name: kubernetes.io/no-provisioner' } },
    'in-tree provisioner we do not have',
  );
  t.same(decideClaim(pvc('c', { storageClassName: 'snapshot-promoter' }), [pv('a', { storageClassName: 'snapshot-promoter' })], classes).action, 'bind', 'a matching volume wins over provisioning');
});

t.test('decideClaim: static binding by spec.volumeName', async (t) => {
  const claim = pvc('c', { volumeName: 'a' });
  t.same(decideClaim(claim, [pv('a')], classes), { action: 'bind', volume: pv('a'), boundByController: false }, 'free volume');
  t.same(decideClaim(claim, [], classes), { action: 'pending' }, 'volume does not exist yet');
  t.same(
    decideClaim(claim, [pv('a', { capacity: '500Mi' })], classes),
    { action: 'pending', event: { type: 'Warning', reason: 'VolumeMismatch', message: 'Cannot bind to requested volume "a": requested PV is too small' } },
    'too small',
  );
  t.same(
    decideClaim(claim, [pv('a', { storageClassName: 'fast' })], classes).action === 'pending' &&
      (decideClaim(claim, [pv('a', { storageClassName: 'fast' })], classes) as { event?: { message: string } }).event?.message,
    'Cannot bind to requested volume "a": storageClassName does not match',
  );
  t.same(
    (decideClaim(pvc('c', { volumeName: 'a', accessModes: ['ReadWriteMany'] }), [pv('a')], classes) as { event?: { message: string } }).event?.message,
    'Cannot bind to requested volume "a": incompatible accessMode',
  );
  t.same(decideClaim(claim, [pv('a', { claimRef: claimRefTo(claim) })], classes).action, 'bind', 'volume already points at us');
  t.same(decideClaim(claim, [pv('a', { claimRef: { namespace: 'default', name: 'other', uid: 'x' } })], classes), { action: 'pending' }, 'taken by another claim');
});

t.test('decideClaim: bound claims', async (t) => {
  const bound = pvc('c', { volumeName: 'a', phase: 'Bound', annotations: { [ANN_BIND_COMPLETED]: 'yes', [ANN_BOUND_BY_CONTROLLER]: 'yes' } });
  t.same(decideClaim(bound, [pv('a', { phase: 'Bound', claimRef: claimRefTo(bound) })], classes), { action: 'bind', volume: pv('a', { phase: 'Bound', claimRef: claimRefTo(bound) }), boundByController: true }, 'consistent pair is re-asserted (no-op writes)');
  t.same(decideClaim(bound, [], classes), { action: 'lost', event: { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' } });
  t.same(
    decideClaim(bound, [pv('a', { claimRef: { namespace: 'default', name: 'c', uid: 'other-uid' } })], classes),
    { action: 'lost', event: { type: 'Warning', reason: 'ClaimMisbound', message: 'Two claims are bound to the same volume, this one is bound incorrectly' } },
  );
  t.same(decideClaim(bound, [pv('a')], classes).action, 'bind', 'volume lost its claimRef: bind again');
  const deleting = pvc('d');
  deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  t.same(decideClaim(deleting, [pv('a')], classes), { action: 'none' });
});

t.test('decideVolume', async (t) => {
  const claim = pvc('c', { volumeName: 'a', phase: 'Bound' });
  t.same(decideVolume(pv('a', { phase: 'Pending' }), undefined), { action: 'update', phase: 'Available' }, 'new volume becomes Available');
  t.same(decideVolume(pv('a'), undefined), { action: 'none' }, 'already Available');
  t.same(decideVolume(pv('a', { phase: 'Pending', claimRef: { namespace: 'default', name: 'c' } }), undefined), { action: 'update', phase: 'Available' }, 'pre-bound, waiting for its claim');
  t.same(decideVolume(pv('a', { phase: 'Available', claimRef: claimRefTo(claim) }), claim), { action: 'update', phase: 'Bound' }, 'claim bound to it');
  t.same(decideVolume(pv('a', { phase: 'Bound', claimRef: claimRefTo(claim) }), pvc('c', { phase: 'Pending' })), { action: 'none' }, 'claim not bound yet: its sync finishes');
  t.same(decideVolume(pv('a', { phase: 'Bound', claimRef: claimRefTo(claim) }), undefined), { action: 'update', phase: 'Released' }, 'claim deleted → Released');
  t.same(decideVolume(pv('a', { phase: 'Bound', claimRef: claimRefTo(claim) }), pvc('c', { uid: 'new-uid' })), { action: 'update', phase: 'Released' }, 'claim re-created with another uid → Released');
  t.same(decideVolume(pv('a', { phase: 'Released', claimRef: claimRefTo(claim) }), undefined), { action: 'none' }, 'Retain stays Released');
  t.same(
    decideVolume(pv('a', { phase: 'Released', reclaim: 'Delete', claimRef: claimRefTo(claim), annotations: { [ANN_DYNAMICALLY_PROVISIONED]: PROMOTER } }), undefined),
    { action: 'none' },
    'Delete of an externally provisioned volume is left to its provisioner',
  );
  const failed = decideVolume(pv('a', { phase: 'Released', reclaim: 'Delete', claimRef: claimRefTo(claim) }), undefined);
  t.match(failed, { action: 'update', phase: 'Failed', event: { type: 'Warning', reason: 'VolumeFailedDelete', message: 'error getting deleter volume plugin for volume "a": no deletable volume plugin matched' } }, 'Delete with no deleter fails');
  t.same(decideVolume(pv('a', { phase: 'Failed', reclaim: 'Delete', claimRef: claimRefTo(claim) }), undefined), { action: 'none' }, 'Failed stays');
  const elsewhere = pvc('c', { volumeName: 'b', phase: 'Bound' });
  t.same(
    decideVolume(pv('a', { phase: 'Bound', claimRef: claimRefTo(elsewhere), annotations: { [ANN_BOUND_BY_CONTROLLER]: 'yes' } }), elsewhere),
    { action: 'update', phase: 'Available', unbind: 'all' },
    'controller binding lost to another volume: unbind',
  );
  t.same(decideVolume(pv('a', { phase: 'Bound', claimRef: claimRefTo(elsewhere) }), elsewhere), { action: 'update', phase: 'Available', unbind: 'uid' }, 'user pre-binding: keep it, drop the uid');
});
