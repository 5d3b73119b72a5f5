// The restore-PVC rules: which PersistentVolumeClaims restore a VolumeSnapshot, whether such a claim can work, and
// what the mutating webhook fills in. Pure functions from plain data to a Decision; the AdmissionReview plumbing and
// the lookups live in admission-review.ts.
import { isDNS1123Subdomain } from '../apimachinery/object-meta-validation.js';
import { Quantity, QuantityError, formatBytesBinary } from '../apimachinery/quantity.js';
import { type FieldError, fieldErrors, formatFieldError } from '../apimachinery/status-error.js';
import {
  GROUP,
  PROMOTER_PROVISIONER,
  SNAPSHOT_ANNOTATION,
  type ObjectMeta,
  type VolumeSnapshot,
  type VolumeSnapshotCondition,
  type VolumeSnapshotData,
} from '../apis/volumesnapshot/v1/types.js';

/** Set by the mutating webhook: the uid of the snapshot the claim was admitted against (a re-created snapshot of the
 * same name has another uid, so the promoter can tell). */
export const SNAPSHOT_UID_ANNOTATION = `${GROUP}/snapshot-uid`;

const STORAGE_FIELD = 'spec.resources.requests.storage';
const ANNOTATION_FIELD = `metadata.annotations[${SNAPSHOT_ANNOTATION}]`;
const UID_ANNOTATION_FIELD = `metadata.annotations[${SNAPSHOT_UID_ANNOTATION}]`;

// ---- the PersistentVolumeClaim, as much of core/v1 as the rules read ----

export interface TypedLocalObjectReference {
  apiGroup?: string | null;
  kind?: string;
  name?: string;
}

export interface TypedObjectReference extends TypedLocalObjectReference {
  namespace?: string | null;
}

export interface PersistentVolumeClaim {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    accessModes?: string[];
    resources?: {
      requests?: Record<string, string | number>;
      limits?: Record<string, string | number>;
    };
    storageClassName?: string | null;
    volumeMode?: string | null;
    volumeName?: string;
    dataSource?: TypedLocalObjectReference | null;
    dataSourceRef?: TypedObjectReference | null;
    [key: string]: unknown;
  };
  status?: Record<string, unknown>;
}

export interface StorageClassInfo {
  metadata: { name: string; annotations?: Record<string, string> };
  provisioner: string;
  parameters?: Record<string, string>;
}

export interface RestoreOptions {
  /** `--restore-storage-class`: the class the mutating webhook defaults to. */
  restoreStorageClass: string;
}

// ---- decisions ----

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

export type Decision =
  | { allowed: true; warnings: string[]; patch?: JsonPatchOp[] }
  | { allowed: false; code: number; reason: 'Forbidden'; message: string; warnings: string[] };

export function allow(warnings: string[] = [], patch?: JsonPatchOp[]): Decision {
  return patch && patch.length > 0 ? { allowed: true, warnings, patch } : { allowed: true, warnings };
}

/**
 * Every denial is 403 Forbidden: kube-apiserver passes a webhook's code and reason through to the client, and kubectl
 * prints a reason-Invalid error without details as "The request is invalid: …", hiding the webhook's usual framing.
 */
export function deny(message: string, warnings: string[] = []): Decision {
  return { allowed: false, code: 403, reason: 'Forbidden', message, warnings };
}

// ---- which claims restore a snapshot ----

export type RestoreSourceField = 'annotation' | 'dataSource' | 'dataSourceRef';

export interface RestoreSourceRef {
  field: RestoreSourceField;
  /** The snapshot name as written (possibly empty or invalid: the rules report it). */
  name: string;
  /** dataSourceRef.namespace, when set. */
  namespace?: string;
}

export interface RestoreSource {
  /** The snapshot to restore (the first reference found, annotation first). */
  name: string;
  refs: RestoreSourceRef[];
}

