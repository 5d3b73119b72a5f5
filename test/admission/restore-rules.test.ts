// The corpus: AdmissionReviews as kube-apiserver sends them, through the same entry point the webhook routes and the
// local cluster use, with the exact answers (messages, codes, decoded JSON patches).
import t from 'tap';
import jsonpatch from 'fast-json-patch';
import { type AdmissionReviewResponse, reviewPersistentVolumeClaim } from '../../src/admission/admission-review.js';
import {
  type JsonPatchOp,
  type PersistentVolumeClaim,
  SNAPSHOT_UID_ANNOTATION,
  escapeJsonPointer,
  isRestorePvc,
} from '../../src/admission/restore-rules.js';
import { SNAPSHOT_ANNOTATION } from '../../src/apis/volumesnapshot/v1/types.js';
import { GROUP, admissionReview, fakeDeps, persisted, restorePvc } from './fixtures/reviews.js';

const QUANTITY_RE = "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const CLASS_RULE =
  'the storage class must be "snapshot-promoter" or another class whose provisioner is "volumesnapshot.external-storage.k8s.io/snapshot-promoter"';
const DNS_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const UID_PATH = `/metadata/annotations/${escapeJsonPointer(SNAPSHOT_UID_ANNOTATION)}`;
const snapRef = (name: string) => ({ apiGroup: GROUP, kind: 'VolumeSnapshot', name });

interface Case {
  name: string;
  mode: 'mutate' | 'validate';
  review: Record<string, unknown>;
  allowed: boolean;
  message?: string;
  patch?: JsonPatchOp[];
  warnings?: string[];
  /** Exactly the lookups made; omitted = not checked. */
  lookups?: string[];
}

const create = (pvc: PersistentVolumeClaim, opts?: Parameters<typeof admissionReview>[3]) => admissionReview('CREATE', persisted(pvc), undefined, opts);
const mutateCreate = (pvc: PersistentVolumeClaim) => admissionReview('CREATE', pvc);
const update = (next: PersistentVolumeClaim, old: PersistentVolumeClaim) => {
  const o = persisted(old);
  const n = structuredClone(next);
  n.metadata = { ...n.metadata, uid: o.metadata!.uid, creationTimestamp: o.metadata!.creationTimestamp, resourceVersion: '7' };
  return admissionReview('UPDATE', n, o);
};
const denied = (name: string, review: Record<string, unknown>, message: string, lookups?: string[]): Case => ({
  name,
  mode: 'validate',
  review,
  allowed: false,
  message,
  lookups,
});
const allowed = (name: string, review: Record<string, unknown>, lookups?: string[], warnings?: string[]): Case => ({
  name,
  mode: 'validate',
  review,
  allowed: true,
  lookups,
  warnings,
});

const EBS_LOOKUPS = ['snapshot default/snap1', 'data k8s-volume-snapshot-snap1'];

