// AdmissionReview in and out (k8s.io/api/admission/v1 and v1beta1, the same shape), and the one entry point that both
// the HTTPS webhook routes and the standalone local cluster call: reviewPersistentVolumeClaim.
import { StatusError } from '../apimachinery/status-error.js';
import type { VolumeSnapshot, VolumeSnapshotData } from '../apis/volumesnapshot/v1/types.js';
import {
  type Decision,
  type JsonPatchOp,
  type PersistentVolumeClaim,
  type StorageClassInfo,
  allow,
  checkRestoreSource,
  decideRestoreCreate,
  decideRestoreUpdate,
  deny,
  isRestorePvc,
  isSnapshotReady,
  mutateRestore,
  mutateRestoreUpdate,
  storageClassToLookUp,
} from './restore-rules.js';

/** The webhook names suggested for manifests/ (kubectl shows them in every denial: `admission webhook "<name>" denied the request: …`). */
export const MUTATING_WEBHOOK_NAME = 'mutate.restore-pvc.volumesnapshot.external-storage.k8s.io';
export const VALIDATING_WEBHOOK_NAME = 'validate.restore-pvc.volumesnapshot.external-storage.k8s.io';

export const ADMISSION_V1 = 'admission.k8s.io/v1';
export const ADMISSION_V1BETA1 = 'admission.k8s.io/v1beta1';
export type AdmissionApiVersion = typeof ADMISSION_V1 | typeof ADMISSION_V1BETA1;

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
export type AdmissionMode = 'mutate' | 'validate';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  name?: string;
  namespace?: string;
  operation: AdmissionOperation;
  userInfo?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
  options?: unknown;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: 'JSONPatch';
  /** base64 of the JSON Patch document. */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: AdmissionApiVersion;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export interface AdmissionDeps {
  getSnapshot(namespace: string, name: string): Promise<VolumeSnapshot | undefined>;
  getSnapshotData(name: string): Promise<VolumeSnapshotData | undefined>;
  getStorageClass(name: string): Promise<StorageClassInfo | undefined>;
  /** `--restore-storage-class` (default `snapshot-promoter`). */
  restoreStorageClass: string;
  log?: (entry: Record<string, unknown>) => void;
}

const OPERATIONS: ReadonlySet<string> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A parsed, checked review. Anything malformed is a 400 (StatusError.badRequest), never a crash. */
export interface ParsedReview {
  apiVersion: AdmissionApiVersion;
  request: AdmissionRequest;
  object?: PersistentVolumeClaim;
  oldObject?: PersistentVolumeClaim;
  namespace: string;
}

export function parseAdmissionReview(review: unknown): ParsedReview {
  if (!isObject(review)) throw StatusError.badRequest('the body of the request is not an AdmissionReview: expected a JSON object');
  const { apiVersion, kind, request } = review;
  if (apiVersion !== ADMISSION_V1 && apiVersion !== ADMISSION_V1BETA1) {
    throw StatusError.badRequest(
      `unsupported AdmissionReview apiVersion ${JSON.stringify(apiVersion ?? '')}: expected ${JSON.stringify(ADMISSION_V1)} or ${JSON.stringify(ADMISSION_V1BETA1)}`,
    );
  }
  if (kind !== 'AdmissionReview') throw StatusError.badRequest(`expected kind "AdmissionReview", got ${JSON.stringify(kind ?? '')}`);
  if (!isObject(request)) throw StatusError.badRequest('the AdmissionReview has no request');
  if (typeof request.uid !== 'string' || request.uid === '') throw StatusError.badRequest('the AdmissionReview request has no uid');

  const resource = request.resource;
  if (!isObject(resource) || resource.group !== '' || resource.resource !== 'persistentvolumeclaims') {
    const got = isObject(resource) ? [resource.resource, resource.group].filter((s) => s).join('.') : '';
    throw StatusError.badRequest(`this webhook admits persistentvolumeclaims, not ${JSON.stringify(got)}`);
  }
  const gvk = request.kind;
  if (!isObject(gvk) || gvk.group !== '' || gvk.kind !== 'PersistentVolumeClaim') {
    const got = isObject(gvk) ? String(gvk.kind ?? '') : '';
    throw StatusError.badRequest(`this webhook admits PersistentVolumeClaim objects, not ${JSON.stringify(got)}`);
  }
  if (typeof request.operation !== 'string' || !OPERATIONS.has(request.operation)) {
    throw StatusError.badRequest(`unsupported operation ${JSON.stringify(request.operation ?? '')}: expected CREATE, UPDATE, DELETE or CONNECT`);
  }
  const operation = request.operation as AdmissionOperation;

  let object: PersistentVolumeClaim | undefined;
  let oldObject: PersistentVolumeClaim | undefined;
  if (operation === 'CREATE' || operation === 'UPDATE') object = checkClaim(request.object, 'object');
  if (operation === 'UPDATE') oldObject = checkClaim(request.oldObject, 'oldObject');

  let namespace = typeof request.namespace === 'string' ? request.namespace : '';
  if (namespace === '') namespace = typeof object?.metadata?.namespace === 'string' ? object.metadata.namespace : '';
  if (namespace === '' && (operation === 'CREATE' || operation === 'UPDATE')) {
    throw StatusError.badRequest('the AdmissionReview request has no namespace (persistentvolumeclaims are namespaced)');
  }
  return { apiVersion, request: request as unknown as AdmissionRequest, object, oldObject, namespace };
}

