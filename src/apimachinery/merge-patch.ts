// JSON merge patch, RFC 7386 (what `kubectl label/annotate/edit` and client-side apply send for types without a
// strategic-merge schema). The patch is applied to a copy: neither argument is modified.

import { StatusError } from './status-error.js';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setOwn(obj: Obj, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** A deep copy of JSON data (arrays and plain objects; other values are immutable or shared). */
function copyJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyJson);
  if (isObject(v)) {
    const out: Obj = {};
    for (const [k, child] of Object.entries(v)) setOwn(out, k, copyJson(child));
    return out;
  }
  return v;
}

/** RFC 7386 MergePatch(Target, Patch), section 2, verbatim: a non-object patch replaces the target. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return copyJson(patch);
  const result: Obj = isObject(target) ? (copyJson(target) as Obj) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else setOwn(result, k, mergePatch(Object.hasOwn(result, k) ? result[k] : undefined, v));
  }
  return result;
}

/**
 * A merge patch as kube-apiserver applies one to an object (evanphx/json-patch MergePatch): the patch must be a
 * JSON object, else 400 `Invalid JSON Patch` (ErrBadJSONPatch); the target must be an object too.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw StatusError.badRequest('Invalid JSON Patch');
  if (!isObject(target)) throw StatusError.badRequest('Invalid JSON Document');
  return mergePatch(target, patch);
}
