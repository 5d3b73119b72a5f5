// ObjectMeta rules and the string validators they use, ported from
// k8s.io/apimachinery/pkg/util/validation/validation.go (IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue …) and
// k8s.io/apimachinery/pkg/api/validation/objectmeta.go (ValidateObjectMetaAccessor, ValidateObjectMetaAccessorUpdate).
// Lengths are in bytes (Go's len), messages word for word.

import { randomInt } from 'node:crypto';
import { fieldErrors, type FieldError } from './status-error.js';

// ---- string validators (util/validation/validation.go) ----

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

export function emptyError(): string {
  return 'must be non-empty';
}

/** Go's RegexError, double space after each example's comma included. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let out = `${msg} (e.g. `;
  examples.forEach((e, i) => {
    if (i > 0) out += ' or ';
    out += `'${e}', `;
  });
  return `${out}regex used for validation is '${fmt}')`;
}

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const dns1123LabelRegexp = new RegExp(`^${dns1123LabelFmt}$`);
export const DNS1123LabelMaxLength = 63;

const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainErrorMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const dns1123SubdomainRegexp = new RegExp(`^${dns1123SubdomainFmt}$`);
export const DNS1123SubdomainMaxLength = 253;

export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123LabelMaxLength) errs.push(maxLenError(DNS1123LabelMaxLength));
  if (!dns1123LabelRegexp.test(value)) {
    // A valid subdomain that is not a valid label (length already checked) must contain dots.
    if (dns1123SubdomainRegexp.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, 'my-name', '123-abc'));
  }
  return errs;
}

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!dns1123SubdomainRegexp.test(value)) errs.push(regexError(dns1123SubdomainErrorMsg, dns1123SubdomainFmt, 'example.com'));
  return errs;
}

const qualifiedNameCharFmt = '[A-Za-z0-9]';
const qualifiedNameExtCharFmt = '[-A-Za-z0-9_.]';
const qualifiedNameFmt = `(${qualifiedNameCharFmt}${qualifiedNameExtCharFmt}*)?${qualifiedNameCharFmt}`;
const qualifiedNameErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const qualifiedNameRegexp = new RegExp(`^${qualifiedNameFmt}$`);
const qualifiedNameMaxLength = 63;

/** Label keys, annotation keys (lowercased first), finalizer names: `[prefix/]name`. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a qualified name ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > qualifiedNameMaxLength) errs.push(`name part ${maxLenError(qualifiedNameMaxLength)}`);
  if (!qualifiedNameRegexp.test(name)) {
    errs.push(`name part ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const labelValueRegexp = new RegExp(`^${labelValueFmt}$`);
export const LabelValueMaxLength = 63;

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LabelValueMaxLength) errs.push(maxLenError(LabelValueMaxLength));
  if (!labelValueRegexp.test(value)) errs.push(regexError(labelValueErrMsg, labelValueFmt, 'MyValue', 'my_value', '12345'));
  return errs;
}

/**
 * apimachinery/pkg/api/validation/path: names that must survive as one URL path segment.
 * (ValidatePathSegmentName; `prefix` = the name is a generateName prefix, so only the substrings matter.)
 */
export function isValidPathSegmentName(name: string, prefix = false): string[] {
  const errs: string[] = [];
  if (!prefix) {
    if (name === '.' || name === '..') return [`may not be '${name}'`];
  }
  for (const illegal of ['/', '%']) {
    if (name.includes(illegal)) errs.push(`may not contain '${illegal}'`);
  }
  return errs;
}

// ---- name functions (apimachinery/pkg/api/validation/generic.go) ----

/** `prefix` = validating a generateName; a trailing '-' is allowed there (maskTrailingDash). */
export type NameValidator = (name: string, prefix: boolean) => string[];

function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

export const nameIsDNSSubdomain: NameValidator = (name, prefix) =>
  isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);

export const nameIsDNSLabel: NameValidator = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);

