// Request bodies: JSON and YAML decoded into plain values, with the duplicate fields a strict decoder reports.
//
// JSON goes through a small iterative parser (no recursion, linear time) so that duplicate keys can be seen — JSON.parse
// silently keeps the last — and so that absurd nesting is a 400 rather than a stack overflow. Go's encoding/json (and
// sigs.k8s.io/json, which kube-apiserver uses) stops at 10000 levels ("exceeded max depth"); we stop at 1000 by
// default because nothing this server stores nests that deep and the code after decoding (pruning, patching,
// validation) walks objects recursively.
//
// YAML follows sigs.k8s.io/yaml (go-yaml v2, so YAML 1.1 scalars: yes/no/on/off are booleans, 0755 is octal),
// timestamps stay strings as go-yaml v2 leaves them, one document only, aliases bounded against "billion laughs".

import YAML, { isAlias, isMap, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import { StatusError } from './status-error.js';

export const DEFAULT_MAX_DEPTH = 1000;
const MAX_ALIAS_COUNT = 100;
/** Enough to tell a client what is wrong; bounds the work a hostile body can cause. */
const MAX_REPORTED_DUPLICATES = 1000;

export interface DecodeOptions {
  /** Containers deeper than this are refused with a 400. */
  maxDepth?: number;
}

export interface DecodedBody {
  value: unknown;
  /** Dotted paths of keys that appeared more than once in one object (`spec.x`, `spec.items[0].y`); the last wins. */
  duplicateFields: string[];
}

export function decodeBody(raw: string | Buffer, mediaType: 'json' | 'yaml', opts: DecodeOptions = {}): DecodedBody {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  return mediaType === 'yaml' ? decodeYaml(text, maxDepth) : decodeJson(text, maxDepth);
}

/** decodeBody for a resource: the top-level value must be an object. */
export function decodeObjectBody(
  raw: string | Buffer,
  mediaType: 'json' | 'yaml',
  opts: DecodeOptions = {},
): { value: Record<string, unknown>; duplicateFields: string[] } {
  const decoded = decodeBody(raw, mediaType, opts);
  const v = decoded.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    const what = v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
    throw StatusError.badRequest(`the request body must be a ${mediaType === 'yaml' ? 'YAML' : 'JSON'} object, not ${what}`);
  }
  return { value: v as Record<string, unknown>, duplicateFields: decoded.duplicateFields };
}

// ---- paths ----

type PathStep = string | number;

function formatPath(steps: PathStep[]): string {
  let out = '';
  for (const s of steps) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/** Sets an own property even for `__proto__`, which plain assignment would turn into a prototype change. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

// ---- JSON ----

// A container is attached to its parent when it closes, so the parent's current key (or next index) names it while
// it is being parsed. `path` caches the container's own path once a duplicate inside it needs it.
interface ObjFrame {
  kind: 'object';
  value: Record<string, unknown>;
  key: string | undefined;
  path?: string;
  /** Keys of this object already reported as duplicates. */
  reported?: Set<string>;
}
interface ArrFrame {
  kind: 'array';
  value: unknown[];
  path?: string;
}
type Frame = ObjFrame | ArrFrame;

