import t from 'tap';
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from '../../src/apimachinery/json-patch.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import { thrownBy } from '../helpers/thrown.js';


const doc = () => ({
  metadata: { name: 'a', labels: { x: '1' }, 'a/b': 1, 'm~n': 2 },
  spec: { list: [1, 2, 3], obj: { k: 'v' } },
});

t.test('RFC 6902 operations', async (t) => {
  const cases: [string, unknown[], unknown][] = [
    ['add a key', [{ op: 'add', path: '/spec/new', value: { a: 1 } }], { ...doc(), spec: { ...doc().spec, new: { a: 1 } } }],
    ['add replaces an existing key', [{ op: 'add', path: '/spec/obj', value: 1 }], { ...doc(), spec: { ...doc().spec, obj: 1 } }],
    ['add to an array end', [{ op: 'add', path: '/spec/list/-', value: 4 }], { ...doc(), spec: { ...doc().spec, list: [1, 2, 3, 4] } }],
    ['insert into an array', [{ op: 'add', path: '/spec/list/0', value: 0 }], { ...doc(), spec: { ...doc().spec, list: [0, 1, 2, 3] } }],
    ['remove', [{ op: 'remove', path: '/metadata/labels/x' }], { ...doc(), metadata: { ...doc().metadata, labels: {} } }],
    ['remove from an array', [{ op: 'remove', path: '/spec/list/1' }], { ...doc(), spec: { ...doc().spec, list: [1, 3] } }],
    ['replace', [{ op: 'replace', path: '/metadata/name', value: 'b' }], { ...doc(), metadata: { ...doc().metadata, name: 'b' } }],
    ['escaped pointers', [{ op: 'replace', path: '/metadata/a~1b', value: 10 }, { op: 'replace', path: '/metadata/m~0n', value: 20 }], {
      ...doc(),
      metadata: { ...doc().metadata, 'a/b': 10, 'm~n': 20 },
    }],
    ['move', [{ op: 'move', from: '/spec/obj', path: '/spec/moved' }], { ...doc(), spec: { list: [1, 2, 3], moved: { k: 'v' } } }],
    ['copy', [{ op: 'copy', from: '/spec/obj', path: '/spec/copied' }], { ...doc(), spec: { ...doc().spec, copied: { k: 'v' } } }],
    ['passing test', [{ op: 'test', path: '/spec/obj', value: { k: 'v' } }], doc()],
    ['test then replace', [{ op: 'test', path: '/metadata/name', value: 'a' }, { op: 'replace', path: '/metadata/name', value: 'c' }], {
      ...doc(),
      metadata: { ...doc().metadata, name: 'c' },
    }],
    ['empty patch', [], doc()],
    ['extra members are ignored', [{ op: 'add', path: '/x', value: 1, comment: 'hi' }], { ...doc(), x: 1 }],
  ];
  for (const [title, ops, want] of cases) t.same(applyJsonPatch(doc(), ops), want, title);
});

t.test('inputs are not mutated and the result shares nothing with the patch', async (t) => {
  const d = doc();
  const before = JSON.stringify(d);
  const value = { nested: { a: 1 } };
  const ops = [{ op: 'add', path: '/spec/v', value }, { op: 'copy', from: '/spec/v', path: '/spec/w' }];
  const opsBefore = JSON.stringify(ops);
  const r = applyJsonPatch(d, ops) as { spec: { v: typeof value; w: typeof value } };
  t.equal(JSON.stringify(d), before);
  t.equal(JSON.stringify(ops), opsBefore);
  r.spec.v.nested.a = 2;
  t.equal(value.nested.a, 1);
  t.equal(r.spec.w.nested.a, 1);
});