function isSnapshotReference(ref: TypedLocalObjectReference | null | undefined): ref is TypedLocalObjectReference {
  return !!ref && typeof ref === 'object' && ref.apiGroup === GROUP && ref.kind === 'VolumeSnapshot';
}

/** The snapshot a claim restores, or undefined for every other claim (which the webhooks let through untouched). */
export function isRestorePvc(pvc: PersistentVolumeClaim | undefined): RestoreSource | undefined {
  if (!pvc || typeof pvc !== 'object') return undefined;
  const refs: RestoreSourceRef[] = [];
  const annotations = pvc.metadata?.annotations;
  if (annotations && typeof annotations === 'object' && Object.prototype.hasOwnProperty.call(annotations, SNAPSHOT_ANNOTATION)) {
    refs.push({ field: 'annotation', name: String(annotations[SNAPSHOT_ANNOTATION]) });
  }
  const spec = pvc.spec;
  if (spec && typeof spec === 'object') {
    if (isSnapshotReference(spec.dataSource)) refs.push({ field: 'dataSource', name: String(spec.dataSource.name ?? '') });
    const ref = spec.dataSourceRef;
    if (isSnapshotReference(ref)) {
      const r: RestoreSourceRef = { field: 'dataSourceRef', name: String(ref.name ?? '') };
      if (typeof ref.namespace === 'string' && ref.namespace !== '') r.namespace = ref.namespace;
      refs.push(r);
    }
  }
  return refs.length === 0 ? undefined : { name: refs[0].name, refs };
}

function refField(field: RestoreSourceField): string {
  switch (field) {
    case 'annotation':
      return ANNOTATION_FIELD;
    case 'dataSource':
      return 'spec.dataSource.name';
    case 'dataSourceRef':
      return 'spec.dataSourceRef.name';
  }
}

// VolumeSnapshot names are object names: IsDNS1123Subdomain (k8s.io/apimachinery/pkg/util/validation).
function objectNameErrors(field: string, name: string): FieldError[] {
  if (name === '') return [fieldErrors.required(field, 'the name of a VolumeSnapshot in the claim\'s namespace')];
  return isDNS1123Subdomain(name).map((msg) => fieldErrors.invalid(field, name, msg));
}

/**
 * Problems with the references themselves, before any lookup: invalid or empty names, two references naming different
 * snapshots, a cross-namespace dataSourceRef. Undefined when the source is usable.
 */
export function checkRestoreSource(source: RestoreSource, namespace: string): string | undefined {
  const errs: FieldError[] = [];
  for (const ref of source.refs) errs.push(...objectNameErrors(refField(ref.field), ref.name));
  if (errs.length > 0) return errs.map(formatFieldError).join('; ');
  const other = source.refs.find((r) => r.name !== source.name);
  if (other) {
    const first = source.refs[0];
    return `the claim names two snapshots: ${refField(first.field)} is ${JSON.stringify(first.name)} but ${refField(other.field)} is ${JSON.stringify(other.name)}`;
  }
  const crossNamespace = source.refs.find((r) => r.namespace !== undefined && r.namespace !== namespace);
  if (crossNamespace) {
    return formatFieldError(
      fieldErrors.forbidden('spec.dataSourceRef.namespace', `a VolumeSnapshot can only be restored in its own namespace (the claim is in ${JSON.stringify(namespace)})`),
    );
  }
  return undefined;
}

// ---- facts about the snapshot ----

/** The condition the snapshot is in now: the most recent one whose status is True (ties: the later in the list). */
export function currentCondition(snapshot: { status?: { conditions?: VolumeSnapshotCondition[] } }): VolumeSnapshotCondition | undefined {
  const all = snapshot.status?.conditions;
  const conditions = (Array.isArray(all) ? all : []).filter((c) => c && c.status === 'True');
  let best: VolumeSnapshotCondition | undefined;
  for (const c of conditions) {
    if (!best || (c.lastTransitionTime ?? '') >= (best.lastTransitionTime ?? '')) best = c;
  }
  return best;
}

