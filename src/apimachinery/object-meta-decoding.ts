// What a typed Go decoder refuses in ObjectMeta's server-owned fields. The server overwrites these fields on every
// write, so a wrongly typed value would otherwise vanish without a word; kube-apiserver cannot even decode such an
// object (metav1.Time.UnmarshalJSON, int64 fields) and says so. Type errors of the other metadata fields are reported
// by validateObjectMeta as 422 field errors.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const GO_RFC3339_LAYOUT = '2006-01-02T15:04:05Z07:00';

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function isRfc3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [, y, mo, d, h, mi, sec] = m.map(Number);
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth && h <= 23 && mi <= 59 && sec <= 59;
}

function unmarshalError(field: string, value: unknown, goType: string): string {
  // encoding/json names the number when it is the value, not the type, that does not fit.
  const what = typeof value === 'number' && goType === 'int64' ? `number ${value}` : jsonKind(value);
  return `json: cannot unmarshal ${what} into Go struct field ObjectMeta.metadata.${field} of type ${goType}`;
}

/** The decoding error for metadata's timestamps and counters, or undefined when a Go decoder would accept them. */
export function objectMetaDecodeError(meta: Record<string, unknown>): string | undefined {
  for (const field of ['creationTimestamp', 'deletionTimestamp']) {
    const v = meta[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') return unmarshalError(field, v, 'string');
    if (!isRfc3339(v)) return `parsing time ${JSON.stringify(v)} as "${GO_RFC3339_LAYOUT}": not an RFC 3339 date and time`;
  }
  for (const field of ['generation', 'deletionGracePeriodSeconds']) {
    const v = meta[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return unmarshalError(field, v, 'int64');
  }
  return undefined;
}
