// Field selectors, ported from k8s.io/apimachinery/pkg/fields/selector.go: terms split on unescaped commas, each
// `field=value`, `field==value` or `field!=value` (the first operator in the term wins; no escaping on the left),
// values unescaped with `\\`, `\,`, `\=`. Terms are sorted, as upstream sorts them before building the selector.

import { StatusError } from './status-error.js';
import { compareGoStrings } from './go-string-order.js';

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  readonly empty: boolean;
  requirements: FieldRequirement[];
  matches(fields: Record<string, string>): boolean;
  /** upstream's String(): `a=b,c!=d`, values escaped. */
  toString(): string;
}

export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** upstream's UnescapeValue; the messages are Go's (a rune printed with %v is its code point: `… value: 61`). */
function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw StatusError.badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') {
      throw StatusError.badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else out += c;
  }
  if (inSlash) throw StatusError.badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

function splitTerms(s: string): string[] {
  if (s.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

function splitTerm(term: string): { lhs: string; op: '!=' | '==' | '='; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

class RequirementsSelector implements FieldSelector {
  constructor(readonly requirements: FieldRequirement[]) {}

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(fields: Record<string, string>): boolean {
    return this.requirements.every((r) => {
      const v = Object.prototype.hasOwnProperty.call(fields, r.field) ? fields[r.field] : '';
      return r.operator === '=' ? v === r.value : v !== r.value;
    });
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
  }
}

/** Parses a `fieldSelector` query value; a syntax error is a 400 with upstream's message. */
export function parseFieldSelector(s: string): FieldSelector {
  const parts = splitTerms(s).sort(compareGoStrings);
  const requirements: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const term = splitTerm(part);
    if (!term) throw StatusError.badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    requirements.push({ field: term.lhs, operator: term.op === '!=' ? '!=' : '=', value: unescapeValue(term.rhs) });
  }
  return new RequirementsSelector(requirements);
}

/** A selector from a field → value map (upstream SelectorFromSet). */
export function fieldSelectorFromSet(set: Record<string, string>): FieldSelector {
  return new RequirementsSelector(
    Object.keys(set)
      .sort(compareGoStrings)
      .map((field) => ({ field, operator: '=' as const, value: set[field] })),
  );
}

/**
 * Rejects a selector naming a field the resource cannot select on, like a CRD's field label conversion
 * (apiextensions-apiserver, `field label not supported: <f>`). `supported` must list metadata.name (and
 * metadata.namespace for namespaced resources) itself. The first offending term, in sorted order, is reported.
 */
export function assertSupportedFields(sel: FieldSelector, supported: string[]): void {
  for (const r of sel.requirements) {
    if (!supported.includes(r.field)) throw StatusError.badRequest(`field label not supported: ${r.field}`);
  }
}

/** upstream RequiresExactMatch: the value of the first `field=v` (or `==`) term. */
export function requiresExactMatch(sel: FieldSelector, field: string): string | undefined {
  return sel.requirements.find((r) => r.field === field && r.operator === '=')?.value;
}

/** The name a selector pins down when it is exactly one `metadata.name=<n>` term (kubectl get -w <name>). */
export function singleNameOf(sel: FieldSelector): string | undefined {
  if (sel.requirements.length !== 1) return undefined;
  const [r] = sel.requirements;
  return r.field === 'metadata.name' && r.operator === '=' ? r.value : undefined;
}