const validateCreate: Case[] = [
  // what is (not) a restore claim
  allowed('a claim that restores nothing: fast path, no lookup', create(restorePvc({ snapshot: null, storageClassName: 'gp2' })), []),
  allowed(
    'a CSI snapshot data source is not ours',
    create(restorePvc({ snapshot: null, dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'x' } })),
    [],
  ),
  allowed('a PVC data source (clone) is not ours', create(restorePvc({ snapshot: null, dataSource: { kind: 'PersistentVolumeClaim', name: 'src' } })), []),
  allowed('annotation: a Ready EBS snapshot, same size, restore class, RWO', create(restorePvc()), EBS_LOOKUPS),
  allowed('spec.dataSource names the snapshot', create(restorePvc({ snapshot: null, dataSource: snapRef('snap1') })), EBS_LOOKUPS),
  allowed('spec.dataSourceRef names the snapshot', create(restorePvc({ snapshot: null, dataSourceRef: snapRef('snap1') })), EBS_LOOKUPS),
  allowed(
    'annotation, dataSource and dataSourceRef agree',
    create(restorePvc({ dataSource: snapRef('snap1'), dataSourceRef: { ...snapRef('snap1'), namespace: 'default' } })),
  ),
  allowed('dry run: the same rules', create(restorePvc(), { dryRun: true })),

  // size
  allowed('a larger request', create(restorePvc({ storage: '6Gi' }))),
  allowed('the same size written in bytes', create(restorePvc({ storage: '5368709120' }))),
  allowed('the same size as a JSON number', create(restorePvc({ storage: 5368709120 }))),
  allowed('restoreSize written in bytes, request in Gi', create(restorePvc({ snapshot: 'snap-bytes', storage: '5Gi' }))),
  denied(
    'a smaller request',
    create(restorePvc({ storage: '1Gi' })),
    `cannot restore from VolumeSnapshot "snap1": requested 1Gi is smaller than the snapshot's size 5Gi`,
  ),
  denied(
    'a fractional smaller request, in human form',
    create(restorePvc({ storage: '4.5Gi' })),
    `cannot restore from VolumeSnapshot "snap1": requested 4608Mi is smaller than the snapshot's size 5Gi`,
  ),
  denied(
    'decimal G is smaller than binary Gi',
    create(restorePvc({ storage: '5G' })),
    `cannot restore from VolumeSnapshot "snap1": requested 5G is smaller than the snapshot's size 5Gi`,
  ),
  denied(
    'one byte short',
    create(restorePvc({ storage: '5368709119' })),
    `cannot restore from VolumeSnapshot "snap1": requested 5368709119 is smaller than the snapshot's size 5Gi`,
  ),
  denied(
    'a hostPath snapshot of 1536Mi',
    create(restorePvc({ snapshot: 'snap-host', storage: '1Gi' })),
    `cannot restore from VolumeSnapshot "snap-host": requested 1Gi is smaller than the snapshot's size 1536Mi`,
  ),
  denied(
    'an unparsable quantity names the value',
    create(restorePvc({ storage: '5GB' })),
    `spec.resources.requests.storage: Invalid value: "5GB": quantities must match the regular expression ${QUANTITY_RE}`,
  ),
  denied(
    'a wrong-case suffix',
    create(restorePvc({ storage: '5gi' })),
    `spec.resources.requests.storage: Invalid value: "5gi": quantities must match the regular expression ${QUANTITY_RE}`,
  ),
  denied(
    'an unknown suffix',
    create(restorePvc({ storage: '1ki' })),
    `spec.resources.requests.storage: Invalid value: "1ki": unable to parse quantity's suffix`,
  ),
  denied(
    'no request at all (the mutating webhook did not run)',
    create(restorePvc({ storage: null })),
    `spec.resources.requests.storage: Required value: at least the snapshot's size 5Gi`,
  ),
  allowed(
    'a snapshot that does not record its size: allowed with a warning',
    create(restorePvc({ snapshot: 'snap-nosize', storage: '1Gi' })),
    undefined,
    ['VolumeSnapshot "snap-nosize" does not record its size (status.restoreSize); the requested size is not checked'],
  ),

  // the snapshot itself
  denied(
    'a snapshot that does not exist',
    create(restorePvc({ snapshot: 'nope' })),
    `cannot restore from VolumeSnapshot "nope": it does not exist in namespace "default"`,
    ['snapshot default/nope'],
  ),
  denied(
    "a snapshot in another namespace is not the claim's",
    create(restorePvc({ namespace: 'team-b', snapshot: 'snap1' })),
    `cannot restore from VolumeSnapshot "snap1": it does not exist in namespace "team-b"`,
    ['snapshot team-b/snap1'],
  ),
  allowed('a snapshot in the claim\'s own (other) namespace', create(restorePvc({ namespace: 'team-b', snapshot: 'team-snap', storage: '2Gi' }))),
  denied(
    'a snapshot being deleted',
    create(restorePvc({ snapshot: 'snap-deleting' })),
    `cannot restore from VolumeSnapshot "snap-deleting": it is being deleted`,
    ['snapshot default/snap-deleting'],
  ),
  denied(
    'a Pending snapshot: its condition and message',
    create(restorePvc({ snapshot: 'snap-pending' })),
    `cannot restore from VolumeSnapshot "snap-pending": it is not ready; its current condition is Pending: snapshot of claim "data" is being created`,
    ['snapshot default/snap-pending'],
  ),
  denied(
    'a failed snapshot: its condition, reason and message',
    create(restorePvc({ snapshot: 'snap-error' })),
    `cannot restore from VolumeSnapshot "snap-error": it is not ready; its current condition is Error (SnapshotCreationFailed): RequestLimitExceeded: Request limit exceeded.`,
  ),
  denied(
    'a snapshot with no conditions yet',
    create(restorePvc({ snapshot: 'snap-new' })),
    `cannot restore from VolumeSnapshot "snap-new": it is not ready yet; it has no current condition`,
  ),
  denied(
    'a Ready snapshot whose data object is gone',
    create(restorePvc({ snapshot: 'snap-nodata' })),
    `cannot restore from VolumeSnapshot "snap-nodata": its VolumeSnapshotData "k8s-volume-snapshot-missing" does not exist`,
  ),
  denied(
    'a source this server cannot restore',
    create(restorePvc({ snapshot: 'snap-cinder' })),
    `cannot restore from VolumeSnapshot "snap-cinder": its VolumeSnapshotData "k8s-volume-snapshot-snap-cinder" has no source this server can restore (awsElasticBlockStore, gcePersistentDisk or hostPath)`,
  ),

  allowed('the uid the mutating webhook recorded', create(restorePvc({ annotations: { [SNAPSHOT_UID_ANNOTATION]: 'uid-of-snap1' } }))),
  denied(
    'a recorded uid of another snapshot (forged, or the snapshot was re-created meanwhile)',
    create(restorePvc({ annotations: { [SNAPSHOT_UID_ANNOTATION]: 'uid-of-an-older-snap1' } })),
    'metadata.annotations[volumesnapshot.external-storage.k8s.io/snapshot-uid]: Invalid value: "uid-of-an-older-snap1": must be the uid of VolumeSnapshot "snap1" (uid-of-snap1)',
  ),

  // names
  denied(
    'an invalid snapshot name: no lookup',
    create(restorePvc({ snapshot: 'My_Snap' })),
    `metadata.annotations[snapshot.alpha.kubernetes.io/snapshot]: Invalid value: "My_Snap": ${DNS_MSG}`,
    [],
  ),
  denied(
    'an empty annotation',
    create(restorePvc({ snapshot: '' })),
    `metadata.annotations[snapshot.alpha.kubernetes.io/snapshot]: Required value: the name of a VolumeSnapshot in the claim's namespace`,
    [],
  ),
  denied(
    'a dataSource without a name',
    create(restorePvc({ snapshot: null, dataSource: { apiGroup: GROUP, kind: 'VolumeSnapshot' } })),
    `spec.dataSource.name: Required value: the name of a VolumeSnapshot in the claim's namespace`,
    [],
  ),
  denied(
    'two different snapshots',
    create(restorePvc({ dataSource: snapRef('snap-gce') })),
    `the claim names two snapshots: metadata.annotations[snapshot.alpha.kubernetes.io/snapshot] is "snap1" but spec.dataSource.name is "snap-gce"`,
    [],
  ),
  denied(
    'a cross-namespace dataSourceRef',
    create(restorePvc({ snapshot: null, dataSourceRef: { ...snapRef('snap1'), namespace: 'team-b' } })),
    `spec.dataSourceRef.namespace: Forbidden: a VolumeSnapshot can only be restored in its own namespace (the claim is in "default")`,
    [],
  ),

  // storage class
  allowed('another class whose provisioner is the promoter', create(restorePvc({ storageClassName: 'fast-restore' })), [
    'snapshot default/snap1',
    'class fast-restore',
    'data k8s-volume-snapshot-snap1',
  ]),
  denied(
    'a class of another provisioner',
    create(restorePvc({ storageClassName: 'gp2' })),
    `cannot restore from VolumeSnapshot "snap1": ${CLASS_RULE}; "gp2" has provisioner "kubernetes.io/aws-ebs"`,
  ),
  denied(
    'a class that does not exist',
    create(restorePvc({ storageClassName: 'nope' })),
    `cannot restore from VolumeSnapshot "snap1": ${CLASS_RULE}; storage class "nope" does not exist`,
  ),
  denied(
    'explicitly no class ("")',
    create(restorePvc({ storageClassName: '' })),
    `cannot restore from VolumeSnapshot "snap1": ${CLASS_RULE}; the claim names none`,
    EBS_LOOKUPS,
  ),
  denied(
    'no class (the mutating webhook did not run)',
    create(restorePvc({ storageClassName: null })),
    `cannot restore from VolumeSnapshot "snap1": ${CLASS_RULE}; the claim names none`,
  ),

  // access and volume modes per source
  denied(
    'ReadWriteMany from EBS',
    create(restorePvc({ accessModes: ['ReadWriteMany'] })),
    `cannot restore from VolumeSnapshot "snap1": access mode "ReadWriteMany" is not possible for a volume restored from an AWS EBS snapshot (possible: "ReadWriteOnce")`,
  ),
  denied(
    'ReadOnlyMany from EBS',
    create(restorePvc({ accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] })),
    `cannot restore from VolumeSnapshot "snap1": access mode "ReadOnlyMany" is not possible for a volume restored from an AWS EBS snapshot (possible: "ReadWriteOnce")`,
  ),
  allowed('ReadOnlyMany from GCE PD', create(restorePvc({ snapshot: 'snap-gce', storage: '10Gi', accessModes: ['ReadOnlyMany'] }))),
  denied(
    'ReadWriteMany from GCE PD',
    create(restorePvc({ snapshot: 'snap-gce', storage: '10Gi', accessModes: ['ReadWriteMany'] })),
    `cannot restore from VolumeSnapshot "snap-gce": access mode "ReadWriteMany" is not possible for a volume restored from a GCE PD snapshot (possible: "ReadWriteOnce", "ReadOnlyMany")`,
  ),
  allowed('Block from EBS', create(restorePvc({ volumeMode: 'Block' }))),
  allowed('ReadWriteMany from hostPath', create(restorePvc({ snapshot: 'snap-host', storage: '2Gi', accessModes: ['ReadWriteMany'] }))),
  denied(
    'Block from hostPath',
    create(restorePvc({ snapshot: 'snap-host', storage: '2Gi', volumeMode: 'Block' })),
    `cannot restore from VolumeSnapshot "snap-host": volume mode "Block" is not possible for a volume restored from a hostPath snapshot (possible: "Filesystem")`,
  ),
  denied(
    'several problems at once, all named',
    create(restorePvc({ storage: '1Gi', storageClassName: 'gp2', accessModes: ['ReadWriteMany'] })),
    `cannot restore from VolumeSnapshot "snap1": requested 1Gi is smaller than the snapshot's size 5Gi; ${CLASS_RULE}; "gp2" has provisioner "kubernetes.io/aws-ebs"; access mode "ReadWriteMany" is not possible for a volume restored from an AWS EBS snapshot (possible: "ReadWriteOnce")`,
  ),

  // operations the rules do not concern
  allowed('DELETE', admissionReview('DELETE', undefined, persisted(restorePvc())), []),
  allowed('a status update', { ...update(restorePvc({ storage: '1Gi' }), restorePvc()), request: { ...(update(restorePvc({ storage: '1Gi' }), restorePvc()).request as object), subResource: 'status' } }, []),
];