function checkClaim(value: unknown, field: 'object' | 'oldObject'): PersistentVolumeClaim {
  if (!isObject(value)) throw StatusError.badRequest(`the AdmissionReview request has no ${field}`);
  if (value.kind !== undefined && value.kind !== 'PersistentVolumeClaim') {
    throw StatusError.badRequest(`request.${field} is a ${JSON.stringify(value.kind)}, not a PersistentVolumeClaim`);
  }
  if (value.apiVersion !== undefined && value.apiVersion !== 'v1') {
    throw StatusError.badRequest(`request.${field} has apiVersion ${JSON.stringify(value.apiVersion)}, expected "v1"`);
  }
  for (const key of ['metadata', 'spec'] as const) {
    if (value[key] !== undefined && value[key] !== null && !isObject(value[key])) {
      throw StatusError.badRequest(`request.${field}.${key} must be an object`);
    }
  }
  const spec = value.spec as Record<string, unknown> | undefined;
  if (spec) {
    if (spec.accessModes !== undefined && spec.accessModes !== null && !Array.isArray(spec.accessModes)) {
      throw StatusError.badRequest(`request.${field}.spec.accessModes must be an array`);
    }
    if (spec.resources !== undefined && spec.resources !== null && !isObject(spec.resources)) {
      throw StatusError.badRequest(`request.${field}.spec.resources must be an object`);
    }
  }
  const metadata = value.metadata as Record<string, unknown> | undefined;
  if (metadata?.annotations !== undefined && metadata.annotations !== null && !isObject(metadata.annotations)) {
    throw StatusError.badRequest(`request.${field}.metadata.annotations must be an object`);
  }
  return value as PersistentVolumeClaim;
}

/** The AdmissionReview answer, in the request's version. */
export function buildAdmissionResponse(apiVersion: AdmissionApiVersion, uid: string, decision: Decision): AdmissionReviewResponse {
  const response: AdmissionResponse = { uid, allowed: decision.allowed };
  if (!decision.allowed) {
    response.status = { code: decision.code, reason: decision.reason, message: decision.message };
  } else if (decision.patch && decision.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  if (decision.warnings.length > 0) response.warnings = decision.warnings;
  return { apiVersion, kind: 'AdmissionReview', response };
}

/**
 * Reviews one AdmissionReview for a PersistentVolumeClaim, as kube-apiserver sends it to the mutating (`mode:
 * 'mutate'`) or validating webhook. Malformed reviews throw StatusError 400; failed lookups propagate (the caller
 * answers 500 and kube-apiserver applies the webhook's failurePolicy). Claims that restore nothing are answered
 * without any lookup.
 */
export async function reviewPersistentVolumeClaim(
  review: unknown,
  mode: AdmissionMode,
  deps: AdmissionDeps,
): Promise<AdmissionReviewResponse> {
  const parsed = parseAdmissionReview(review);
  const decision = await decide(parsed, mode, deps);
  const { request } = parsed;
  deps.log?.({
    msg: 'admission review',
    webhook: mode,
    uid: request.uid,
    namespace: parsed.namespace,
    name: claimName(parsed),
    operation: request.operation,
    dryRun: request.dryRun === true,
    allowed: decision.allowed,
    ...(decision.allowed ? { patchOps: decision.patch?.length ?? 0 } : { message: decision.message }),
  });
  return buildAdmissionResponse(parsed.apiVersion, request.uid, decision);
}

function claimName(parsed: ParsedReview): string {
  if (parsed.request.name) return parsed.request.name;
  const meta = parsed.object?.metadata;
  if (meta?.name) return meta.name;
  if (meta?.generateName) return `${meta.generateName}*`;
  return '';
}

async function decide(parsed: ParsedReview, mode: AdmissionMode, deps: AdmissionDeps): Promise<Decision> {
  const { request, object, oldObject, namespace } = parsed;
  // Only the claim itself: a status update cannot change what it restores.
  if (request.subResource) return allow();
  const options = { restoreStorageClass: deps.restoreStorageClass };

  if (request.operation === 'UPDATE' && object) {
    return mode === 'mutate' ? allow([], mutateRestoreUpdate(object, oldObject)) : decideRestoreUpdate(object, oldObject);
  }
  if (request.operation !== 'CREATE' || !object) return allow();

  const source = isRestorePvc(object);
  if (!source) return allow();
  const sourceProblem = checkRestoreSource(source, namespace);

  if (mode === 'mutate') {
    // Defaults only; the validating webhook is the one that refuses.
    const snapshot = sourceProblem ? undefined : await deps.getSnapshot(namespace, source.name);
    return allow([], mutateRestore(object, snapshot, options));
  }

  if (sourceProblem) return deny(sourceProblem);
  const className = storageClassToLookUp(object, options);
  const [snapshot, storageClass] = await Promise.all([
    deps.getSnapshot(namespace, source.name),
    className ? deps.getStorageClass(className) : Promise.resolve(undefined),
  ]);
  const dataName = snapshot && !snapshot.metadata?.deletionTimestamp && isSnapshotReady(snapshot) ? snapshot.spec?.snapshotDataName : undefined;
  const snapshotData = dataName ? await deps.getSnapshotData(dataName) : undefined;
  return decideRestoreCreate(object, namespace, { snapshot, snapshotData, storageClass }, options);
}

export type { Decision, JsonPatchOp };