t.test('a patch that is not a list of objects is a 400 (DecodePatch)', async (t) => {
  const cases: [unknown, string][] = [
    [{ op: 'add' }, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch'],
    ['x', 'json: cannot unmarshal string into Go value of type jsonpatch.Patch'],
    [null, 'json: cannot unmarshal null into Go value of type jsonpatch.Patch'],
    [[1], 'json: cannot unmarshal number into Go value of type jsonpatch.Operation'],
    [[[]], 'json: cannot unmarshal array into Go value of type jsonpatch.Operation'],
  ];
  for (const [ops, message] of cases) {
    const e = thrownBy(StatusError, () => applyJsonPatch(doc(), ops));
    t.equal(e.code, 400);
    t.equal(e.reason, 'BadRequest');
    t.equal(e.message, message);
  }
});

t.test('operations that cannot apply are 422 Invalid with the reason as cause', async (t) => {
  const cases: [string, unknown[], RegExp][] = [
    ['failing test', [{ op: 'test', path: '/metadata/name', value: 'zzz' }], /^operation 0 \(test "\/metadata\/name"\): testing value \/metadata\/name failed$/],
    ['test of a missing path', [{ op: 'test', path: '/nope', value: 1 }], /the path does not exist/],
    ['remove a missing key', [{ op: 'remove', path: '/spec/nope' }], /the path does not exist/],
    ['replace a missing key', [{ op: 'replace', path: '/spec/nope', value: 1 }], /the path does not exist/],
    ['replace beyond an array', [{ op: 'replace', path: '/spec/list/3', value: 1 }], /the path does not exist/],
    ['add under a missing parent', [{ op: 'add', path: '/spec/nope/x', value: 1 }], /parent of the path does not exist/],
    ['add under a scalar', [{ op: 'add', path: '/metadata/name/x', value: 1 }], /parent of the path does not exist/],
    ['add past the array end', [{ op: 'add', path: '/spec/list/7', value: 1 }], /MUST NOT be greater than the number of elements/],
    ['non-numeric array index', [{ op: 'add', path: '/spec/list/abc', value: 1 }], /unsigned base-10 integer/],
    ['unknown op', [{ op: 'frobnicate', path: '/x' }], /^Unexpected kind: frobnicate in operation 0$/],
    ['missing op', [{ path: '/x' }], /^Unexpected kind: unknown in operation 0$/],
    ['missing path', [{ op: 'add', value: 1 }], /missing or non-string "path"/],
    ['path of wrong type', [{ op: 'remove', path: 5 }], /missing or non-string "path"/],
    ['relative path', [{ op: 'add', path: 'spec', value: 1 }], /"path" must start with "\/"/],
    ['missing value', [{ op: 'add', path: '/x' }], /missing "value"/],
    ['missing from', [{ op: 'move', path: '/x' }], /missing or non-string "from"/],
    ['from does not exist', [{ op: 'copy', from: '/nope', path: '/x' }], /"from" "\/nope" does not exist/],
    ['move into own child', [{ op: 'move', from: '/spec', path: '/spec/obj/inner' }], /cannot be moved into one of its own children/],
    ['prototype pollution', [{ op: 'add', path: '/__proto__/polluted', value: true }], /parent of the path does not exist/],
    ['prototype pollution at the top', [{ op: 'add', path: '/__proto__', value: { polluted: true } }], /banned for security reasons/],
    ['constructor prototype', [{ op: 'add', path: '/constructor/prototype/x', value: 1 }], /parent of the path does not exist/],
    ['inherited names are not paths', [{ op: 'remove', path: '/spec/toString' }], /the path does not exist/],
    ['second op fails', [{ op: 'add', path: '/x', value: 1 }, { op: 'test', path: '/x', value: 2 }], /^operation 1 \(test "\/x"\): testing value \/x failed$/],
  ];
  for (const [title, ops, cause] of cases) {
    const e = thrownBy(StatusError, () => applyJsonPatch(doc(), ops));
    t.equal(e.code, 422, title);
    t.equal(e.reason, 'Invalid', title);
    t.equal(e.message, 'the server rejected our request due to an error in our request', title);
    t.match(e.details?.causes?.[0]?.message, cause, title);
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.equal((Object.prototype as unknown as Record<string, unknown>).x, undefined);
});

t.test('limits', async (t) => {
  const many = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '', value: {} }));
  const e = thrownBy(StatusError, () => applyJsonPatch({}, many));
  t.equal(e.code, 413);
  t.equal(e.message, `Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001`);
  // 10000 copies of a large document: bounded work, and the copy budget stops exponential growth
  const big = { spec: { blob: 'x'.repeat(100_000) } };
  const copies = Array.from({ length: 10_000 }, (_, i) => ({ op: 'copy', from: '/spec/blob', path: `/spec/c${i}` }));
  const e2 = thrownBy(StatusError, () => applyJsonPatch(big, copies));
  t.equal(e2.code, 422);
  t.match(e2.details?.causes?.[0]?.message, /copy operations would add more than 10485760 bytes/);
  const doubling = Array.from({ length: 40 }, (_, i) => ({ op: 'copy', from: '/a', path: `/a/k${i}` }));
  t.equal(thrownBy(StatusError, () => applyJsonPatch({ a: { seed: 'y'.repeat(1000) } }, doubling)).code, 422);
  const moves = Array.from({ length: 10_000 }, (_, i) => ({ op: 'move', from: i % 2 ? '/b' : '/a', path: i % 2 ? '/a' : '/b' }));
  const r = applyJsonPatch({ a: { blob: 'z'.repeat(1_000_000) } }, moves) as Record<string, unknown>;
  t.same(Object.keys(r), ['a'], '10000 moves of a big value stay cheap');
});

t.test('root operations', async (t) => {
  t.same(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }]), { b: 2 });
  t.same(applyJsonPatch({ a: 1 }, [{ op: 'test', path: '', value: { a: 1 } }]), { a: 1 });
  t.equal(thrownBy(StatusError, () => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '', value: { a: 2 } }])).code, 422);
});