const pvcWith = (mutator: (p: PersistentVolumeClaim) => void, base = restorePvc()) => {
  const p = structuredClone(base);
  mutator(p);
  return p;
};

const validateUpdate: Case[] = [
  allowed('an unchanged restore claim', update(restorePvc(), restorePvc()), []),
  allowed('labels change', update(pvcWith((p) => (p.metadata!.labels = { app: 'db' })), restorePvc()), []),
  allowed('expansion', update(restorePvc({ storage: '10Gi' }), restorePvc()), []),
  allowed('a claim that restores nothing may shrink (not ours to judge)', update(restorePvc({ snapshot: null, storage: '1Gi' }), restorePvc({ snapshot: null })), []),
  denied(
    'shrinking',
    update(restorePvc({ storage: '4Gi' }), restorePvc({ storage: '10Gi' })),
    'spec.resources.requests.storage: Forbidden: field can not be less than previous value',
    [],
  ),
  denied(
    'an unparsable new size',
    update(restorePvc({ storage: '10 Gi' }), restorePvc()),
    `spec.resources.requests.storage: Invalid value: "10 Gi": quantities must match the regular expression ${QUANTITY_RE}`,
  ),
  denied(
    'the annotation changes',
    update(restorePvc({ snapshot: 'snap-gce' }), restorePvc()),
    'metadata.annotations[snapshot.alpha.kubernetes.io/snapshot]: Invalid value: "snap-gce": field is immutable',
    [],
  ),
  denied(
    'the annotation is removed',
    update(restorePvc({ snapshot: null }), restorePvc()),
    'metadata.annotations[snapshot.alpha.kubernetes.io/snapshot]: Invalid value: "": field is immutable',
  ),
  denied(
    'the annotation is added to a bound claim',
    update(restorePvc(), restorePvc({ snapshot: null })),
    'metadata.annotations[snapshot.alpha.kubernetes.io/snapshot]: Invalid value: "snap1": field is immutable',
  ),
  denied(
    'the data source changes',
    update(restorePvc({ snapshot: null, dataSource: snapRef('snap-gce') }), restorePvc({ snapshot: null, dataSource: snapRef('snap1') })),
    `spec.dataSource: Invalid value: {"apiGroup":"${GROUP}","kind":"VolumeSnapshot","name":"snap-gce"}: field is immutable`,
  ),
  denied(
    'the data source ref is dropped',
    update(restorePvc({ snapshot: null, dataSource: snapRef('snap1') }), restorePvc({ snapshot: null, dataSource: snapRef('snap1'), dataSourceRef: snapRef('snap1') })),
    'spec.dataSourceRef: Invalid value: null: field is immutable',
  ),
  allowed(
    'the same data source with keys in another order',
    update(
      restorePvc({ snapshot: null, dataSource: { name: 'snap1', kind: 'VolumeSnapshot', apiGroup: GROUP } }),
      restorePvc({ snapshot: null, dataSource: snapRef('snap1') }),
    ),
  ),
  denied(
    'the recorded snapshot uid changes',
    update(restorePvc({ annotations: { [SNAPSHOT_UID_ANNOTATION]: 'forged' } }), restorePvc({ annotations: { [SNAPSHOT_UID_ANNOTATION]: 'uid-of-snap1' } })),
    'metadata.annotations[volumesnapshot.external-storage.k8s.io/snapshot-uid]: Invalid value: "forged": field is immutable',
  ),
  denied(
    'two rules broken at once',
    update(restorePvc({ snapshot: 'snap-gce', storage: '1Gi' }), restorePvc()),
    'metadata.annotations[snapshot.alpha.kubernetes.io/snapshot]: Invalid value: "snap-gce": field is immutable; spec.resources.requests.storage: Forbidden: field can not be less than previous value',
  ),
];

