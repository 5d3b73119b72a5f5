// Label selectors, ported from k8s.io/apimachinery/pkg/labels/selector.go: the same lexer (bytes, special symbols
// `= ! ( ) , > <`, whitespace ' ' \t \r \n), the same recursive-descent parser and its error messages, the same
// Requirement validation (keys are qualified names, values label values, `gt`/`lt` take one int64) and matching.
// Requirements are sorted by key, as upstream sorts them.

import { StatusError, fieldErrors, aggregateFieldErrors, type FieldError } from './status-error.js';
import { isQualifiedName, isValidLabelValue } from './object-meta-validation.js';
import { compareGoStrings } from './go-string-order.js';

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'gt' | 'lt' | 'exists' | '!';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export interface LabelSelector {
  readonly empty: boolean;
  readonly requirements: readonly LabelRequirement[];
  matches(labels: Record<string, string> | undefined): boolean;
  /** upstream's String(): requirements joined by `,`, set values sorted. */
  toString(): string;
}

const binaryOperators = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

enum Tok {
  Error,
  EndOfString,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const string2token: Record<string, Tok> = {
  ')': Tok.ClosedPar,
  ',': Tok.Comma,
  '!': Tok.DoesNotExist,
  '==': Tok.DoubleEquals,
  '=': Tok.Equals,
  '>': Tok.GreaterThan,
  in: Tok.In,
  '<': Tok.LessThan,
  '!=': Tok.NotEquals,
  notin: Tok.NotIn,
  '(': Tok.OpenPar,
};

function tokenFor(s: string): Tok | undefined {
  return Object.prototype.hasOwnProperty.call(string2token, s) ? string2token[s] : undefined;
}

interface Item {
  tok: Tok;
  lit: string;
}

const isWhitespace = (ch: number): boolean => ch === 0x20 || ch === 0x09 || ch === 0x0d || ch === 0x0a;
const isSpecialSymbol = (ch: number): boolean =>
  ch === 0x3d || ch === 0x21 || ch === 0x28 || ch === 0x29 || ch === 0x2c || ch === 0x3e || ch === 0x3c;

/** Upstream's Lexer works on bytes, and a NUL byte ends the input: so does this one. */
class Lexer {
  private pos = 0;
  constructor(private readonly b: Buffer) {}

  private read(): number {
    if (this.pos < this.b.length) return this.b[this.pos++];
    return 0;
  }

  private unread(): void {
    this.pos--;
  }

  private scanIdOrKeyword(): Item {
    const bytes: number[] = [];
    for (;;) {
      const ch = this.read();
      if (ch === 0) break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      bytes.push(ch);
    }
    const s = Buffer.from(bytes).toString('utf8');
    const tok = tokenFor(s);
    return tok !== undefined ? { tok, lit: s } : { tok: Tok.Identifier, lit: s };
  }

  private scanSpecialSymbol(): Item {
    let last: Item | undefined;
    let buffer = '';
    for (;;) {
      const ch = this.read();
      if (ch === 0) break;
      if (isSpecialSymbol(ch)) {
        buffer += String.fromCharCode(ch);
        const tok = tokenFor(buffer);
        if (tok !== undefined) last = { tok, lit: buffer };
        else if (last) {
          this.unread();
          break;
        }
      } else {
        this.unread();
        break;
      }
    }
    if (!last) return { tok: Tok.Error, lit: `error expected: keyword found '${buffer}'` };
    return last;
  }

  lex(): Item {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === 0) return { tok: Tok.EndOfString, lit: '' };
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIdOrKeyword();
  }
}

/** A parse failure carries upstream's message; it becomes a 400 at the top. */
class ParseError extends Error {}

const enum Ctx {
  KeyAndOperator,
  Values,
}

class Parser {
  private items: Item[] = [];
  private position = 0;
  constructor(private readonly lexer: Lexer) {}

  private lookahead(ctx: Ctx): Item {
    const it = this.items[Math.min(this.position, this.items.length - 1)];
    if (ctx === Ctx.Values && (it.tok === Tok.In || it.tok === Tok.NotIn)) return { tok: Tok.Identifier, lit: it.lit };
    return it;
  }

  private consume(ctx: Ctx): Item {
    const it = this.lookahead(ctx);
    this.position++;
    return it;
  }

  private scan(): void {
    for (;;) {
      const it = this.lexer.lex();
      this.items.push(it);
      if (it.tok === Tok.EndOfString) break;
    }
  }

