import t from 'tap';
import { decodeBody, decodeObjectBody } from '../../src/apimachinery/request-body.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import { thrownBy } from '../helpers/thrown.js';


t.test('JSON values agree with JSON.parse', async (t) => {
  const docs = [
    '{}',
    '[]',
    '{"a":1,"b":[1,2,{"c":null}],"d":"x","e":true,"f":false}',
    ' \t\r\n{ "a" : [ ] , "b" : { } } \n',
    '"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t\\ud83d\\ude00"',
    '-0',
    '1.5e+10',
    '-12.25E-3',
    '0',
    'null',
    '"\u2713 unicode \ud83d\ude00"',
    '[[[[[]]]]]',
    '{"__proto__":{"polluted":true},"constructor":1}',
    '123456789012345678901234567890',
  ];
  for (const d of docs) t.same(decodeBody(d, 'json').value, JSON.parse(d), d);
  const proto = decodeBody('{"__proto__":{"polluted":true}}', 'json').value as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(proto), Object.prototype, '__proto__ is an own key, not a prototype');
  t.same(Object.keys(proto), ['__proto__']);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.same(decodeBody(Buffer.from('{"a":"\u00e9"}', 'utf8'), 'json').value, { a: '\u00e9' });
});

t.test('JSON duplicate fields with upstream-style paths', async (t) => {
  const cases: [string, string[], unknown][] = [
    ['{"a":1,"a":2}', ['a'], { a: 2 }],
    ['{"spec":{"x":1,"x":2}}', ['spec.x'], { spec: { x: 2 } }],
    ['{"metadata":{"labels":{"a":"1","b":"2","a":"3"}}}', ['metadata.labels.a'], { metadata: { labels: { a: '3', b: '2' } } }],
    ['{"spec":{"items":[{"x":1},{"y":1,"y":2}]}}', ['spec.items[1].y'], { spec: { items: [{ x: 1 }, { y: 2 }] } }],
    ['[{"a":1,"a":1}]', ['[0].a'], [{ a: 1 }]],
    ['{"a":{"b":1},"a":{"c":2}}', ['a'], { a: { c: 2 } }],
    ['{"a":1,"a":2,"a":3}', ['a'], { a: 3 }],
    ['{"x":[[{"k":1,"k":1}]],"y":{"z":{"k":0,"k":0}}}', ['x[0][0].k', 'y.z.k'], { x: [[{ k: 1 }]], y: { z: { k: 0 } } }],
    ['{"a.b":1,"a.b":2}', ['a.b'], { 'a.b': 2 }],
    ['{"":1,"":2}', [''], { '': 2 }],
  ];
  for (const [d, dups, value] of cases) {
    const r = decodeBody(d, 'json');
    t.same(r.duplicateFields, dups, d);
    t.same(r.value, value, d);
  }
});

t.test('JSON syntax errors: 400 naming the problem and the position', async (t) => {
  const cases: [string, string][] = [
    ['', 'json parse error: unexpected end of JSON input (line 1, column 1)'],
    ['{', 'json parse error: unexpected end of JSON input (line 1, column 2)'],
    ['{"a":1', 'json parse error: unexpected end of JSON input (line 1, column 7)'],
    ['{"a":1,}', "json parse error: invalid character '}' looking for beginning of object key string (line 1, column 8)"],
    ['[1,]', "json parse error: invalid character ']' looking for beginning of value (line 1, column 4)"],
    ['{"a" 1}', "json parse error: invalid character '1' after object key (line 1, column 6)"],
    ['{"a":1 "b":2}', "json parse error: invalid character '\"' after object key:value pair (line 1, column 8)"],
    ['[1 2]', "json parse error: invalid character '2' after array element (line 1, column 4)"],
    ['{}x', "json parse error: invalid character 'x' after top-level value (line 1, column 3)"],
    ['{}\n\n  }', "json parse error: invalid character '}' after top-level value (line 3, column 3)"],
    ['tru', 'json parse error: unexpected end of JSON input (line 1, column 4)'],
    ['trux', "json parse error: invalid character 'x' in literal true (expecting 'e') (line 1, column 4)"],
    ['nul', 'json parse error: unexpected end of JSON input (line 1, column 4)'],
    ['-', 'json parse error: unexpected end of JSON input (line 1, column 2)'],
    ['-x', "json parse error: invalid character 'x' in numeric literal (line 1, column 2)"],
    ['1.', 'json parse error: unexpected end of JSON input (line 1, column 3)'],
    ['1.x', "json parse error: invalid character 'x' after decimal point in numeric literal (line 1, column 3)"],
    ['1ex', "json parse error: invalid character 'x' in exponent of numeric literal (line 1, column 3)"],
    ['01', "json parse error: invalid character '1' after top-level value (line 1, column 2)"],
    ['"a\nb"', "json parse error: invalid character '\\n' in string literal (line 1, column 3)"],
    ['"a\u0000"', "json parse error: invalid character '\\u0000' in string literal (line 1, column 3)"],
    ['"\\x"', "json parse error: invalid character 'x' in string escape code (line 1, column 3)"],
    ['"\\u12g4"', "json parse error: invalid character 'g' in \\u hexadecimal character escape (line 1, column 6)"],
    ['"abc', 'json parse error: unexpected end of JSON input (line 1, column 5)'],
    ["{'a':1}", "json parse error: invalid character '\\'' looking for beginning of object key string (line 1, column 2)"],
    ['\ufeff{}', "json parse error: invalid character '\ufeff' looking for beginning of value (line 1, column 1)"],
    ['NaN', "json parse error: invalid character 'N' looking for beginning of value (line 1, column 1)"],
    ['{"a":1E400}', 'json parse error: number 1E400 is out of range (line 1, column 6)'],
    ['[-1e999]', 'json parse error: number -1e999 is out of range (line 1, column 2)'],
    ['{"a":\ud83d\ude00}', "json parse error: invalid character '\ud83d\ude00' looking for beginning of value (line 1, column 6)"],
  ];
  for (const [d, message] of cases) {
    const e = thrownBy(StatusError, () => decodeBody(d, 'json'));
    t.equal(e.code, 400, JSON.stringify(d));
    t.equal(e.message, message, JSON.stringify(d));
  }
});

