// AdmissionReviews as kube-apiserver builds them for PersistentVolumeClaims, and in-memory lookups for the webhooks.
// (k8s.io/apiserver/pkg/admission/plugin/webhook/request/admissionreview.go CreateV1AdmissionReview: the mutating
// webhook sees the object before BeforeCreate, so without uid/creationTimestamp; the validating one after.)
import { randomUUID } from 'node:crypto';
import type { AdmissionDeps } from '../../src/admission/admission-review.js';
import type { PersistentVolumeClaim, StorageClassInfo } from '../../src/admission/restore-rules.js';
import {
  API_VERSION,
  PROMOTER_PROVISIONER,
  SNAPSHOT_ANNOTATION,
  type VolumeSnapshot,
  type VolumeSnapshotCondition,
  type VolumeSnapshotData,
} from '../../src/apis/volumesnapshot/v1/types.js';

export const GROUP = 'volumesnapshot.external-storage.k8s.io';
export const RESTORE_CLASS = 'snapshot-promoter';

export function snapshot(
  name: string,
  opts: {
    namespace?: string;
    restoreSize?: string;
    dataName?: string;
    conditions?: VolumeSnapshotCondition[];
    deleting?: boolean;
    uid?: string;
  } = {},
): VolumeSnapshot {
  const ready: VolumeSnapshotCondition[] = [
    { type: 'Pending', status: 'False', lastTransitionTime: '2026-11-26T10:00:00Z', reason: 'SnapshotCreated' },
    { type: 'Ready', status: 'True', lastTransitionTime: '2026-11-26T10:01:00Z', reason: 'SnapshotReady', message: 'Snapshot is uploaded' },
  ];
  const s: VolumeSnapshot = {
    apiVersion: API_VERSION,
    kind: 'VolumeSnapshot',
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      uid: opts.uid ?? `uid-of-${name}`,
      resourceVersion: '42',
      creationTimestamp: '2026-11-26T10:00:00Z',
    },
    spec: { persistentVolumeClaimName: 'data', snapshotDataName: opts.dataName ?? `k8s-volume-snapshot-${name}` },
    status: { creationTimestamp: '2026-11-26T10:00:00Z', conditions: opts.conditions ?? ready },
  };
  if (opts.restoreSize !== undefined) s.status!.restoreSize = opts.restoreSize;
  if (opts.deleting) {
    s.metadata.deletionTimestamp = '2026-11-26T11:00:00Z';
    s.metadata.finalizers = ['volumesnapshot.external-storage.k8s.io/volumesnapshot-protection'];
  }
  return s;
}

