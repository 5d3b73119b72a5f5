// The parts of k8s.io/kubernetes pkg/apis/core/validation/validation.go (and storage/validation) that the local
// cluster's kinds need, with upstream's field paths and wording. Pure functions from plain objects to field errors.

import { Quantity } from '../apimachinery/quantity.js';
import { StatusError, fieldErrors, type FieldError } from '../apimachinery/status-error.js';
import { isDNS1123Subdomain, isQualifiedName, validateLabels } from '../apimachinery/object-meta-validation.js';

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'] as const;
export const VOLUME_MODES = ['Block', 'Filesystem'] as const;
export const PV_RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'] as const;
export const SC_RECLAIM_POLICIES = ['Delete', 'Retain'] as const;
export const VOLUME_BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'] as const;
export const PV_PHASES = ['Pending', 'Available', 'Bound', 'Released', 'Failed'] as const;
export const PVC_PHASES = ['Pending', 'Bound', 'Lost'] as const;

/** The volume sources of a PersistentVolume, in the order upstream checks them (only one may be set). */
export const PV_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'glusterfs',
  'flocker',
  'nfs',
  'rbd',
  'quobyte',
  'cephfs',
  'iscsi',
  'cinder',
  'fc',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'scaleIO',
  'local',
  'storageos',
  'csi',
] as const;

export const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A quantity field, or undefined when absent or unparsable (parse errors are reported when decoding). */
export function quantityOf(v: unknown): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return Quantity.parse(String(v));
  } catch {
    return undefined;
  }
}

/** The canonical form kubectl prints (`1Gi`), or '' when absent. */
export function quantityString(v: unknown): string {
  return quantityOf(v)?.toString() ?? '';
}

/**
 * Quantities are parsed while decoding upstream, so a malformed one is a 400 before any validation:
 * `PersistentVolumeClaim in version "v1" cannot be handled as a PersistentVolumeClaim: quantities must match …`.
 */