export function isSnapshotReady(snapshot: VolumeSnapshot): boolean {
  return currentCondition(snapshot)?.type === 'Ready';
}

export type SnapshotSourceType = 'awsElasticBlockStore' | 'gcePersistentDisk' | 'hostPath';

interface SourceCapabilities {
  title: string;
  accessModes: string[];
  volumeModes: string[];
}

// What a volume restored from each kind of snapshot can be: an EBS volume attaches to one node; a PD attaches
// read-write to one node or read-only to many; a host directory can be shared, but is no block device.
const SOURCE_CAPABILITIES: Record<SnapshotSourceType, SourceCapabilities> = {
  awsElasticBlockStore: { title: 'an AWS EBS', accessModes: ['ReadWriteOnce'], volumeModes: ['Filesystem', 'Block'] },
  gcePersistentDisk: { title: 'a GCE PD', accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], volumeModes: ['Filesystem', 'Block'] },
  hostPath: { title: 'a hostPath', accessModes: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany'], volumeModes: ['Filesystem'] },
};

export function snapshotSourceType(data: VolumeSnapshotData | undefined): SnapshotSourceType | undefined {
  const spec = data?.spec;
  if (!spec) return undefined;
  if (spec.awsElasticBlockStore) return 'awsElasticBlockStore';
  if (spec.gcePersistentDisk) return 'gcePersistentDisk';
  if (spec.hostPath) return 'hostPath';
  return undefined;
}

// ---- quantities ----

type ParsedStorage = { ok: true; quantity: Quantity } | { ok: false; error: string } | { ok: 'absent' };

function requestedStorage(pvc: PersistentVolumeClaim): ParsedStorage {
  const requests = pvc.spec?.resources?.requests;
  if (!requests || typeof requests !== 'object' || !Object.prototype.hasOwnProperty.call(requests, 'storage')) return { ok: 'absent' };
  return parseQuantityField(STORAGE_FIELD, requests.storage);
}

/** Quantity.UnmarshalJSON accepts a JSON string or a bare JSON number, trimmed. */
function parseQuantityField(field: string, raw: unknown): ParsedStorage {
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    return { ok: false, error: formatFieldError(fieldErrors.invalid(field, raw, 'must be a quantity')) };
  }
  const text = String(raw).trim();
  try {
    return { ok: true, quantity: Quantity.parse(text) };
  } catch (err) {
    if (err instanceof QuantityError) return { ok: false, error: formatFieldError(fieldErrors.invalid(field, raw, err.message)) };
    throw err;
  }
}

function human(q: Quantity): string {
  try {
    return formatBytesBinary(q.ceilInt());
  } catch {
    return q.toString();
  }
}

// ---- CREATE ----

export interface RestoreFacts {
  /** The VolumeSnapshot named by the claim, looked up in the claim's namespace. */
  snapshot: VolumeSnapshot | undefined;
  /** Its VolumeSnapshotData (says what kind of volume the snapshot is of), when it has one and it exists. */
  snapshotData: VolumeSnapshotData | undefined;
  /** The claim's storage class, when it names one other than the restore class (undefined: not found / not looked up). */
  storageClass: StorageClassInfo | undefined;
}

/**
 * Whether a restore claim can work, at CREATE (the validating webhook, after the mutating one has filled in the
 * defaults). `namespace` is the claim's namespace (the request's).
 */