// ---- ObjectMeta (apimachinery/pkg/api/validation/objectmeta.go, apis/meta/v1/validation) ----

export const TotalAnnotationSizeLimitB = 256 * 1024;
const FinalizerOrphanDependents = 'orphan';
const FinalizerDeleteDependents = 'foregroundDeletion';
const FieldManagerMaxLength = 128;
const MaxSubresourceNameLength = 256;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON type name, as kube-openapi's validator reports it. */
function jsonTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** A value of the wrong JSON type, worded as the CRD schema validator words it. */
function typeError(path: string, value: unknown, expected: string): FieldError {
  const actual = jsonTypeName(value);
  return fieldErrors.invalid(path, actual, `${path} in body must be of type ${expected}: ${JSON.stringify(actual)}`);
}

/** Reads an optional string field; null and absent are "". A non-string records a type error. */
function optString(meta: Obj, key: string, path: string, errs: FieldError[]): string {
  const v = meta[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') {
    errs.push(typeError(`${path}.${key}`, v, 'string'));
    return '';
  }
  return v;
}

function optInteger(meta: Obj, key: string, path: string, errs: FieldError[]): number | undefined {
  const v = meta[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    errs.push(typeError(`${path}.${key}`, v, 'integer'));
    return undefined;
  }
  return v;
}

/** A map of string to string (labels, annotations); type errors per entry; null/absent is empty. */
function stringMap(v: unknown, path: string, errs: FieldError[]): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) {
    errs.push(typeError(path, v, 'object'));
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (val === null) out[k] = ''; // Go decodes a null map value as ""
    else if (typeof val !== 'string') errs.push(typeError(`${path}.${k}`, val, 'string'));
    else out[k] = val;
  }
  return out;
}

function stringList(v: unknown, path: string, errs: FieldError[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errs.push(typeError(path, v, 'array'));
    return [];
  }
  const out: string[] = [];
  v.forEach((item, i) => {
    if (typeof item !== 'string') errs.push(typeError(`${path}[${i}]`, item, 'string'));
    else out.push(item);
  });
  return out;
}

export function validateLabels(labels: Record<string, string> | undefined, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const msg of isQualifiedName(k)) errs.push(fieldErrors.invalid(fieldPath, k, msg));
    for (const msg of isValidLabelValue(v)) errs.push(fieldErrors.invalid(fieldPath, v, msg));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    // a qualified name, except that case does not matter
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(fieldErrors.invalid(fieldPath, k, msg));
    total += byteLength(k) + byteLength(v);
  }
  if (total > TotalAnnotationSizeLimitB) errs.push(fieldErrors.tooLong(fieldPath, TotalAnnotationSizeLimitB));
  return errs;
}

/** Go's %#v of a []string: `[]string{"a", "b"}`. */
function goStringSlice(list: string[]): string {
  return `[]string{${list.map((s) => JSON.stringify(s)).join(', ')}}`;
}

export function validateFinalizers(list: string[] | undefined, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  const finalizers = list ?? [];
  for (const f of finalizers) {
    for (const msg of isQualifiedName(f)) errs.push(fieldErrors.invalid(fieldPath, f, msg));
  }
  if (finalizers.includes(FinalizerOrphanDependents) && finalizers.includes(FinalizerDeleteDependents)) {
    errs.push(
      fieldErrors.invalid(
        fieldPath,
        finalizers,
        `finalizer ${FinalizerOrphanDependents} and ${FinalizerDeleteDependents} cannot be both set`,
      ),
    );
  }
  return errs;
}