/** Go's quoteChar: `'x'`, with `'\''` and `'"'` special and control characters escaped. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

function position(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

const numberRe = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

function decodeJson(text: string, maxDepth: number): DecodedBody {
  try {
    return new JsonParser(text, maxDepth).parse();
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      throw StatusError.badRequest(`json parse error: ${e.message} (${position(text, e.offset)})`);
    }
    throw e;
  }
}

class JsonParser {
  private i = 0;
  private readonly stack: Frame[] = [];
  private readonly duplicates = new Set<string>();

  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {}

  private fail(msg: string, at = this.i): never {
    throw new JsonSyntaxError(msg, at);
  }

  private skipWs(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  private unexpected(context: string): never {
    if (this.i >= this.s.length) this.fail('unexpected end of JSON input');
    // a character outside the BMP is one Go rune; keep its surrogates together
    const ch = String.fromCodePoint(this.s.codePointAt(this.i) as number);
    this.fail(`invalid character ${quoteChar(ch)} ${context}`);
  }

  private readString(): string {
    const s = this.s;
    const start = this.i; // at the opening quote
    let j = start + 1;
    let simple = true;
    for (;;) {
      if (j >= s.length) this.fail('unexpected end of JSON input', j);
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        simple = false;
        const e = s[j + 1];
        if (e === undefined) this.fail('unexpected end of JSON input', j + 1);
        if (e === 'u') {
          const hex = s.slice(j + 2, j + 6);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) {
            const bad = [...hex].find((h) => !/[0-9A-Fa-f]/.test(h));
            if (bad === undefined) this.fail('unexpected end of JSON input', s.length);
            this.fail(`invalid character ${quoteChar(bad)} in \\u hexadecimal character escape`, j + 2 + hex.indexOf(bad));
          }
          j += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) this.fail(`invalid character ${quoteChar(e)} in string escape code`, j + 1);
        j += 2;
        continue;
      }
      if (c < 0x20) this.fail(`invalid character ${quoteChar(s[j])} in string literal`, j);
      j++;
    }
    this.i = j + 1;
    return simple ? s.slice(start + 1, j) : (JSON.parse(s.slice(start, j + 1)) as string);
  }

  private readScalar(): unknown {
    const s = this.s;
    const c = s[this.i];
    if (c === '"') return this.readString();
    if (c === 't' || c === 'f' || c === 'n') {
      const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      for (let k = 1; k < word.length; k++) {
        if (s[this.i + k] !== word[k]) {
          this.i += k;
          this.unexpected(`in literal ${word} (expecting ${quoteChar(word[k])})`);
        }
      }
      this.i += word.length;
      return c === 't' ? true : c === 'f' ? false : null;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      numberRe.lastIndex = this.i;
      const m = numberRe.exec(s);
      if (!m) {
        this.i++;
        this.unexpected('in numeric literal');
      }
      this.i += m[0].length;
      // "1." and "1e" are malformed numbers in Go, not a number followed by junk
      const next = s[this.i];
      if (next === '.') {
        this.i++;
        this.unexpected('after decimal point in numeric literal');
      }
      if ((next === 'e' || next === 'E') && !/[eE]/.test(m[0])) {
        this.i++;
        if (s[this.i] === '+' || s[this.i] === '-') this.i++;
        this.unexpected('in exponent of numeric literal');
      }
      const n = Number(m[0]);
      // Go refuses what float64 cannot hold; JavaScript would quietly turn it into Infinity (then null)
      if (!Number.isFinite(n)) this.fail(`number ${m[0]} is out of range`, this.i - m[0].length);
      return n;
    }
    return this.unexpected('looking for beginning of value');
  }

  private push(frame: Frame): void {
    if (this.stack.length >= this.maxDepth) this.fail(`exceeded max depth of ${this.maxDepth}`);
    this.stack.push(frame);
  }

  /** The path of the container at stack index `k`, from its ancestors' current keys and indexes (cached). */
  private containerPath(k: number): string {
    let j = k;
    while (j > 0 && this.stack[j].path === undefined) j--;
    if (this.stack[j].path === undefined) this.stack[j].path = '';
    for (let m = j + 1; m <= k; m++) {
      const parent = this.stack[m - 1];
      const parentPath = parent.path as string;
      const step =
        parent.kind === 'array' ? `[${parent.value.length}]` : parentPath === '' ? (parent.key as string) : `.${parent.key as string}`;
      this.stack[m].path = parentPath + step;
    }
    return this.stack[k].path as string;
  }

  /** Attaches a finished value to the container on top of the stack (or makes it the result). */
  private attach(value: unknown): void {
    const top = this.stack[this.stack.length - 1];
    if (top.kind === 'array') {
      top.value.push(value);
    } else {
      const key = top.key as string;
      if (Object.prototype.hasOwnProperty.call(top.value, key) && !top.reported?.has(key) && this.duplicates.size < MAX_REPORTED_DUPLICATES) {
        (top.reported ??= new Set()).add(key);
        const base = this.containerPath(this.stack.length - 1);
        this.duplicates.add(base === '' ? key : `${base}.${key}`);
      }
      setOwn(top.value, key, value);
      top.key = undefined;
    }
  }

  parse(): DecodedBody {
    const s = this.s;
    let result: unknown;
    let haveResult = false;
    // `expectValue` = the next token must start a value (after '[', ',' in an array, ':' or at the top)
    let expectValue = true;

    const finish = (v: unknown): void => {
      if (this.stack.length === 0) {
        result = v;
        haveResult = true;
      } else {
        this.attach(v);
      }
    };

    for (;;) {
      this.skipWs();
      if (haveResult) {
        if (this.i < s.length) this.unexpected('after top-level value');
        return { value: result, duplicateFields: [...this.duplicates] };
      }
      const top = this.stack[this.stack.length - 1];

      if (expectValue) {
        const c = s[this.i];
        if (c === '{') {
          this.i++;
          this.push({ kind: 'object', value: {}, key: undefined });
          this.skipWs();
          if (s[this.i] === '}') {
            this.i++;
            this.closeContainer(finish);
            expectValue = false;
            continue;
          }
          this.readKey();
          continue;
        }
        if (c === '[') {
          this.i++;
          this.push({ kind: 'array', value: [] });
          this.skipWs();
          if (s[this.i] === ']') {
            this.i++;
            this.closeContainer(finish);
            expectValue = false;
            continue;
          }
          continue;
        }
        finish(this.readScalar());
        expectValue = false;
        continue;
      }

      // after a value inside a container
      const c = s[this.i];
      if (top.kind === 'array') {
        if (c === ',') {
          this.i++;
          expectValue = true;
          continue;
        }
        if (c === ']') {
          this.i++;
          this.closeContainer(finish);
          continue;
        }
        this.unexpected('after array element');
      } else {
        if (c === ',') {
          this.i++;
          this.skipWs();
          this.readKey();
          expectValue = true;
          continue;
        }
        if (c === '}') {
          this.i++;
          this.closeContainer(finish);
          continue;
        }
        this.unexpected('after object key:value pair');
      }
    }
  }

  private readKey(): void {
    const top = this.stack[this.stack.length - 1] as ObjFrame;
    if (this.s[this.i] !== '"') this.unexpected('looking for beginning of object key string');
    top.key = this.readString();
    this.skipWs();
    if (this.s[this.i] !== ':') this.unexpected('after object key');
    this.i++;
  }

  private closeContainer(finish: (v: unknown) => void): void {
    const done = this.stack.pop() as Frame;
    finish(done.value);
  }
}