t.test('deep nesting is a 400, never a stack overflow', async (t) => {
  for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
    const deep = open.repeat(10_000) + close.repeat(10_000);
    const e = thrownBy(StatusError, () => decodeBody(deep, 'json'));
    t.equal(e.code, 400);
    t.match(e.message, /^json parse error: exceeded max depth of 1000 \(line 1, column \d+\)$/);
    const veryDeep = open.repeat(1_000_000);
    t.equal(thrownBy(StatusError, () => decodeBody(veryDeep, 'json')).code, 400);
  }
  const ok = '['.repeat(1000) + ']'.repeat(1000);
  t.ok(Array.isArray(decodeBody(ok, 'json').value), '1000 levels are fine');
  t.equal(thrownBy(StatusError, () => decodeBody('['.repeat(1001) + ']'.repeat(1001), 'json')).code, 400);
  t.ok(decodeBody('['.repeat(5000) + ']'.repeat(5000), 'json', { maxDepth: 10_000 }).value, 'depth is configurable');
});

t.test('big inputs decode in linear time', async (t) => {
  const wide = `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
  t.equal(Object.keys(decodeBody(wide, 'json').value as object).length, 100_000);
  const dupes = `{${'"a":1,'.repeat(200_000)}"a":2}`;
  const r = decodeBody(dupes, 'json');
  t.same(r.duplicateFields, ['a']);
  const deepDupes = `${'{"x":'.repeat(900)}{${'"a":1,'.repeat(100_000)}"a":1}${'}'.repeat(900)}`;
  const r2 = decodeBody(deepDupes, 'json');
  t.equal(r2.duplicateFields.length, 1);
  t.equal(r2.duplicateFields[0], `${'x.'.repeat(900)}a`);
  const manyDistinct = `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":1,"k${i}":2`).join(',')}}`;
  t.equal(decodeBody(manyDistinct, 'json').duplicateFields.length, 1000, 'reports are capped');
  const bigString = JSON.stringify({ s: 'x\\n'.repeat(500_000) });
  t.equal(((decodeBody(bigString, 'json').value as { s: string }).s).length, 1_500_000);
});

t.test('YAML', async (t) => {
  const r = decodeBody('apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  labels:\n    a: "1"\nspec:\n  items:\n  - x: 1\n  - z: [1, 2]\n', 'yaml');
  t.same(r.value, { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', labels: { a: '1' } }, spec: { items: [{ x: 1 }, { z: [1, 2] }] } });
  // go-yaml v2 reads a plain y/n/on/off as a boolean even as a key (kubernetes/kubernetes#34146); quoting keeps it
  t.same(decodeBody('y: 1\n"n": 2\n', 'yaml').value, { true: 1, n: 2 });
  t.same(r.duplicateFields, []);
  // YAML 1.1 scalars as go-yaml v2 reads them; timestamps stay strings
  t.same(decodeBody('a: yes\nb: off\nc: 0755\nd: 2026-01-01T00:00:00Z\ne: "yes"\nf: ~\ng: 1.5\n', 'yaml').value, {
    a: true,
    b: false,
    c: 493,
    d: '2026-01-01T00:00:00Z',
    e: 'yes',
    f: null,
    g: 1.5,
  });
  t.same(decodeBody('', 'yaml').value, null);
  t.same(decodeBody('# only a comment\n', 'yaml').value, null);
  t.same(decodeBody('- a\n- b\n', 'yaml').value, ['a', 'b']);
  t.same(decodeBody('{"json": ["is", "yaml"]}', 'yaml').value, { json: ['is', 'yaml'] });
  t.same(decodeBody('base: &b {x: 1}\nm:\n  <<: *b\n  z: 2\n', 'yaml').value, { base: { x: 1 }, m: { x: 1, z: 2 } });
  t.same(decodeBody('a: !!binary aGVsbG8=\nb: !custom x\n', 'yaml').value, { a: 'aGVsbG8=', b: 'x' });
  const proto = decodeBody('__proto__:\n  polluted: true\n', 'yaml').value as Record<string, unknown>;
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.same(Object.keys(proto), ['__proto__']);
});

t.test('YAML that is JSON takes the JSON path, with the same results', async (t) => {
  t.same(decodeBody(' {"a": [1, {"b": null}], "a": 2}', 'yaml'), { value: { a: 2 }, duplicateFields: ['a'] });
  t.same(decodeBody('{a: 1, b: [x, z]}', 'yaml').value, { a: 1, b: ['x', 'z'] }, 'flow YAML still parses');
  t.same(decodeBody('[1, 2]', 'yaml').value, [1, 2]);
  const e = thrownBy(StatusError, () => decodeBody('['.repeat(5000) + ']'.repeat(5000), 'yaml'));
  t.equal(e.code, 400);
  t.equal(e.message, 'yaml parse error: exceeded max depth of 1000');
  const big = JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => ({ name: `n${i}`, v: i })) });
  t.equal(((decodeBody(big, 'yaml').value as { items: unknown[] }).items).length, 20_000);
});