export function assertQuantitiesDecode(kind: string, maps: unknown[]): void {
  for (const m of maps) {
    if (!isObject(m)) continue;
    for (const v of Object.values(m)) {
      if (typeof v !== 'string' && typeof v !== 'number') continue;
      try {
        Quantity.parse(String(v));
      } catch (err) {
        throw StatusError.badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: ${(err as Error).message}`);
      }
    }
  }
}

/** ValidatePositiveQuantityValue + ValidateResourceQuantityValue for storage. */
export function validatePositiveQuantity(value: unknown, field: string): FieldError[] {
  const q = quantityOf(value);
  if (!q) return [];
  if (q.sign() <= 0) return [fieldErrors.invalid(field, q.toString(), 'must be greater than zero')];
  return [];
}

/** Access modes of a PV (`required` detail '') or PVC (`at least 1 access mode is required`). */
export function validateAccessModes(modes: unknown, field: string, requiredDetail?: string): FieldError[] {
  const list = Array.isArray(modes) ? modes : [];
  if (list.length === 0) return [fieldErrors.required(field, requiredDetail)];
  const errs: FieldError[] = [];
  let rwop = false;
  let other = false;
  for (const mode of list) {
    if (!(ACCESS_MODES as readonly string[]).includes(mode as string)) {
      errs.push(fieldErrors.notSupported(field, mode, [...ACCESS_MODES]));
    }
    if (mode === 'ReadWriteOncePod') rwop = true;
    else other = true;
  }
  if (rwop && other) errs.push(fieldErrors.forbidden(field, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

export function validateVolumeMode(mode: unknown, field: string): FieldError[] {
  if (mode === undefined || mode === null) return [];
  return (VOLUME_MODES as readonly string[]).includes(mode as string) ? [] : [fieldErrors.notSupported(field, mode, [...VOLUME_MODES])];
}

/** ValidateClassName: a DNS-1123 subdomain. */
export function validateClassName(name: unknown, field: string): FieldError[] {
  if (typeof name !== 'string' || name === '') return [];
  return isDNS1123Subdomain(name).map((msg) => fieldErrors.invalid(field, name, msg));
}

/** unversionedvalidation.ValidateLabelSelector (metav1.LabelSelector). */
export function validateLabelSelector(sel: unknown, field: string): FieldError[] {
  if (!isObject(sel)) return [];
  const errs: FieldError[] = [];
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  exprs.forEach((raw, i) => {
    const path = `${field}.matchExpressions[${i}]`;
    const expr = isObject(raw) ? raw : {};
    const values = Array.isArray(expr.values) ? expr.values : [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(fieldErrors.required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(fieldErrors.forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(fieldErrors.invalid(`${path}.operator`, expr.operator, 'not a valid selector operator'));
    }
    if (typeof expr.key === 'string') {
      for (const msg of isQualifiedName(expr.key)) errs.push(fieldErrors.invalid(`${path}.key`, expr.key, msg));
    }
  });
  if (isObject(sel.matchLabels)) errs.push(...validateLabels(sel.matchLabels as Record<string, string>, `${field}.matchLabels`));
  return errs;
}

/** Requires `path` (and forbids '..') the way validateHostPathVolumeSource / validateLocalVolumeSource do. */
function validatePathNoBacksteps(path: unknown, field: string): FieldError[] {
  if (typeof path !== 'string' || path === '') return [fieldErrors.required(field)];
  if (path.split('/').includes('..')) return [fieldErrors.invalid(field, path, "must not contain '..'")];
  return [];
}

function requireString(v: Record<string, unknown>, key: string, field: string): FieldError[] {
  return typeof v[key] === 'string' && v[key] !== '' ? [] : [fieldErrors.required(`${field}.${key}`)];
}

/** The checks of one volume source; unknown (rarely used) sources only need to be objects. */
function validateSource(kind: string, src: Record<string, unknown>, field: string): FieldError[] {
  switch (kind) {
    case 'hostPath': {
      const errs = validatePathNoBacksteps(src.path, `${field}.path`);
      if (src.type !== undefined && src.type !== null && !HOST_PATH_TYPES.includes(src.type as string)) {
        errs.push(fieldErrors.notSupported(`${field}.type`, src.type, HOST_PATH_TYPES));
      }
      return errs;
    }
    case 'local':
      return validatePathNoBacksteps(src.path, `${field}.path`);
    case 'gcePersistentDisk':
      return requireString(src, 'pdName', field);
    case 'awsElasticBlockStore':
      return requireString(src, 'volumeID', field);
    case 'csi':
      return [...requireString(src, 'driver', field), ...requireString(src, 'volumeHandle', field)];
    case 'nfs': {
      const errs = requireString(src, 'server', field);
      if (typeof src.path !== 'string' || src.path === '') errs.push(fieldErrors.required(`${field}.path`));
      else if (!src.path.startsWith('/')) errs.push(fieldErrors.invalid(`${field}.path`, src.path, 'must be an absolute path'));
      return errs;
    }
    default:
      return [];
  }
}

/** Exactly one volume source ("must specify a volume type" / "may not specify more than 1 volume type"). */
export function validatePersistentVolumeSource(spec: Record<string, unknown>, field: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const kind of PV_SOURCES) {
    const src = spec[kind];
    if (src === undefined || src === null) continue;
    if (count > 0) {
      errs.push(fieldErrors.forbidden(`${field}.${kind}`, 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    errs.push(...validateSource(kind, isObject(src) ? src : {}, `${field}.${kind}`));
  }
  if (count === 0) errs.push(fieldErrors.required(field, 'must specify a volume type'));
  return errs;
}

/** The volume-source part of a PV spec (immutable after creation). */
export function persistentVolumeSourceOf(spec: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kind of PV_SOURCES) if (spec?.[kind] !== undefined && spec[kind] !== null) out[kind] = spec[kind];
  return out;
}

/** JSON equality with object keys in any order and quantities compared by value. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => semanticEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && semanticEqual(a[k], b[k]));
  }
  return false;
}

/** GetAccessModesAsString: `RWO,ROX,RWX,RWOP` in that order, duplicates dropped. */
export function accessModesString(modes: unknown): string {
  const list = Array.isArray(modes) ? modes : [];
  const out: string[] = [];
  if (list.includes('ReadWriteOnce')) out.push('RWO');
  if (list.includes('ReadOnlyMany')) out.push('ROX');
  if (list.includes('ReadWriteMany')) out.push('RWX');
  if (list.includes('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}
