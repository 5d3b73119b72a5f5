// Property tests over random (and hostile) input for the pure request-side libraries: they agree with reference
// implementations where one exists, never throw anything but a StatusError, and round-trip their own output.
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import fc from 'fast-check';
import { decodeBody } from '../../src/apimachinery/request-body.js';
import { parseLabelSelector } from '../../src/apimachinery/label-selector.js';
import { parseFieldSelector } from '../../src/apimachinery/field-selector.js';
import { parseRequestInfo } from '../../src/apimachinery/request-info.js';
import { mergePatch } from '../../src/apimachinery/merge-patch.js';
import { applyJsonPatch } from '../../src/apimachinery/json-patch.js';
import { validateObjectMeta } from '../../src/apimachinery/object-meta-validation.js';
import { pruneUnknownFields } from '../../src/apimachinery/prune.js';
import { StatusError } from '../../src/apimachinery/status-error.js';

const runs = { numRuns: 300, seed: 20261126 };

/** Runs fn; a StatusError with a 4xx code is an acceptable outcome, anything else thrown is a bug. */
function total<T>(fn: () => T): T | StatusError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof StatusError && e.code >= 400 && e.code < 500) return e;
    throw e;
  }
}

function hasNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (typeof v === 'object' && v !== null) return Object.values(v).some(hasNonFinite);
  return false;
}

const anyText = fc.string({ unit: 'binary', maxLength: 60 });
const selectorish = fc.string({ unit: fc.constantFrom(...'ab=!,() \tinotx<>1-./\\'.split('')), maxLength: 40 });

t.test('decodeBody(json) agrees with JSON.parse on valid JSON', async (t) => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      const text = JSON.stringify(v);
      const r = decodeBody(text, 'json');
      return isDeepStrictEqual(r.value, JSON.parse(text)) && r.duplicateFields.length === 0;
    }),
    runs,
  );
  t.pass('ok');
});

t.test('decodeBody(json) accepts exactly what JSON.parse accepts', async (t) => {
  const jsonish = fc.string({ unit: fc.constantFrom(...'{}[]":,0123-.eE+tfnrulase \n\\u"a'.split('')), maxLength: 30 });
  fc.assert(
    fc.property(fc.oneof(jsonish, anyText), (text) => {
      let expected: unknown;
      let ok: boolean;
      try {
        expected = JSON.parse(text);
        // numbers beyond float64 parse to Infinity in JavaScript; Go (and decodeBody) refuse them
        ok = !hasNonFinite(expected);
      } catch {
        ok = false;
      }
      const r = total(() => decodeBody(text, 'json'));
      if (!ok) return r instanceof StatusError && r.code === 400;
      return !(r instanceof StatusError) && JSON.stringify(r.value) === JSON.stringify(expected);
    }),
    runs,
  );
  t.pass('ok');
});

t.test('decodeBody(yaml) never throws anything but a 400', async (t) => {
  const yamlish = fc.string({ unit: fc.constantFrom(...'ab: -\n  []{}&*!|>"\'#?,.~0'.split('')), maxLength: 40 });
  fc.assert(
    fc.property(fc.oneof(yamlish, anyText), (text) => {
      const r = total(() => decodeBody(text, 'yaml'));
      return r instanceof StatusError ? r.code === 400 : JSON.stringify(r.value) !== undefined || r.value === undefined;
    }),
    runs,
  );
  t.pass('ok');
});

t.test('label selectors: 400 or a selector whose string parses back to itself', async (t) => {
  fc.assert(
    fc.property(fc.oneof(selectorish, anyText), (s) => {
      const r = total(() => parseLabelSelector(s));
      if (r instanceof StatusError) return r.code === 400;
      const again = parseLabelSelector(r.toString());
      return again.toString() === r.toString() && again.matches({ a: '1' }) === r.matches({ a: '1' });
    }),
    runs,
  );
  t.pass('ok');
});

t.test('field selectors: 400 or a selector whose string parses back to the same requirements', async (t) => {
  fc.assert(
    fc.property(fc.oneof(selectorish, anyText), (s) => {
      const r = total(() => parseFieldSelector(s));
      if (r instanceof StatusError) return r.code === 400;
      const again = parseFieldSelector(r.toString());
      return JSON.stringify(again.requirements) === JSON.stringify(r.requirements);
    }),
    runs,
  );
  t.pass('ok');
});

t.test('parseRequestInfo never throws and its resource parts come from the path', async (t) => {
  const pathish = fc.string({ unit: fc.constantFrom(...'/apis/v1namespaces%2F2e.?=&watch#x'.split('')), maxLength: 60 });
  fc.assert(
    fc.property(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'weird'), fc.oneof(pathish, anyText), (method, url) => {
      const info = parseRequestInfo(method, url);
      if (!info.isResourceRequest) return info.verb === method.toLowerCase() && info.resource === '';
      return info.parts.every((p) => !p.includes('/')) && (info.name === '' || info.parts.length >= 2 || info.verb === 'list' || info.verb === 'watch');
    }),
    runs,
  );
  t.pass('ok');
});

t.test('merge patch: applying a patch twice is the same as once (RFC 7386 idempotence)', async (t) => {
  const obj = fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
  fc.assert(
    fc.property(obj, obj, (target, patch) => {
      const once = mergePatch(target, patch);
      return JSON.stringify(mergePatch(once, patch)) === JSON.stringify(once);
    }),
    runs,
  );
  t.pass('ok');
});

t.test('json patch: random operations give a result or a 4xx, and never touch the input', async (t) => {
  const pointer = fc.array(fc.constantFrom('a', 'b', '0', '1', '-', '__proto__', 'constructor', 'x~1y', ''), { maxLength: 3 }).map((p) => (p.length ? `/${p.join('/')}` : ''));
  const op = fc.record({
    op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
    path: fc.oneof(pointer, fc.constant(5)),
    from: pointer,
    value: fc.jsonValue({ maxDepth: 2 }),
  });
  const doc = fc.jsonValue({ maxDepth: 3 });
  fc.assert(
    fc.property(doc, fc.array(op, { maxLength: 5 }), (d, ops) => {
      const before = JSON.stringify(d);
      const r = total(() => applyJsonPatch(d, ops));
      return JSON.stringify(d) === before && ({} as Record<string, unknown>).polluted === undefined && (r instanceof StatusError ? [400, 413, 422].includes(r.code) : true);
    }),
    runs,
  );
  t.pass('ok');
});

t.test('object meta validation and pruning never throw on arbitrary JSON', async (t) => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 }), (meta, spec) => {
      const errs = validateObjectMeta(meta, { namespaced: true });
      const obj = { metadata: meta, spec };
      pruneUnknownFields(obj, { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } } });
      return Array.isArray(errs) && errs.every((e) => typeof e.field === 'string');
    }),
    runs,
  );
  t.pass('ok');
});