export function decideRestoreCreate(
  pvc: PersistentVolumeClaim,
  namespace: string,
  facts: RestoreFacts,
  options: RestoreOptions,
): Decision {
  const source = isRestorePvc(pvc);
  if (!source) return allow();
  const sourceProblem = checkRestoreSource(source, namespace);
  if (sourceProblem) return deny(sourceProblem);

  const prefix = `cannot restore from VolumeSnapshot ${JSON.stringify(source.name)}: `;
  const { snapshot, snapshotData } = facts;
  if (!snapshot) return deny(`${prefix}it does not exist in namespace ${JSON.stringify(namespace)}`);
  if (snapshot.metadata?.deletionTimestamp) return deny(`${prefix}it is being deleted`);
  if (!isSnapshotReady(snapshot)) return deny(prefix + notReadyText(snapshot));
  // Set by the mutating webhook from the same snapshot; a different value is forged, or the snapshot was deleted and
  // re-created between the two webhooks.
  const recordedUid = pvc.metadata?.annotations?.[SNAPSHOT_UID_ANNOTATION];
  if (recordedUid !== undefined && snapshot.metadata?.uid && recordedUid !== snapshot.metadata.uid) {
    return deny(
      formatFieldError(
        fieldErrors.invalid(UID_ANNOTATION_FIELD, recordedUid, `must be the uid of VolumeSnapshot ${JSON.stringify(source.name)} (${snapshot.metadata.uid})`),
      ),
    );
  }

  const dataName = snapshot.spec?.snapshotDataName;
  if (!dataName) return deny(`${prefix}it is Ready but names no VolumeSnapshotData`);
  if (!snapshotData) return deny(`${prefix}its VolumeSnapshotData ${JSON.stringify(dataName)} does not exist`);
  const sourceType = snapshotSourceType(snapshotData);
  if (!sourceType) {
    return deny(
      `${prefix}its VolumeSnapshotData ${JSON.stringify(dataName)} has no source this server can restore (awsElasticBlockStore, gcePersistentDisk or hostPath)`,
    );
  }

  const problems: string[] = [];
  const warnings: string[] = [];

  // Size: at least the snapshot's restoreSize.
  const requested = requestedStorage(pvc);
  const restoreSize = snapshotRestoreSize(snapshot);
  if (requested.ok === false) return deny(requested.error);
  if (requested.ok === 'absent') {
    const hint = restoreSize ? `at least the snapshot's size ${human(restoreSize)}` : 'the size of the volume to restore';
    return deny(formatFieldError(fieldErrors.required(STORAGE_FIELD, hint)));
  }
  if (!restoreSize) {
    warnings.push(`VolumeSnapshot ${JSON.stringify(source.name)} does not record its size (status.restoreSize); the requested size is not checked`);
  } else if (requested.quantity.cmp(restoreSize) < 0) {
    problems.push(`requested ${human(requested.quantity)} is smaller than the snapshot's size ${human(restoreSize)}`);
  }

  // Storage class: the restore class, or any class the promoter provisions.
  const classProblem = storageClassProblem(pvc.spec?.storageClassName, facts.storageClass, options);
  if (classProblem) problems.push(classProblem);

  // Access modes and volume mode the restored volume can have.
  const caps = SOURCE_CAPABILITIES[sourceType];
  for (const mode of pvc.spec?.accessModes ?? []) {
    if (!caps.accessModes.includes(mode)) {
      problems.push(
        `access mode ${JSON.stringify(mode)} is not possible for a volume restored from ${caps.title} snapshot (possible: ${quoteList(caps.accessModes)})`,
      );
    }
  }
  const volumeMode = pvc.spec?.volumeMode ?? 'Filesystem';
  if (!caps.volumeModes.includes(volumeMode)) {
    problems.push(
      `volume mode ${JSON.stringify(volumeMode)} is not possible for a volume restored from ${caps.title} snapshot (possible: ${quoteList(caps.volumeModes)})`,
    );
  }

  if (problems.length > 0) return deny(prefix + problems.join('; '), warnings);
  return allow(warnings);
}