const mutate = (name: string, review: Record<string, unknown>, patch: JsonPatchOp[] | undefined, lookups?: string[]): Case => ({
  name,
  mode: 'mutate',
  review,
  allowed: true,
  patch,
  lookups,
});

const mutateCases: Case[] = [
  mutate('a claim that restores nothing: untouched, no lookup', mutateCreate(restorePvc({ snapshot: null, storageClassName: null, storage: null })), undefined, []),
  mutate(
    'class and size given: only the uid is recorded',
    mutateCreate(restorePvc()),
    [{ op: 'add', path: UID_PATH, value: 'uid-of-snap1' }],
    ['snapshot default/snap1'],
  ),
  mutate('class and size defaulted into an existing requests map', mutateCreate(restorePvc({ storageClassName: null, storage: null })), [
    { op: 'add', path: '/spec/storageClassName', value: 'snapshot-promoter' },
    { op: 'add', path: '/spec/resources/requests/storage', value: '5Gi' },
    { op: 'add', path: UID_PATH, value: 'uid-of-snap1' },
  ]),
  mutate(
    'restoreSize in bytes is defaulted in canonical form',
    mutateCreate(restorePvc({ snapshot: 'snap-bytes', storage: null })),
    [
      { op: 'add', path: '/spec/resources/requests/storage', value: '5Gi' },
      { op: 'add', path: UID_PATH, value: 'uid-of-snap-bytes' },
    ],
  ),
  mutate(
    'no resources at all: the object is added',
    mutateCreate(pvcWith((p) => delete p.spec!.resources, restorePvc({ storageClassName: null }))),
    [
      { op: 'add', path: '/spec/storageClassName', value: 'snapshot-promoter' },
      { op: 'add', path: '/spec/resources', value: { requests: { storage: '5Gi' } } },
      { op: 'add', path: UID_PATH, value: 'uid-of-snap1' },
    ],
  ),
  mutate(
    'resources without requests',
    mutateCreate(pvcWith((p) => (p.spec!.resources = { limits: { storage: '20Gi' } }))),
    [
      { op: 'add', path: '/spec/resources/requests', value: { storage: '5Gi' } },
      { op: 'add', path: UID_PATH, value: 'uid-of-snap1' },
    ],
  ),
  mutate(
    'a dataSource claim without annotations: the map is added',
    mutateCreate(restorePvc({ snapshot: null, dataSource: snapRef('snap-gce'), storage: null })),
    [
      { op: 'add', path: '/spec/resources/requests/storage', value: '10Gi' },
      { op: 'add', path: '/metadata/annotations', value: { [SNAPSHOT_UID_ANNOTATION]: 'uid-of-snap-gce' } },
    ],
    ['snapshot default/snap-gce'],
  ),
  mutate('an explicit "" class is the user\'s choice (validation refuses it)', mutateCreate(restorePvc({ storageClassName: '' })), [
    { op: 'add', path: UID_PATH, value: 'uid-of-snap1' },
  ]),
  mutate(
    'a forged uid annotation is overwritten',
    mutateCreate(restorePvc({ annotations: { [SNAPSHOT_UID_ANNOTATION]: 'forged' } })),
    [{ op: 'add', path: UID_PATH, value: 'uid-of-snap1' }],
  ),
  mutate(
    'a missing snapshot: only the class default (validation refuses)',
    mutateCreate(restorePvc({ snapshot: 'nope', storageClassName: null, storage: null })),
    [{ op: 'add', path: '/spec/storageClassName', value: 'snapshot-promoter' }],
  ),
  mutate('a snapshot without restoreSize: no size default', mutateCreate(restorePvc({ snapshot: 'snap-nosize', storage: null })), [
    { op: 'add', path: UID_PATH, value: 'uid-of-snap-nosize' },
  ]),
  mutate('an invalid name: no lookup, class default only', mutateCreate(restorePvc({ snapshot: 'Bad Name', storageClassName: null })), [
    { op: 'add', path: '/spec/storageClassName', value: 'snapshot-promoter' },
  ], []),
  mutate(
    'UPDATE that lost the recorded uid (kubectl replace) gets it back',
    update(restorePvc(), restorePvc({ annotations: { [SNAPSHOT_UID_ANNOTATION]: 'uid-of-snap1' } })),
    [{ op: 'add', path: UID_PATH, value: 'uid-of-snap1' }],
    [],
  ),
  mutate('UPDATE that keeps the uid: no patch', update(restorePvc({ annotations: { [SNAPSHOT_UID_ANNOTATION]: 'u' } }), restorePvc({ annotations: { [SNAPSHOT_UID_ANNOTATION]: 'u' } })), undefined, []),
];