  parse(): LabelRequirement[] {
    this.scan();
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead(Ctx.Values);
      switch (tok) {
        case Tok.Identifier:
        case Tok.DoesNotExist: {
          let r: LabelRequirement;
          try {
            r = this.parseRequirement();
          } catch (e) {
            if (e instanceof ParseError) throw new ParseError(`unable to parse requirement: ${e.message}`);
            throw e;
          }
          reqs.push(r);
          const t = this.consume(Ctx.Values);
          if (t.tok === Tok.EndOfString) return reqs;
          if (t.tok === Tok.Comma) {
            const t2 = this.lookahead(Ctx.Values);
            if (t2.tok !== Tok.Identifier && t2.tok !== Tok.DoesNotExist) {
              throw new ParseError(`found '${t2.lit}', expected: identifier after ','`);
            }
            break;
          }
          throw new ParseError(`found '${t.lit}', expected: ',' or 'end of string'`);
        }
        case Tok.EndOfString:
          return reqs;
        default:
          throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    const { key, operator } = this.parseKeyAndInferOperator();
    if (operator === 'exists' || operator === '!') return newRequirement(key, operator, []);
    const op = this.parseOperator();
    const values = op === 'in' || op === 'notin' ? this.parseValues() : this.parseExactValue();
    // upstream collects values in a sets.String and passes values.List(): deduplicated and sorted.
    return newRequirement(key, op, [...values].sort(compareGoStrings));
  }

  private parseKeyAndInferOperator(): { key: string; operator: LabelOperator | undefined } {
    let operator: LabelOperator | undefined;
    let it = this.consume(Ctx.Values);
    if (it.tok === Tok.DoesNotExist) {
      operator = '!';
      it = this.consume(Ctx.Values);
    }
    if (it.tok !== Tok.Identifier) throw new ParseError(`found '${it.lit}', expected: identifier`);
    const keyErr = validateLabelKey(it.lit, '<nil>');
    if (keyErr) throw new ParseError(keyErr);
    const next = this.lookahead(Ctx.Values).tok;
    if ((next === Tok.EndOfString || next === Tok.Comma) && operator !== '!') operator = 'exists';
    return { key: it.lit, operator };
  }

  private parseOperator(): LabelOperator {
    const { tok, lit } = this.consume(Ctx.KeyAndOperator);
    switch (tok) {
      case Tok.In:
        return 'in';
      case Tok.Equals:
        return '=';
      case Tok.DoubleEquals:
        return '==';
      case Tok.GreaterThan:
        return 'gt';
      case Tok.LessThan:
        return 'lt';
      case Tok.NotIn:
        return 'notin';
      case Tok.NotEquals:
        return '!=';
      default:
        throw new ParseError(`found '${lit}', expected: ${binaryOperators.join(', ')}`);
    }
  }

  private parseValues(): Set<string> {
    let it = this.consume(Ctx.Values);
    if (it.tok !== Tok.OpenPar) throw new ParseError(`found '${it.lit}' expected: '('`);
    it = this.lookahead(Ctx.Values);
    switch (it.tok) {
      case Tok.Identifier:
      case Tok.Comma: {
        const s = this.parseIdentifiersList();
        if (this.consume(Ctx.Values).tok !== Tok.ClosedPar) throw new ParseError(`found '${it.lit}', expected: ')'`);
        return s;
      }
      case Tok.ClosedPar:
        this.consume(Ctx.Values);
        return new Set(['']);
      default:
        throw new ParseError(`found '${it.lit}', expected: ',', ')' or identifier`);
    }
  }

  private parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const it = this.consume(Ctx.Values);
      if (it.tok === Tok.Identifier) {
        s.add(it.lit);
        const it2 = this.lookahead(Ctx.Values);
        if (it2.tok === Tok.Comma) continue;
        if (it2.tok === Tok.ClosedPar) return s;
        throw new ParseError(`found '${it2.lit}', expected: ',' or ')'`);
      } else if (it.tok === Tok.Comma) {
        if (s.size === 0) s.add(''); // "(,"
        const t2 = this.lookahead(Ctx.Values).tok;
        if (t2 === Tok.ClosedPar) {
          s.add(''); // ",)"
          return s;
        }
        if (t2 === Tok.Comma) s.add(''); // ",,"
      } else {
        throw new ParseError(`found '${it.lit}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): Set<string> {
    const t = this.lookahead(Ctx.Values).tok;
    if (t === Tok.EndOfString || t === Tok.Comma) return new Set(['']);
    const it = this.consume(Ctx.Values);
    if (it.tok === Tok.Identifier) return new Set([it.lit]);
    throw new ParseError(`found '${it.lit}', expected: identifier`);
  }
}

function validateLabelKey(k: string, path: string): string | undefined {
  const errs = isQualifiedName(k);
  return errs.length ? aggregateFieldErrors([fieldErrors.invalid(path, k, errs.join('; '))]) : undefined;
}

const int64Pattern = /^[+-]?[0-9]+$/;
function isInt64(s: string): boolean {
  if (!int64Pattern.test(s)) return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** upstream NewRequirement: every rule checked, all failures aggregated into one message. */
function newRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  const errs: FieldError[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(fieldErrors.invalid('key', key, keyErrs.join('; ')));
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(fieldErrors.invalid('values', values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(fieldErrors.invalid('values', values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(fieldErrors.invalid('values', values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(fieldErrors.invalid('values', values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (!isInt64(v)) errs.push(fieldErrors.invalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const vErrs = isValidLabelValue(v);
    if (vErrs.length) errs.push(fieldErrors.invalid(`values[${i}][${key}]`, v, vErrs.join('; ')));
  });
  if (errs.length) throw new ParseError(aggregateFieldErrors(errs));
  return { key, operator, values };
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const val = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return val !== undefined && r.values.includes(val);
    case 'notin':
    case '!=':
      return val === undefined || !r.values.includes(val);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (val === undefined || !isInt64(val) || r.values.length !== 1 || !isInt64(r.values[0])) return false;
      const lv = BigInt(val);
      const rv = BigInt(r.values[0]);
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  const values = r.values.length === 1 ? r.values[0] : [...r.values].sort(compareGoStrings).join(',');
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
      return `${r.key} in (${values})`;
    case 'notin':
      return `${r.key} notin (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

class RequirementsSelector implements LabelSelector {
  constructor(readonly requirements: readonly LabelRequirement[]) {}

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Record<string, string> | undefined): boolean {
    const ls = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, ls));
  }

  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }
}

/** A selector that matches nothing (upstream labels.Nothing()), e.g. for an invalid matchExpressions operator. */
class NothingSelector implements LabelSelector {
  readonly empty = false;
  readonly requirements: readonly LabelRequirement[] = [];
  matches(): boolean {
    return false;
  }
  toString(): string {
    return '';
  }
}

function sortByKey(reqs: LabelRequirement[]): LabelRequirement[] {
  // upstream sort.Sort(ByKey) is not stable; a stable sort gives the same result for distinct keys.
  return reqs.sort((a, b) => compareGoStrings(a.key, b.key));
}

/** Parses a `labelSelector` query value; a syntax or validation error is a 400 with upstream's message. */
export function parseLabelSelector(s: string): LabelSelector {
  try {
    return new RequirementsSelector(sortByKey(new Parser(new Lexer(Buffer.from(s, 'utf8'))).parse()));
  } catch (e) {
    if (e instanceof ParseError) throw StatusError.badRequest(e.message);
    throw e;
  }
}

export interface MetaLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/**
 * metav1.LabelSelectorAsSelector: null/absent → matches nothing is the caller's choice; an empty object matches
 * everything. Invalid content → 400 with upstream's wording (`"Foo" is not a valid label selector operator`).
 */
export function labelSelectorFromMeta(sel: MetaLabelSelector | null | undefined): LabelSelector {
  if (sel === null || sel === undefined) return new NothingSelector();
  const reqs: LabelRequirement[] = [];
  try {
    for (const k of Object.keys(sel.matchLabels ?? {})) {
      reqs.push(newRequirement(k, '=', [String(sel.matchLabels?.[k])]));
    }
    for (const expr of sel.matchExpressions ?? []) {
      const values = Array.isArray(expr.values) ? expr.values.map(String) : [];
      let op: LabelOperator;
      switch (expr.operator) {
        case 'In':
          op = 'in';
          break;
        case 'NotIn':
          op = 'notin';
          break;
        case 'Exists':
          op = 'exists';
          break;
        case 'DoesNotExist':
          op = '!';
          break;
        default:
          throw new ParseError(`${JSON.stringify(String(expr.operator))} is not a valid label selector operator`);
      }
      reqs.push(newRequirement(String(expr.key), op, values));
    }
  } catch (e) {
    if (e instanceof ParseError) throw StatusError.badRequest(e.message);
    throw e;
  }
  return new RequirementsSelector(sortByKey(reqs));
}
