// Validation of rendered objects against the Kubernetes OpenAPI schemas that kubernetes-models (tommy351's
// generated models, JSON Schemas per kind, checked with ajv) ships. Kinds it does not know (cert-manager's) are
// validated structurally by the caller.
import type { K8sObject } from './render-manifests.js';

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;

export function modelPath(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** Throws with the model's message when the object is invalid; returns false for a kind the package lacks. */
export async function validateAgainstSchema(obj: K8sObject): Promise<boolean> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modelPath(obj.apiVersion, obj.kind))) as Record<string, unknown>;
  } catch (err) {
    // Node reports the code on `code`; under tap's import hooks it may only be in the message.
    const e = err as { code?: string; message?: string };
    if (/ERR_PACKAGE_PATH_NOT_EXPORTED|ERR_MODULE_NOT_FOUND/.test(`${e.code ?? ''} ${e.message ?? ''}`)) return false;
    throw err;
  }
  const Ctor = mod[obj.kind] as ModelClass | undefined;
  if (!Ctor) return false;
  new Ctor(obj).validate();
  return true;
}

const GO_BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

/**
 * kustomize's secretGenerator (and so the caBundle replacements copied from it) wraps base64 at 70 columns.
 * kube-apiserver decodes `[]byte` fields with Go's encoding/base64, which ignores \r and \n
 * (https://pkg.go.dev/encoding/base64#Encoding.Decode), but the `byte` format of the JSON Schemas does not allow
 * them. So: check each such field is base64 the way Go reads it, and hand the schema its unwrapped form.
 */
export function goByteFieldsUnwrapped(obj: K8sObject): K8sObject {
  const copy = structuredClone(obj) as K8sObject & Record<string, unknown>;
  const fix = (value: unknown, where: string): string | undefined => {
    if (typeof value !== 'string') return undefined;
    if (!GO_BASE64.test(value)) throw new Error(`${where}: not base64`);
    const flat = value.replace(/[\r\n]/g, '');
    if (flat.length % 4 !== 0 || Buffer.from(flat, 'base64').toString('base64') !== flat) throw new Error(`${where}: not canonical base64`);
    return flat;
  };
  if (copy.kind === 'Secret' && copy.data && typeof copy.data === 'object') {
    const data = copy.data as Record<string, unknown>;
    for (const k of Object.keys(data)) data[k] = fix(data[k], `data.${k}`) ?? data[k];
  }
  if (copy.kind === 'APIService') {
    const spec = copy.spec as Record<string, unknown>;
    const flat = fix(spec.caBundle, 'spec.caBundle');
    if (flat !== undefined) spec.caBundle = flat;
  }
  if (copy.kind === 'MutatingWebhookConfiguration' || copy.kind === 'ValidatingWebhookConfiguration') {
    for (const [i, w] of ((copy.webhooks as { clientConfig: Record<string, unknown> }[]) ?? []).entries()) {
      const flat = fix(w.clientConfig.caBundle, `webhooks[${i}].clientConfig.caBundle`);
      if (flat !== undefined) w.clientConfig.caBundle = flat;
    }
  }
  return copy;
}
