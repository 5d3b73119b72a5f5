// Status rules shared by both kinds: condition lists keyed by type, RFC 3339 timestamps.
import { fieldErrors, type FieldError } from '../../../apimachinery/status-error.js';

export function validateConditions(conditions: unknown, path: string): FieldError[] {
  if (!Array.isArray(conditions)) return [];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  conditions.forEach((c: unknown, i) => {
    const type = (c as { type?: unknown } | null)?.type;
    if (typeof type !== 'string') return;
    if (seen.has(type)) errs.push(fieldErrors.duplicate(`${path}[${i}].type`, type));
    seen.add(type);
  });
  return errs;
}

export function validateStatusTimestamp(value: unknown): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return [];
  return [fieldErrors.invalid('status.creationTimestamp', value, 'must be an RFC 3339 date-time')];
}
