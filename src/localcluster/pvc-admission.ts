// PVC admission in the local cluster, run exactly as kube-apiserver runs the project's webhooks: an AdmissionReview
// (admission.k8s.io/v1) built as k8s.io/apiserver/pkg/admission/plugin/webhook/request/admissionreview.go builds it,
// the mutating webhook first and its JSON patch applied, then the validating webhook on the mutated object; a denial
// becomes kube-apiserver's error (webhook/errors/statuserror.go ToStatusErr):
// `admission webhook "<name>" denied the request: <message>`.

import { randomUUID } from 'node:crypto';
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { KubeObject } from '../apimachinery/resource-definition.js';
import { StatusError, type StatusReason } from '../apimachinery/status-error.js';
import type { UserInfo } from '../apimachinery/user-info.js';
import {
  ADMISSION_V1,
  MUTATING_WEBHOOK_NAME,
  VALIDATING_WEBHOOK_NAME,
  reviewPersistentVolumeClaim,
  type AdmissionDeps,
  type AdmissionMode,
  type AdmissionReviewResponse,
} from '../admission/admission-review.js';

// The webhook names of manifests/base/webhooks.yaml; kubectl shows them in every denial.
export { MUTATING_WEBHOOK_NAME, VALIDATING_WEBHOOK_NAME };

export interface PvcAdmissionInput {
  operation: 'CREATE' | 'UPDATE';
  object: KubeObject;
  oldObject?: KubeObject;
  user: UserInfo;
  dryRun: boolean;
  namespace: string;
  name: string;
  /** The request's fieldManager, carried in the review's options as kube-apiserver does. */
  fieldManager?: string;
  /** Receives the webhooks' warnings (kube-apiserver sends them as `Warning` headers). */
  warnings?: string[];
}

export interface PvcAdmissionOptions {
  uid?: () => string;
}

const PVC_KIND = { group: '', version: 'v1', kind: 'PersistentVolumeClaim' };
const PVC_RESOURCE = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };

/** The AdmissionReview kube-apiserver sends for a PVC create or update (CreateAdmissionObjects, v1). */
export function buildPvcAdmissionReview(input: PvcAdmissionInput, uid: string): Record<string, unknown> {
  const userInfo: Record<string, unknown> = { username: input.user.username };
  if (input.user.uid) userInfo.uid = input.user.uid;
  if (input.user.groups.length) userInfo.groups = [...input.user.groups];
  if (input.user.extra && Object.keys(input.user.extra).length) userInfo.extra = structuredClone(input.user.extra);
  const options: Record<string, unknown> = {
    kind: input.operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions',
    apiVersion: 'meta.k8s.io/v1',
  };
  if (input.dryRun) options.dryRun = ['All'];
  if (input.fieldManager) options.fieldManager = input.fieldManager;
  return {
    kind: 'AdmissionReview',
    apiVersion: ADMISSION_V1,
    request: {
      uid,
      kind: PVC_KIND,
      resource: PVC_RESOURCE,
      requestKind: PVC_KIND,
      requestResource: PVC_RESOURCE,
      name: input.name,
      namespace: input.namespace,
      operation: input.operation,
      userInfo,
      object: structuredClone(input.object),
      oldObject: input.oldObject ? structuredClone(input.oldObject) : null,
      dryRun: input.dryRun,
      options,
    },
  };
}

/** ToStatusErr: the webhook's status with the message prefixed; a code below 400 becomes 400. */
export function webhookDenial(webhookName: string, status: { code?: number; reason?: string; message?: string } | undefined): StatusError {
  const deniedBy = `admission webhook ${JSON.stringify(webhookName)} denied the request`;
  const code = status?.code !== undefined && status.code >= 400 ? status.code : 400;
  let message: string;
  if (status?.message) message = `${deniedBy}: ${status.message}`;
  else if (status?.reason) message = `${deniedBy}: ${status.reason}`;
  else message = `${deniedBy} without explanation`;
  return new StatusError(code, (status?.reason || undefined) as StatusReason | undefined, message);
}

async function callWebhook(name: string, mode: AdmissionMode, review: Record<string, unknown>, deps: AdmissionDeps): Promise<AdmissionReviewResponse> {
  try {
    return await reviewPersistentVolumeClaim(review, mode, deps);
  } catch (err) {
    // failurePolicy Fail: kube-apiserver's wording for a webhook that could not answer.
    const msg = err instanceof StatusError ? err.message : (err as Error).message;
    throw StatusError.internal(`failed calling webhook ${JSON.stringify(name)}: ${msg}`);
  }
}

/**
 * The mutating webhook alone, as kube-apiserver calls it before the strategy runs: returns the patched object (or the
 * object itself when the webhook returns no patch); throws its denial.
 */
export async function mutatePersistentVolumeClaim(input: PvcAdmissionInput, deps: AdmissionDeps, options: PvcAdmissionOptions = {}): Promise<KubeObject> {
  const review = buildPvcAdmissionReview(input, (options.uid ?? randomUUID)());
  const answer = await callWebhook(MUTATING_WEBHOOK_NAME, 'mutate', review, deps);
  if (!answer.response.allowed) throw webhookDenial(MUTATING_WEBHOOK_NAME, answer.response.status);
  input.warnings?.push(...(answer.response.warnings ?? []));
  if (!answer.response.patch) return input.object;
  try {
    const ops = JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8')) as Operation[];
    return jsonpatch.applyPatch(structuredClone(input.object), ops, true, false).newDocument as KubeObject;
  } catch (err) {
    throw StatusError.internal(`received invalid webhook response: ${(err as Error).message}`);
  }
}

/** The validating webhook alone, as kube-apiserver calls it after the strategy validated the object. */
export async function validatePersistentVolumeClaimAdmission(input: PvcAdmissionInput, deps: AdmissionDeps, options: PvcAdmissionOptions = {}): Promise<void> {
  const review = buildPvcAdmissionReview(input, (options.uid ?? randomUUID)());
  const answer = await callWebhook(VALIDATING_WEBHOOK_NAME, 'validate', review, deps);
  if (!answer.response.allowed) throw webhookDenial(VALIDATING_WEBHOOK_NAME, answer.response.status);
  input.warnings?.push(...(answer.response.warnings ?? []));
}

/**
 * Admits a PVC create or update: the mutating webhook (its patch applied), then the validating webhook on the
 * mutated object. Returns the object to store (possibly mutated); throws the StatusError kube-apiserver would answer
 * on a denial.
 */
export async function admitPersistentVolumeClaim(input: PvcAdmissionInput, deps: AdmissionDeps, options: PvcAdmissionOptions = {}): Promise<KubeObject> {
  const object = await mutatePersistentVolumeClaim(input, deps, options);
  await validatePersistentVolumeClaimAdmission({ ...input, object }, deps, options);
  return object;
}