// The callback-only overload of t.test comes last, so this is the subtest type with its assertion plugins.
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

async function run(t: TapTest, c: Case): Promise<AdmissionReviewResponse> {
  const deps = fakeDeps();
  const out = await reviewPersistentVolumeClaim(c.review, c.mode, deps);
  const request = c.review.request as { uid: string; object: PersistentVolumeClaim | null };
  t.equal(out.apiVersion, c.review.apiVersion);
  t.equal(out.kind, 'AdmissionReview');
  t.equal(out.response.uid, request.uid, 'uid echoed');
  t.equal(out.response.allowed, c.allowed, 'allowed');
  if (c.allowed) {
    t.equal(out.response.status, undefined, 'no status when allowed');
  } else {
    t.same(out.response.status, { code: 403, reason: 'Forbidden', message: c.message }, 'status');
  }
  if (c.mode === 'validate' || c.patch === undefined) {
    t.equal(out.response.patch, undefined, 'no patch');
    t.equal(out.response.patchType, undefined, 'no patchType');
  } else {
    t.equal(out.response.patchType, 'JSONPatch');
    const decoded = JSON.parse(Buffer.from(out.response.patch!, 'base64').toString('utf8'));
    t.strictSame(decoded, c.patch, 'exact patch');
    // the patch applies cleanly to the object kube-apiserver sent
    const patched = jsonpatch.applyPatch(structuredClone(request.object), decoded, true, false).newDocument;
    t.ok(isRestorePvc(patched as PersistentVolumeClaim) || c.name.includes('nothing'), 'still a restore claim');
  }
  t.strictSame(out.response.warnings, c.warnings, 'warnings');
  if (c.lookups) t.strictSame(deps.calls, c.lookups, 'lookups');
  return out;
}