/** Upstream's paths carry no index here (`metadata.ownerReferences.uid`), so neither do ours. */
export function validateOwnerReferences(list: unknown, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  if (list === undefined || list === null) return errs;
  if (!Array.isArray(list)) return [typeError(fieldPath, list, 'array')];
  let firstController = '';
  list.forEach((ref: unknown, i) => {
    const path = `${fieldPath}[${i}]`;
    if (!isObject(ref)) {
      errs.push(typeError(path, ref, 'object'));
      return;
    }
    const typeErrs: FieldError[] = [];
    const apiVersion = optString(ref, 'apiVersion', path, typeErrs);
    const kind = optString(ref, 'kind', path, typeErrs);
    const name = optString(ref, 'name', path, typeErrs);
    const uid = optString(ref, 'uid', path, typeErrs);
    for (const k of ['controller', 'blockOwnerDeletion']) {
      if (ref[k] !== undefined && ref[k] !== null && typeof ref[k] !== 'boolean') typeErrs.push(typeError(`${path}.${k}`, ref[k], 'boolean'));
    }
    errs.push(...typeErrs);
    const gv = parseGroupVersion(apiVersion);
    if (!gv || gv.version === '') errs.push(fieldErrors.invalid(`${fieldPath}.apiVersion`, apiVersion, 'version must not be empty'));
    if (kind === '') errs.push(fieldErrors.invalid(`${fieldPath}.kind`, kind, 'must not be empty'));
    if (name === '') errs.push(fieldErrors.invalid(`${fieldPath}.name`, name, 'must not be empty'));
    if (uid === '') errs.push(fieldErrors.invalid(`${fieldPath}.uid`, uid, 'must not be empty'));
    if (gv && gv.group === '' && gv.version === 'v1' && kind === 'Event') {
      errs.push(fieldErrors.invalid(fieldPath, ref, '/v1, Kind=Event is disallowed from being an owner'));
    }
    if (ref.controller === true) {
      const current = `${kind}/${name}`;
      if (firstController !== '') {
        errs.push(
          fieldErrors.invalid(
            fieldPath,
            list,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  });
  return errs;
}

/** schema.ParseGroupVersion: "" → empty; "v1" → core; "g/v"; more slashes → undefined (an error upstream). */
function parseGroupVersion(s: string): { group: string; version: string } | undefined {
  if (s === '') return { group: '', version: '' };
  const parts = s.split('/');
  if (parts.length === 1) return { group: '', version: s };
  if (parts.length === 2) return { group: parts[0], version: parts[1] };
  return undefined;
}

/** apis/meta/v1/validation ValidateManagedFields (with ValidateFieldManager). */
export function validateManagedFields(list: unknown, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  if (list === undefined || list === null) return errs;
  if (!Array.isArray(list)) return [typeError(fieldPath, list, 'array')];
  list.forEach((entry: unknown, i) => {
    const path = `${fieldPath}[${i}]`;
    if (!isObject(entry)) {
      errs.push(typeError(path, entry, 'object'));
      return;
    }
    const operation = optString(entry, 'operation', path, errs);
    const fieldsType = optString(entry, 'fieldsType', path, errs);
    const manager = optString(entry, 'manager', path, errs);
    const subresource = optString(entry, 'subresource', path, errs);
    optString(entry, 'apiVersion', path, errs);
    optString(entry, 'time', path, errs);
    if (entry.fieldsV1 !== undefined && entry.fieldsV1 !== null && !isObject(entry.fieldsV1)) {
      errs.push(typeError(`${path}.fieldsV1`, entry.fieldsV1, 'object'));
    }
    if (operation !== 'Apply' && operation !== 'Update') {
      errs.push(fieldErrors.invalid(`${path}.operation`, operation, 'must be `Apply` or `Update`'));
    }
    if (fieldsType !== '' && fieldsType !== 'FieldsV1') {
      errs.push(fieldErrors.invalid(`${path}.fieldsType`, fieldsType, 'must be `FieldsV1`'));
    }
    errs.push(...validateFieldManager(manager, `${path}.manager`));
    if (byteLength(subresource) > MaxSubresourceNameLength) errs.push(fieldErrors.tooLong(`${path}.subresource`, MaxSubresourceNameLength));
  });
  return errs;
}

/** Go's %#U: `U+0007` for unprintable runes. */
function goRuneU(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

export function validateFieldManager(manager: string, fieldPath: string): FieldError[] {
  const errs: FieldError[] = [];
  if (byteLength(manager) > FieldManagerMaxLength) errs.push(fieldErrors.tooLong(fieldPath, FieldManagerMaxLength));
  let bytePos = 0;
  for (const ch of manager) {
    const cp = ch.codePointAt(0) as number;
    if (!printable.test(ch)) {
      errs.push(fieldErrors.invalid(fieldPath, manager, `invalid character ${goRuneU(cp)} (at position ${bytePos})`));
    }
    bytePos += byteLength(ch);
  }
  return errs;
}

export interface ObjectMetaValidationOptions {
  namespaced: boolean;
  /** Name rule; receives `prefix = true` for generateName. Default: RFC 1123 subdomain (as for CRDs). */
  nameValidator?: NameValidator;
  /** Field path of the metadata; default `metadata`. */
  fieldPath?: string;
}

/**
 * ValidateObjectMetaAccessor for a metadata value straight from a request body: every field of the wrong JSON type
 * is a FieldError, never an exception. The name must already be generated from generateName when it is empty.
 */
export function validateObjectMeta(meta: unknown, opts: ObjectMetaValidationOptions): FieldError[] {
  const path = opts.fieldPath ?? 'metadata';
  const nameFn = opts.nameValidator ?? nameIsDNSSubdomain;
  if (meta === undefined || meta === null) meta = {};
  if (!isObject(meta)) return [typeError(path, meta, 'object')];
  const errs: FieldError[] = [];

  const generate = optString(meta, 'generateName', path, errs);
  if (generate !== '') {
    for (const msg of nameFn(generate, true)) errs.push(fieldErrors.invalid(`${path}.generateName`, generate, msg));
  }
  const nameTypeErrs: FieldError[] = [];
  const name = optString(meta, 'name', path, nameTypeErrs);
  if (nameTypeErrs.length) errs.push(...nameTypeErrs);
  else if (name === '') errs.push(fieldErrors.required(`${path}.name`, 'name or generateName is required'));
  else for (const msg of nameFn(name, false)) errs.push(fieldErrors.invalid(`${path}.name`, name, msg));

  const nsTypeErrs: FieldError[] = [];
  const namespace = optString(meta, 'namespace', path, nsTypeErrs);
  if (nsTypeErrs.length) errs.push(...nsTypeErrs);
  else if (opts.namespaced) {
    if (namespace === '') errs.push(fieldErrors.required(`${path}.namespace`));
    else for (const msg of nameIsDNSLabel(namespace, false)) errs.push(fieldErrors.invalid(`${path}.namespace`, namespace, msg));
  } else if (namespace !== '') {
    errs.push(fieldErrors.forbidden(`${path}.namespace`, 'not allowed on this type'));
  }

  for (const k of ['uid', 'resourceVersion', 'selfLink', 'creationTimestamp', 'deletionTimestamp']) optString(meta, k, path, errs);
  const generation = optInteger(meta, 'generation', path, errs);
  if (generation !== undefined && generation < 0) {
    errs.push(fieldErrors.invalid(`${path}.generation`, generation, 'must be greater than or equal to 0'));
  }
  optInteger(meta, 'deletionGracePeriodSeconds', path, errs);

  errs.push(...validateLabels(stringMap(meta.labels, `${path}.labels`, errs), `${path}.labels`));
  errs.push(...validateAnnotations(stringMap(meta.annotations, `${path}.annotations`, errs), `${path}.annotations`));
  errs.push(...validateOwnerReferences(meta.ownerReferences, `${path}.ownerReferences`));
  errs.push(...validateFinalizers(stringList(meta.finalizers, `${path}.finalizers`, errs), `${path}.finalizers`));
  errs.push(...validateManagedFields(meta.managedFields, `${path}.managedFields`));
  return errs;
}

const stringMetaFields = new Set(['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp']);

/** Absent, null and "" are the same value to Go's accessors. */
function metaValueKey(v: unknown): string {
  return v === undefined || v === null || v === '' ? '' : JSON.stringify(v);
}

/**
 * ValidateObjectMetaAccessorUpdate: no new finalizers while deleting, resourceVersion required, generation not
 * decremented, name/namespace/uid/creationTimestamp/deletionTimestamp/deletionGracePeriodSeconds immutable, and the
 * label/annotation/ownerReference/managedFields rules (finalizer names are not re-checked upstream on update).
 */
export function validateObjectMetaUpdate(newMeta: unknown, oldMeta: unknown, fieldPath = 'metadata'): FieldError[] {
  const path = fieldPath;
  if (newMeta === undefined || newMeta === null) newMeta = {};
  if (!isObject(newMeta)) return [typeError(path, newMeta, 'object')];
  const old: Obj = isObject(oldMeta) ? oldMeta : {};
  const errs: FieldError[] = [];
  const ignored: FieldError[] = [];

  if (old.deletionTimestamp !== undefined && old.deletionTimestamp !== null && old.deletionTimestamp !== '') {
    const before = new Set(stringList(old.finalizers, '', ignored));
    const extra = [...new Set(stringList(newMeta.finalizers, `${path}.finalizers`, errs))].filter((f) => !before.has(f)).sort();
    if (extra.length) {
      errs.push(
        fieldErrors.forbidden(
          `${path}.finalizers`,
          `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(extra)}`,
        ),
      );
    }
  }

  const rvTypeErrs: FieldError[] = [];
  const rv = optString(newMeta, 'resourceVersion', path, rvTypeErrs);
  errs.push(...rvTypeErrs);
  if (rv === '' && rvTypeErrs.length === 0) {
    errs.push(fieldErrors.invalid(`${path}.resourceVersion`, rv, 'must be specified for an update'));
  }
  const generation = optInteger(newMeta, 'generation', path, errs) ?? 0;
  const oldGeneration = optInteger(old, 'generation', path, ignored) ?? 0;
  if (generation < oldGeneration) errs.push(fieldErrors.invalid(`${path}.generation`, generation, 'must not be decremented'));

  for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
    if (metaValueKey(newMeta[k]) !== metaValueKey(old[k])) {
      const shown = newMeta[k] ?? (stringMetaFields.has(k) ? '' : null);
      errs.push(fieldErrors.immutable(`${path}.${k}`, shown));
    }
  }

  errs.push(...validateLabels(stringMap(newMeta.labels, `${path}.labels`, errs), `${path}.labels`));
  errs.push(...validateAnnotations(stringMap(newMeta.annotations, `${path}.annotations`, errs), `${path}.annotations`));
  errs.push(...validateOwnerReferences(newMeta.ownerReferences, `${path}.ownerReferences`));
  errs.push(...validateManagedFields(newMeta.managedFields, `${path}.managedFields`));
  return errs;
}

// ---- generateName (apiserver/pkg/storage/names/generate.go, util/rand) ----

const maxNameLength = 63;
const randomLength = 5;
export const MaxGeneratedNameLength = maxNameLength - randomLength;
const alphanums = 'bcdfghjklmnpqrstvwxz2456789';

/** `prefix` cut to 58 bytes plus 5 random characters from a vowel-free alphabet (no accidental words). */
export function generateName(prefix: string, random?: () => number): string {
  let base = prefix;
  if (byteLength(base) > MaxGeneratedNameLength) base = Buffer.from(base, 'utf8').subarray(0, MaxGeneratedNameLength).toString('utf8');
  let suffix = '';
  for (let i = 0; i < randomLength; i++) {
    const idx = random ? Math.min(alphanums.length - 1, Math.max(0, Math.floor(random() * alphanums.length))) : randomInt(alphanums.length);
    suffix += alphanums[idx];
  }
  return base + suffix;
}