// ---- YAML ----

const droppedYamlTags = new Set([
  // go-yaml v2 hands timestamps to interface{} targets as strings; the rest have no JSON form
  'tag:yaml.org,2002:timestamp',
  'tag:yaml.org,2002:binary',
  'tag:yaml.org,2002:set',
  'tag:yaml.org,2002:omap',
  'tag:yaml.org,2002:pairs',
]);

function yamlError(message: string): StatusError {
  return StatusError.badRequest(`yaml parse error: ${message}`);
}

function decodeYaml(text: string, maxDepth: number): DecodedBody {
  // JSON is YAML, and it is what kubectl sends as application/apply-patch+yaml: the JSON parser is many times faster
  // than the YAML one and reports the same duplicates, so a body that parses as JSON is taken as such.
  if (/^[\s]*[{[]/.test(text)) {
    try {
      return new JsonParser(text, maxDepth).parse();
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      if (e.message.startsWith('exceeded max depth')) throw yamlError(`exceeded max depth of ${maxDepth}`);
      // not JSON: flow-style YAML such as {a: 1}; fall through
    }
  }
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, {
      version: '1.1',
      uniqueKeys: false,
      logLevel: 'error',
      prettyErrors: true,
      customTags: (tags) => tags.filter((t) => typeof t === 'string' || !droppedYamlTags.has(t.tag)),
    });
  } catch (e) {
    if (e instanceof RangeError) throw yamlError('the document is nested too deeply');
    throw e;
  }
  if (doc.errors.length) {
    const first = doc.errors[0];
    if (first.code === 'MULTIPLE_DOCS') throw yamlError('the request body must be a single YAML document');
    const pos = first.linePos?.[0];
    const where = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
    const text0 = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    if (/call stack/i.test(text0)) throw yamlError(`the document is nested too deeply${where}`);
    throw yamlError(`${text0}${where}`);
  }

  const duplicates = checkYamlTree(doc.contents, maxDepth, text);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof RangeError) throw yamlError('the document is nested too deeply');
    // the yaml package reports "Excessive alias count indicates a resource exhaustion attack" as a ReferenceError
    if (e instanceof ReferenceError) throw yamlError(e.message);
    throw e;
  }
  assertJsonable(value, maxDepth);
  return { value: value === undefined ? null : value, duplicateFields: duplicates };
}