for (const [group, cases] of [
  ['validate CREATE', validateCreate],
  ['validate UPDATE', validateUpdate],
  ['mutate', mutateCases],
] as const) {
  t.test(group, async (t) => {
    for (const c of cases) await t.test(c.name, async (t) => void (await run(t, c)));
  });
}

t.test('patches: applying the mutation yields the defaulted claim, with the key escaped per RFC 6901', async (t) => {
  const deps = fakeDeps();
  const pvc = restorePvc({ storageClassName: null, storage: null, annotations: { 'a~b/c': 'x' } });
  const out = await reviewPersistentVolumeClaim(mutateCreate(pvc), 'mutate', deps);
  const ops = JSON.parse(Buffer.from(out.response.patch!, 'base64').toString('utf8'));
  const patched = jsonpatch.applyPatch(structuredClone(pvc), ops, true, false).newDocument;
  t.strictSame(patched.metadata!.annotations, {
    'a~b/c': 'x',
    [SNAPSHOT_ANNOTATION]: 'snap1',
    [SNAPSHOT_UID_ANNOTATION]: 'uid-of-snap1',
  });
  t.equal(patched.spec!.storageClassName, 'snapshot-promoter');
  t.strictSame(patched.spec!.resources, { requests: { storage: '5Gi' } });
  t.equal(escapeJsonPointer('a~b/c'), 'a~0b~1c');
  // and the mutated claim passes validation
  const verdict = await reviewPersistentVolumeClaim(create(patched), 'validate', fakeDeps());
  t.equal(verdict.response.allowed, true);
});

