// Validation of an object against its definition's JSON Schema (ajv), reported as upstream's field.ErrorList —
// the wording of kube-openapi's validate package as CRDs report it
// (k8s.io/apiextensions-apiserver/pkg/apiserver/validation/validation.go, kube-openapi pkg/validation/errors).

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fieldErrors, type FieldError } from './status-error.js';

export type ObjectValidator = (obj: unknown) => FieldError[];

/** `/spec/conditions/0/type` → `spec.conditions[0].type` (field.Path's String()). */
export function pointerToFieldPath(pointer: string): string {
  if (!pointer) return '';
  const parts = pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = '';
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out;
}

function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function valueAt(root: unknown, pointer: string): unknown {
  if (!pointer) return root;
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function goTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function toFieldError(e: ErrorObject, root: unknown): FieldError | undefined {
  const path = pointerToFieldPath(e.instancePath);
  const value = valueAt(root, e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return fieldErrors.required(child(path, String(params.missingProperty)));
    case 'type':
      return fieldErrors.invalid(path, goTypeName(value), `${path} in body must be of type ${String(params.type)}: "${goTypeName(value)}"`);
    case 'enum':
      return fieldErrors.notSupported(path, value, ((params.allowedValues as unknown[]) ?? []).map(String));
    case 'maxLength':
      return fieldErrors.tooLong(path, Number(params.limit));
    case 'minLength':
      return fieldErrors.invalid(path, value, `${path} in body should be at least ${String(params.limit)} chars long`);
    case 'pattern':
      return fieldErrors.invalid(path, value, `${path} in body should match '${String(params.pattern)}'`);
    case 'maxItems':
      return fieldErrors.tooMany(path, Array.isArray(value) ? value.length : 0, Number(params.limit));
    case 'minItems':
      return fieldErrors.invalid(path, value, `${path} in body should have at least ${String(params.limit)} items`);
    case 'minimum':
      return fieldErrors.invalid(path, value, `${path} in body should be greater than or equal to ${String(params.limit)}`);
    case 'maximum':
      return fieldErrors.invalid(path, value, `${path} in body should be less than or equal to ${String(params.limit)}`);
    case 'format':
      return fieldErrors.invalid(path, value, `${path} in body must be of type ${String(params.format)}: ${JSON.stringify(String(value))}`);
    case 'uniqueItems':
      return fieldErrors.duplicate(path, value);
    case 'additionalProperties':
      // Unknown fields are pruned (or refused by fieldValidation) before validation; a schema that forbids them
      // explicitly still reports them.
      return fieldErrors.forbidden(child(path, String(params.additionalProperty)), 'field not declared in schema');
    default:
      return fieldErrors.invalid(path, value, e.message ?? 'invalid');
  }
}

export interface SchemaValidatorFactory {
  compile(schema: object): ObjectValidator;
}

/** One ajv instance per registry (no module singletons); compiled validators are cached by schema identity. */
export function createSchemaValidatorFactory(): SchemaValidatorFactory {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
  addFormats.default(ajv);
  // Kubernetes formats ajv-formats does not know are accepted as strings (quantity syntax is checked by strategies).
  for (const f of ['int-or-string', 'quantity', 'byte']) ajv.addFormat(f, true);
  const cache = new WeakMap<object, ValidateFunction>();
  return {
    compile(schema: object): ObjectValidator {
      let fn = cache.get(schema);
      if (!fn) {
        fn = ajv.compile(schema);
        cache.set(schema, fn);
      }
      const validate = fn;
      return (obj: unknown) => {
        if (validate(obj)) return [];
        const out: FieldError[] = [];
        const seen = new Set<string>();
        for (const e of validate.errors ?? []) {
          const fe = toFieldError(e, obj);
          if (!fe) continue;
          const key = `${fe.type}|${fe.field}|${String(fe.detail)}`;
          if (seen.has(key)) continue;
          seen.add(key);
          out.push(fe);
        }
        return out;
      };
    },
  };
}
