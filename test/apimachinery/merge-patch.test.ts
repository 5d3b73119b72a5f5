import t from 'tap';
import { applyMergePatch, mergePatch } from '../../src/apimachinery/merge-patch.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import { thrownBy } from '../helpers/thrown.js';


t.test('RFC 7386 appendix A examples', async (t) => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, want] of cases) {
    t.same(mergePatch(target, patch), want, `${JSON.stringify(target)} + ${JSON.stringify(patch)}`);
  }
});

t.test('kubectl-style patches on objects', async (t) => {
  const obj = { metadata: { name: 'a', labels: { x: '1', y: '2' } }, spec: { list: [1, 2, 3], keep: true } };
  const before = JSON.stringify(obj);
  const patch = { metadata: { labels: { x: null, z: '3' }, annotations: { note: 'hi' } }, spec: { list: [4] } };
  const patchBefore = JSON.stringify(patch);
  t.same(applyMergePatch(obj, patch), {
    metadata: { name: 'a', labels: { y: '2', z: '3' }, annotations: { note: 'hi' } },
    spec: { list: [4], keep: true },
  });
  t.equal(JSON.stringify(obj), before, 'target untouched');
  t.equal(JSON.stringify(patch), patchBefore, 'patch untouched');
  const result = applyMergePatch(obj, {}) as typeof obj;
  t.not(result.metadata, obj.metadata, 'the result shares nothing with the target');
  t.same(applyMergePatch(obj, { spec: { list: [null, { a: null }] } }), { ...obj, spec: { list: [null, { a: null }], keep: true } }, 'nulls inside arrays are values');
});

t.test('hostile keys and values', async (t) => {
  const r = applyMergePatch({}, JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}')) as Record<string, unknown>;
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.equal(Object.getPrototypeOf(r), Object.prototype);
  t.same(Object.keys(r).sort(), ['__proto__', 'constructor']);
  t.same(applyMergePatch({ toString: 1 }, { toString: null, hasOwnProperty: 2 }), { hasOwnProperty: 2 });
  t.same(applyMergePatch({ a: 1 }, { '\u2713': '\u0000' }), { a: 1, '\u2713': '\u0000' });
  let deep: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 900; i++) deep = { d: deep };
  t.ok(applyMergePatch({}, deep));
  const wide: Record<string, number | null> = {};
  for (let i = 0; i < 50_000; i++) wide[`k${i}`] = i % 2 ? null : i;
  t.equal(Object.keys(applyMergePatch({ k1: 1, k3: 3 }, wide) as object).length, 25_000);
});

t.test('kube-apiserver refuses non-object patches and documents', async (t) => {
  for (const p of [[], ['a'], 'x', 1, null, true]) {
    const e = thrownBy(StatusError, () => applyMergePatch({ a: 1 }, p));
    t.equal(e.code, 400);
    t.equal(e.message, 'Invalid JSON Patch');
  }
  t.equal(thrownBy(StatusError, () => applyMergePatch([], {})).message, 'Invalid JSON Document');
});