t.test('v1beta1 reviews are answered in v1beta1', async (t) => {
  const out = await reviewPersistentVolumeClaim(admissionReview('CREATE', persisted(restorePvc({ storage: '1Gi' })), undefined, { apiVersion: 'admission.k8s.io/v1beta1' }), 'validate', fakeDeps());
  t.equal(out.apiVersion, 'admission.k8s.io/v1beta1');
  t.equal(out.response.allowed, false);
});

t.test('each review is logged with uid, namespace/name, operation and decision', async (t) => {
  const entries: Record<string, unknown>[] = [];
  const deps = { ...fakeDeps(), log: (e: Record<string, unknown>) => entries.push(e) };
  const review = create(restorePvc({ storage: '1Gi' }), { dryRun: true });
  await reviewPersistentVolumeClaim(review, 'validate', deps);
  t.match(entries, [
    {
      msg: 'admission review',
      webhook: 'validate',
      uid: (review.request as { uid: string }).uid,
      namespace: 'default',
      name: 'restored',
      operation: 'CREATE',
      dryRun: true,
      allowed: false,
      message: `cannot restore from VolumeSnapshot "snap1": requested 1Gi is smaller than the snapshot's size 5Gi`,
    },
  ]);
});

t.test('lookup failures propagate (kube-apiserver then applies failurePolicy)', async (t) => {
  const deps = fakeDeps({ failOnLookup: true });
  await t.rejects(reviewPersistentVolumeClaim(create(restorePvc()), 'validate', deps), /unexpected lookup: snapshot default\/snap1/);
  // ...but a claim that restores nothing never looks anything up
  const out = await reviewPersistentVolumeClaim(create(restorePvc({ snapshot: null })), 'validate', deps);
  t.equal(out.response.allowed, true);
});