t.test('YAML duplicates are reported, not fatal', async (t) => {
  const cases: [string, string[], unknown][] = [
    ['a: 1\na: 2\n', ['a'], { a: 2 }],
    ['spec:\n  x: 1\n  x: 2\n', ['spec.x'], { spec: { x: 2 } }],
    ['spec:\n  items:\n  - a: 1\n  - b: 1\n    b: 2\n', ['spec.items[1].b'], { spec: { items: [{ a: 1 }, { b: 2 }] } }],
    ['metadata:\n  labels: {a: "1", a: "2"}\nz: {q: 1, q: 1}\n', ['metadata.labels.a', 'z.q'], { metadata: { labels: { a: '2' } }, z: { q: 1 } }],
    ['1: a\n"1": b\n', ['1'], { 1: 'b' }],
  ];
  for (const [d, dups, value] of cases) {
    const r = decodeBody(d, 'yaml');
    t.same(r.duplicateFields, dups, d);
    t.same(r.value, value, d);
  }
});

t.test('YAML errors and hostile documents: 400s', async (t) => {
  const cases: [string, RegExp][] = [
    ['a: 1\n---\nb: 2\n', /^yaml parse error: the request body must be a single YAML document$/],
    ['a: [1\nb: 2', /^yaml parse error: .+ \(line 2, column 1\)$/],
    ['a: "unterminated', /^yaml parse error: .+\(line 1, column \d+\)$/],
    ['? [a]\n: b\n', /^yaml parse error: a mapping key must be a scalar \(line 1, column 3\)$/],
    ['a: .inf\n', /^yaml parse error: Infinity cannot be represented in JSON$/],
    ['a: .nan\n', /^yaml parse error: NaN cannot be represented in JSON$/],
    ['a: *nope\n', /^yaml parse error: /],
    ['\t- x', /^yaml parse error: /],
  ];
  for (const [d, re] of cases) {
    const e = thrownBy(StatusError, () => decodeBody(d, 'yaml'));
    t.equal(e.code, 400, JSON.stringify(d));
    t.match(e.message, re, JSON.stringify(d));
  }
  // billion laughs
  let lol = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
  for (const [p, c] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h']]) {
    lol += `${c}: &${c} [${Array(9).fill(`*${p}`).join(',')}]\n`;
  }
  const e = thrownBy(StatusError, () => decodeBody(lol, 'yaml'));
  t.equal(e.code, 400);
  t.match(e.message, /resource exhaustion/);
  // deep nesting, flow and block style
  t.equal(thrownBy(StatusError, () => decodeBody('['.repeat(10_000) + ']'.repeat(10_000), 'yaml')).code, 400);
  let block = '';
  for (let i = 0; i < 1100; i++) block += `${' '.repeat(i)}a:\n`;
  t.equal(thrownBy(StatusError, () => decodeBody(block, 'yaml')).code, 400);
  // a self-referencing alias cannot loop forever
  const cyc = thrownBy(StatusError, () => decodeBody('a: &x [*x]\n', 'yaml'));
  t.equal(cyc.code, 400);
});

t.test('decodeObjectBody', async (t) => {
  t.same(decodeObjectBody('{"a":1,"a":2}', 'json'), { value: { a: 2 }, duplicateFields: ['a'] });
  t.same(decodeObjectBody('a: 1\n', 'yaml').value, { a: 1 });
  const cases: [string, 'json' | 'yaml', string][] = [
    ['[]', 'json', 'the request body must be a JSON object, not an array'],
    ['null', 'json', 'the request body must be a JSON object, not null'],
    ['"x"', 'json', 'the request body must be a JSON object, not a string'],
    ['5', 'json', 'the request body must be a JSON object, not a number'],
    ['', 'yaml', 'the request body must be a YAML object, not null'],
    ['- a', 'yaml', 'the request body must be a YAML object, not an array'],
  ];
  for (const [d, type, message] of cases) {
    const e = thrownBy(StatusError, () => decodeObjectBody(d, type));
    t.equal(e.code, 400);
    t.equal(e.message, message, d);
  }
});