function linePosOf(text: string, node: { range?: [number, number, number] | null }): string {
  return node.range ? ` (${position(text, node.range[0])})` : '';
}

interface WalkEntry {
  node: unknown;
  parent: WalkEntry | undefined;
  step: PathStep | undefined;
  depth: number;
}

function walkPath(e: WalkEntry | undefined, last: PathStep): string {
  const steps: PathStep[] = [last];
  for (let cur = e; cur && cur.step !== undefined; cur = cur.parent) steps.push(cur.step);
  return formatPath(steps.reverse());
}

/** Walks the parsed tree iteratively, in document order: depth bound, scalar keys, duplicate keys with their paths. */
function checkYamlTree(root: unknown, maxDepth: number, text: string): string[] {
  const duplicates = new Set<string>();
  const work: WalkEntry[] = [{ node: root, parent: undefined, step: undefined, depth: 0 }];
  while (work.length) {
    const entry = work.pop() as WalkEntry;
    const { node, depth } = entry;
    if (depth > maxDepth) throw yamlError(`exceeded max depth of ${maxDepth}${linePosOf(text, node as YamlNode)}`);
    const children: WalkEntry[] = [];
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const k = pair.key;
        if (k !== null && !isScalar(k) && !isAlias(k)) {
          throw yamlError(`a mapping key must be a scalar${linePosOf(text, k as YamlNode)}`);
        }
        const key = isScalar(k) ? scalarKey(k.value) : k === null ? 'null' : `*${k.source}`;
        if (key === '<<') {
          // merge keys: the merged-in map is walked where its anchor is defined
          continue;
        }
        if (seen.has(key) && duplicates.size < MAX_REPORTED_DUPLICATES) duplicates.add(walkPath(entry, key));
        seen.add(key);
        children.push({ node: pair.value, parent: entry, step: key, depth: depth + 1 });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, idx) => children.push({ node: item, parent: entry, step: idx, depth: depth + 1 }));
    }
    for (let c = children.length - 1; c >= 0; c--) work.push(children[c]);
  }
  return [...duplicates];
}

function scalarKey(v: unknown): string {
  return v === null ? 'null' : String(v);
}

/** NaN and ±Infinity have no JSON form; a deep alias expansion is bounded here too. */
function assertJsonable(value: unknown, maxDepth: number): void {
  const work: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  let visited = 0;
  while (work.length) {
    const { v, depth } = work.pop() as { v: unknown; depth: number };
    if (++visited > 10_000_000) throw yamlError('the document expands to too many values');
    if (typeof v === 'number' && !Number.isFinite(v)) throw yamlError(`${String(v)} cannot be represented in JSON`);
    if (typeof v === 'object' && v !== null) {
      if (depth >= maxDepth) throw yamlError(`exceeded max depth of ${maxDepth}`);
      for (const child of Object.values(v)) work.push({ v: child, depth: depth + 1 });
    }
  }
}
