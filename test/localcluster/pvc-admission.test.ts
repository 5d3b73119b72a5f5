// PVC admission as the local cluster runs it: the AdmissionReviews kube-apiserver would send (checked field by
// field), the mutating patch applied, and denials in kube-apiserver's words with the webhook's code.
import t from 'tap';
import type { AdmissionDeps } from '../../src/admission/admission-review.js';
import type { KubeObject } from '../../src/apimachinery/resource-definition.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import {
  MUTATING_WEBHOOK_NAME,
  VALIDATING_WEBHOOK_NAME,
  admitPersistentVolumeClaim,
  buildPvcAdmissionReview,
  webhookDenial,
  type PvcAdmissionInput,
} from '../../src/localcluster/pvc-admission.js';

const PROMOTER = 'volumesnapshot.external-storage.k8s.io/snapshot-promoter';
const admin = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };

function snapshotDemo(ready: boolean): Record<string, unknown> {
  return {
    apiVersion: 'volumesnapshot.external-storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: { name: 'snapshot-demo', namespace: 'default', uid: 'snap-uid-1', resourceVersion: '7' },
    spec: { persistentVolumeClaimName: 'pvc-demo', snapshotDataName: 'k8s-volume-snapshot-1' },
    status: {
      restoreSize: '1Gi',
      conditions: [ready ? { type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' } : { type: 'Pending', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  };
}

interface Deps extends AdmissionDeps {
  reviews: unknown[];
}

function deps(opts: { ready?: boolean; missing?: boolean } = {}): Deps {
  const data = {
    apiVersion: 'volumesnapshot.external-storage.k8s.io/v1',
    kind: 'VolumeSnapshotData',
    metadata: { name: 'k8s-volume-snapshot-1' },
    spec: { hostPath: { snapshot: '/data/snapshots/snapshot-1' } },
  };
  return {
    reviews: [],
    restoreStorageClass: 'snapshot-promoter',
    async getSnapshot(ns, name) {
      if (opts.missing || ns !== 'default' || name !== 'snapshot-demo') return undefined;
      return snapshotDemo(opts.ready ?? true) as never;
    },
    async getSnapshotData(name) {
      return name === data.metadata.name ? (data as never) : undefined;
    },
    async getStorageClass(name) {
      return name === 'snapshot-promoter' ? { metadata: { name }, provisioner: PROMOTER } : undefined;
    },
  };
}

function restorePvc(storage?: string): KubeObject {
  const spec: Record<string, unknown> = { accessModes: ['ReadWriteOnce'], storageClassName: 'snapshot-promoter' };
  if (storage) spec.resources = { requests: { storage } };
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'restore-pvc', namespace: 'default', annotations: { 'snapshot.alpha.kubernetes.io/snapshot': 'snapshot-demo' } },
    spec,
  };
}

const input = (object: KubeObject, extra: Partial<PvcAdmissionInput> = {}): PvcAdmissionInput => ({
  operation: 'CREATE',
  object,
  user: admin,
  dryRun: false,
  namespace: 'default',
  name: object.metadata.name,
  ...extra,
});

t.test('the AdmissionReview is built as kube-apiserver builds it', async (t) => {
  const review = buildPvcAdmissionReview(input(restorePvc('1Gi'), { fieldManager: 'kubectl-create' }), 'uid-1');
  t.same(review, {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: 'uid-1',
      kind: { group: '', version: 'v1', kind: 'PersistentVolumeClaim' },
      resource: { group: '', version: 'v1', resource: 'persistentvolumeclaims' },
      requestKind: { group: '', version: 'v1', kind: 'PersistentVolumeClaim' },
      requestResource: { group: '', version: 'v1', resource: 'persistentvolumeclaims' },
      name: 'restore-pvc',
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
      object: restorePvc('1Gi'),
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-create' },
    },
  });
  const upd = buildPvcAdmissionReview(input(restorePvc('2Gi'), { operation: 'UPDATE', oldObject: restorePvc('1Gi'), dryRun: true }), 'uid-2') as {
    request: Record<string, unknown>;
  };
  t.same(upd.request.options, { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', dryRun: ['All'] });
  t.same(upd.request.oldObject, restorePvc('1Gi'));
  t.equal(upd.request.dryRun, true);
});

t.test('a good restore is admitted and mutated', async (t) => {
  const out = await admitPersistentVolumeClaim(input(restorePvc('1Gi')), deps());
  t.equal((out.metadata.annotations as Record<string, string>)['volumesnapshot.external-storage.k8s.io/snapshot-uid'], 'snap-uid-1', 'the snapshot uid is recorded');
  t.same((out.spec as Record<string, unknown>).resources, { requests: { storage: '1Gi' } });
  const defaulted = await admitPersistentVolumeClaim(input(restorePvc()), deps());
  t.same((defaulted.spec as Record<string, unknown>).resources, { requests: { storage: '1Gi' } }, 'size defaulted from the snapshot');
  const plain: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
  t.same(await admitPersistentVolumeClaim(input(plain), deps({ missing: true })), plain, 'claims that restore nothing pass untouched');
});

t.test('denials in kube-apiserver words', async (t) => {
  await t.rejects(admitPersistentVolumeClaim(input(restorePvc('100Mi')), deps()), {
    code: 403,
    reason: 'Forbidden',
    message: `admission webhook "${VALIDATING_WEBHOOK_NAME}" denied the request: cannot restore from VolumeSnapshot "snapshot-demo": requested 100Mi is smaller than the snapshot's size 1Gi`,
  });
  await t.rejects(admitPersistentVolumeClaim(input(restorePvc('1Gi')), deps({ missing: true })), {
    code: 403,
    message: `admission webhook "${VALIDATING_WEBHOOK_NAME}" denied the request: cannot restore from VolumeSnapshot "snapshot-demo": it does not exist in namespace "default"`,
  });
  await t.rejects(admitPersistentVolumeClaim(input(restorePvc('1Gi')), deps({ ready: false })), {
    code: 403,
    message: /^admission webhook "validate\.restore-pvc\.volumesnapshot\.external-storage\.k8s\.io" denied the request: cannot restore from VolumeSnapshot "snapshot-demo": it is not ready/,
  });
  const broken: AdmissionDeps = { ...deps(), getSnapshot: async () => Promise.reject(new Error('store closed')) };
  await t.rejects(admitPersistentVolumeClaim(input(restorePvc('1Gi')), broken), {
    code: 500,
    message: `Internal error occurred: failed calling webhook "${MUTATING_WEBHOOK_NAME}": store closed`,
  });
});

t.test('ToStatusErr', async (t) => {
  t.match(webhookDenial('w', { code: 403, reason: 'Forbidden', message: 'no' }), { code: 403, reason: 'Forbidden', message: 'admission webhook "w" denied the request: no' });
  t.match(webhookDenial('w', { code: 200, message: 'no' }), { code: 400, message: 'admission webhook "w" denied the request: no' });
  t.match(webhookDenial('w', { code: 422, reason: 'Invalid' }), { code: 422, message: 'admission webhook "w" denied the request: Invalid' });
  t.match(webhookDenial('w', undefined), { code: 400, message: 'admission webhook "w" denied the request without explanation' });
  t.ok(webhookDenial('w', undefined) instanceof StatusError);
});