export function snapshotData(name: string, source: VolumeSnapshotData['spec'] | Record<string, unknown>): VolumeSnapshotData {
  return {
    apiVersion: API_VERSION,
    kind: 'VolumeSnapshotData',
    metadata: { name, uid: `uid-of-${name}`, resourceVersion: '41' },
    spec: {
      volumeSnapshotRef: { kind: 'VolumeSnapshot', namespace: 'default', name: name.replace('k8s-volume-snapshot-', '') },
      persistentVolumeRef: { kind: 'PersistentVolume', name: 'pv-data' },
      ...source,
    },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export function storageClass(name: string, provisioner: string): StorageClassInfo {
  return { metadata: { name }, provisioner };
}

export interface FakeLookups extends AdmissionDeps {
  calls: string[];
}

export function fakeDeps(opts: { failOnLookup?: boolean } = {}): FakeLookups {
  const snapshots = new Map<string, VolumeSnapshot>();
  const datas = new Map<string, VolumeSnapshotData>();
  const classes = new Map<string, StorageClassInfo>();
  const add = (s: VolumeSnapshot, source?: VolumeSnapshotData['spec'] | Record<string, unknown>) => {
    snapshots.set(`${s.metadata.namespace}/${s.metadata.name}`, s);
    if (source) datas.set(s.spec.snapshotDataName!, snapshotData(s.spec.snapshotDataName!, source));
  };
  const ebs = { awsElasticBlockStore: { snapshotId: 'snap-0123456789abcdef0', fsType: 'ext4' } };
  const gce = { gcePersistentDisk: { snapshotId: 'pd-snapshot-1' } };
  const host = { hostPath: { snapshot: '/var/lib/volumesnapshot/snapshots/abc.tgz' } };
  add(snapshot('snap1', { restoreSize: '5Gi' }), ebs);
  add(snapshot('snap-gce', { restoreSize: '10Gi' }), gce);
  add(snapshot('snap-host', { restoreSize: '1536Mi' }), host);
  add(snapshot('snap-bytes', { restoreSize: '5368709120' }), ebs);
  add(
    snapshot('snap-pending', {
      restoreSize: '5Gi',
      conditions: [
        { type: 'Pending', status: 'True', lastTransitionTime: '2026-11-26T10:00:00Z', message: 'snapshot of claim "data" is being created' },
      ],
    }),
    ebs,
  );
  add(
    snapshot('snap-error', {
      restoreSize: '5Gi',
      conditions: [
        { type: 'Pending', status: 'True', lastTransitionTime: '2026-11-26T10:00:00Z', message: 'creating' },
        {
          type: 'Error',
          status: 'True',
          lastTransitionTime: '2026-11-26T10:05:00Z',
          reason: 'SnapshotCreationFailed',
          message: 'RequestLimitExceeded: Request limit exceeded.',
        },
      ],
    }),
    ebs,
  );
  add(snapshot('snap-new', { restoreSize: '5Gi', conditions: [] }), ebs);
  add(snapshot('snap-deleting', { restoreSize: '5Gi', deleting: true }), ebs);
  add(snapshot('snap-nosize'), ebs);
  add(snapshot('snap-nodata', { restoreSize: '5Gi', dataName: 'k8s-volume-snapshot-missing' }));
  add(snapshot('snap-cinder', { restoreSize: '5Gi' }), { cinderVolume: { snapshotId: 'c1' } });
  add(snapshot('team-snap', { namespace: 'team-b', restoreSize: '2Gi' }), ebs);
  classes.set(RESTORE_CLASS, storageClass(RESTORE_CLASS, PROMOTER_PROVISIONER));
  classes.set('fast-restore', storageClass('fast-restore', PROMOTER_PROVISIONER));
  classes.set('gp2', storageClass('gp2', 'kubernetes.io/aws-ebs'));

  const calls: string[] = [];
  const check = (what: string) => {
    calls.push(what);
    if (opts.failOnLookup) throw new Error(`unexpected lookup: ${what}`);
  };
  return {
    calls,
    restoreStorageClass: RESTORE_CLASS,
    async getSnapshot(namespace, name) {
      check(`snapshot ${namespace}/${name}`);
      return structuredClone(snapshots.get(`${namespace}/${name}`));
    },
    async getSnapshotData(name) {
      check(`data ${name}`);
      return structuredClone(datas.get(name));
    },
    async getStorageClass(name) {
      check(`class ${name}`);
      return structuredClone(classes.get(name));
    },
  };
}

/** A restore claim as a user writes it, with the defaults the mutating webhook would have filled in. */
export function restorePvc(
  opts: {
    name?: string;
    namespace?: string;
    snapshot?: string | null;
    storage?: string | number | null;
    storageClassName?: string | null;
    accessModes?: string[];
    volumeMode?: string;
    dataSource?: Record<string, unknown>;
    dataSourceRef?: Record<string, unknown>;
    annotations?: Record<string, string>;
  } = {},
): PersistentVolumeClaim {
  const annotations: Record<string, string> = { ...opts.annotations };
  if (opts.snapshot !== null) annotations[SNAPSHOT_ANNOTATION] = opts.snapshot ?? 'snap1';
  const pvc: PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: opts.name ?? 'restored', namespace: opts.namespace ?? 'default' },
    spec: {
      accessModes: opts.accessModes ?? ['ReadWriteOnce'],
      resources: { requests: {} },
      volumeMode: opts.volumeMode ?? 'Filesystem',
    },
  };
  if (Object.keys(annotations).length > 0) pvc.metadata!.annotations = annotations;
  if (opts.storage !== null) pvc.spec!.resources!.requests!.storage = opts.storage ?? '5Gi';
  if (opts.storageClassName !== null) pvc.spec!.storageClassName = opts.storageClassName ?? RESTORE_CLASS;
  if (opts.dataSource) pvc.spec!.dataSource = opts.dataSource;
  if (opts.dataSourceRef) pvc.spec!.dataSourceRef = opts.dataSourceRef;
  return pvc;
}

/** What kube-apiserver's BeforeCreate adds before validating admission. */
export function persisted(pvc: PersistentVolumeClaim): PersistentVolumeClaim {
  const out = structuredClone(pvc);
  out.metadata = { ...out.metadata, uid: randomUUID(), creationTimestamp: '2026-11-26T12:00:00Z' };
  out.status = { phase: 'Pending' };
  return out;
}

let counter = 0;

export function admissionReview(
  operation: 'CREATE' | 'UPDATE' | 'DELETE',
  object: PersistentVolumeClaim | undefined,
  oldObject?: PersistentVolumeClaim,
  opts: { apiVersion?: string; dryRun?: boolean; subResource?: string; namespace?: string } = {},
): Record<string, unknown> {
  const gvk = { group: '', version: 'v1', kind: 'PersistentVolumeClaim' };
  const gvr = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
  const meta = (object ?? oldObject)?.metadata;
  const optionsKind = operation === 'CREATE' ? 'CreateOptions' : operation === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions';
  const request: Record<string, unknown> = {
    uid: `705ab4f5-6393-11e8-b7cc-42010a80${String(++counter).padStart(4, '0')}`,
    kind: gvk,
    resource: gvr,
    requestKind: gvk,
    requestResource: gvr,
    name: meta?.name ?? '',
    namespace: opts.namespace ?? meta?.namespace ?? 'default',
    operation,
    userInfo: { username: 'alice', uid: 'alice-uid', groups: ['developers', 'system:authenticated'] },
    object: object ?? null,
    oldObject: oldObject ?? null,
    dryRun: opts.dryRun ?? false,
    options: { kind: optionsKind, apiVersion: 'meta.k8s.io/v1', ...(operation === 'DELETE' ? {} : { fieldManager: 'kubectl-create' }) },
  };
  if (opts.subResource) {
    request.subResource = opts.subResource;
    request.requestSubResource = opts.subResource;
  }
  return { kind: 'AdmissionReview', apiVersion: opts.apiVersion ?? 'admission.k8s.io/v1', request };
}