function quoteList(values: string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function notReadyText(snapshot: VolumeSnapshot): string {
  const c = currentCondition(snapshot);
  if (!c) return 'it is not ready yet; it has no current condition';
  let text = `it is not ready; its current condition is ${c.type}`;
  if (c.reason) text += ` (${c.reason})`;
  if (c.message) text += `: ${c.message}`;
  return text;
}

/** status.restoreSize, when present and a quantity (a malformed one is treated as unknown). */
export function snapshotRestoreSize(snapshot: VolumeSnapshot | undefined): Quantity | undefined {
  const raw = snapshot?.status?.restoreSize;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const parsed = parseQuantityField('status.restoreSize', raw);
  return parsed.ok === true ? parsed.quantity : undefined;
}

function storageClassProblem(
  className: string | null | undefined,
  storageClass: StorageClassInfo | undefined,
  options: RestoreOptions,
): string | undefined {
  if (className === options.restoreStorageClass) return undefined;
  if (storageClass && storageClass.metadata?.name === className && storageClass.provisioner === PROMOTER_PROVISIONER) return undefined;
  const wanted = `the storage class must be ${JSON.stringify(options.restoreStorageClass)} or another class whose provisioner is ${JSON.stringify(PROMOTER_PROVISIONER)}`;
  if (className === undefined || className === null || className === '') return `${wanted}; the claim names none`;
  if (!storageClass) return `${wanted}; storage class ${JSON.stringify(className)} does not exist`;
  return `${wanted}; ${JSON.stringify(className)} has provisioner ${JSON.stringify(storageClass.provisioner)}`;
}

/** Whether validation needs the claim's storage class looked up (only a class other than the restore class). */
export function storageClassToLookUp(pvc: PersistentVolumeClaim, options: RestoreOptions): string | undefined {
  const name = pvc.spec?.storageClassName;
  return typeof name === 'string' && name !== '' && name !== options.restoreStorageClass ? name : undefined;
}

// ---- UPDATE ----

/**
 * UPDATE of a claim that restores (or restored) a snapshot: its snapshot references are immutable, as is the recorded
 * snapshot uid once set, and the request may not shrink.
 */
export function decideRestoreUpdate(newPvc: PersistentVolumeClaim, oldPvc: PersistentVolumeClaim | undefined): Decision {
  if (!isRestorePvc(newPvc) && !isRestorePvc(oldPvc)) return allow();
  const errs: FieldError[] = [];

  const newAnnotations = newPvc.metadata?.annotations ?? {};
  const oldAnnotations = oldPvc?.metadata?.annotations ?? {};
  if ((newAnnotations[SNAPSHOT_ANNOTATION] ?? '') !== (oldAnnotations[SNAPSHOT_ANNOTATION] ?? '')) {
    errs.push(fieldErrors.immutable(ANNOTATION_FIELD, newAnnotations[SNAPSHOT_ANNOTATION] ?? ''));
  }
  const oldUid = oldAnnotations[SNAPSHOT_UID_ANNOTATION];
  if (oldUid !== undefined && newAnnotations[SNAPSHOT_UID_ANNOTATION] !== oldUid) {
    errs.push(fieldErrors.immutable(UID_ANNOTATION_FIELD, newAnnotations[SNAPSHOT_UID_ANNOTATION] ?? ''));
  }
  for (const key of ['dataSource', 'dataSourceRef'] as const) {
    const a = newPvc.spec?.[key] ?? null;
    const b = oldPvc?.spec?.[key] ?? null;
    if (!sameJson(a, b)) errs.push(fieldErrors.immutable(`spec.${key}`, a));
  }

  const now = requestedStorage(newPvc);
  if (now.ok === false) return deny(now.error);
  const before = oldPvc ? requestedStorage(oldPvc) : ({ ok: 'absent' } as ParsedStorage);
  if (now.ok === true && before.ok === true && now.quantity.cmp(before.quantity) < 0) {
    // Upstream's own wording for a shrinking claim (pkg/apis/core/validation ValidatePersistentVolumeClaimUpdate).
    errs.push(fieldErrors.forbidden(STORAGE_FIELD, 'field can not be less than previous value'));
  }
  if (now.ok === 'absent' && before.ok === true) errs.push(fieldErrors.forbidden(STORAGE_FIELD, 'field can not be less than previous value'));

  if (errs.length > 0) return deny(errs.map(formatFieldError).join('; '));
  return allow();
}

/** JSON equality with object keys in any order. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

// ---- mutation ----

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
export function escapeJsonPointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The patch the mutating webhook applies to a restore claim at CREATE: the storage class defaults to the restore class,
 * `requests.storage` to the snapshot's restoreSize, and the snapshot's uid is recorded. A missing snapshot (the
 * validating webhook denies that) only gets the storage-class default.
 */
/** A JSON object (not null, not an array): `typeof [] === 'object'` would let a patch path walk into an array. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function mutateRestore(pvc: PersistentVolumeClaim, snapshot: VolumeSnapshot | undefined, options: RestoreOptions): JsonPatchOp[] {
  if (!isRestorePvc(pvc)) return [];
  const ops: JsonPatchOp[] = [];
  const spec = pvc.spec;
  const specAdds: Record<string, unknown> = {};

  if (spec?.storageClassName === undefined || spec?.storageClassName === null) specAdds.storageClassName = options.restoreStorageClass;

  const restoreSize = snapshotRestoreSize(snapshot);
  const requests = spec?.resources?.requests;
  const hasStorage = isPlainObject(requests) && Object.prototype.hasOwnProperty.call(requests, 'storage');
  if (restoreSize && !hasStorage) {
    // Whole bytes in the human form (5368709120 → 5Gi): what the user would have written.
    const storage = human(restoreSize);
    if (!isPlainObject(spec)) {
      specAdds.resources = { requests: { storage } };
    } else if (!isPlainObject(spec.resources)) {
      specAdds.resources = { requests: { storage } };
    } else if (!isPlainObject(requests)) {
      ops.push({ op: 'add', path: '/spec/resources/requests', value: { storage } });
    } else {
      ops.push({ op: 'add', path: '/spec/resources/requests/storage', value: storage });
    }
  }

  if (Object.keys(specAdds).length > 0) {
    if (!isPlainObject(spec)) {
      ops.unshift({ op: 'add', path: '/spec', value: specAdds });
    } else {
      const adds = Object.entries(specAdds).map(([k, v]): JsonPatchOp => ({ op: 'add', path: `/spec/${escapeJsonPointer(k)}`, value: v }));
      ops.unshift(...adds);
    }
  }

  const uid = snapshot?.metadata?.uid;
  if (uid) ops.push(...setAnnotation(pvc, SNAPSHOT_UID_ANNOTATION, uid));
  return ops;
}

/**
 * At UPDATE: a claim that lost the recorded snapshot uid (e.g. `kubectl replace` with the original manifest) gets it
 * back from the old object, so that the immutability rule does not refuse an innocent replace.
 */
export function mutateRestoreUpdate(newPvc: PersistentVolumeClaim, oldPvc: PersistentVolumeClaim | undefined): JsonPatchOp[] {
  const oldUid = oldPvc?.metadata?.annotations?.[SNAPSHOT_UID_ANNOTATION];
  if (oldUid === undefined || !isRestorePvc(oldPvc)) return [];
  const annotations = newPvc.metadata?.annotations;
  if (annotations && Object.prototype.hasOwnProperty.call(annotations, SNAPSHOT_UID_ANNOTATION)) return [];
  return setAnnotation(newPvc, SNAPSHOT_UID_ANNOTATION, oldUid);
}

function setAnnotation(pvc: PersistentVolumeClaim, key: string, value: string): JsonPatchOp[] {
  if (!isPlainObject(pvc.metadata)) return [{ op: 'add', path: '/metadata', value: { annotations: { [key]: value } } }];
  const annotations = pvc.metadata.annotations;
  if (!isPlainObject(annotations)) return [{ op: 'add', path: '/metadata/annotations', value: { [key]: value } }];
  return [{ op: 'add', path: `/metadata/annotations/${escapeJsonPointer(key)}`, value }];
}
