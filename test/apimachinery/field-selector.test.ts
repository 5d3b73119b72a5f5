import t from 'tap';
import {
  parseFieldSelector,
  assertSupportedFields,
  singleNameOf,
  requiresExactMatch,
  fieldSelectorFromSet,
  escapeFieldValue,
} from '../../src/apimachinery/field-selector.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import { thrownBy } from '../helpers/thrown.js';


t.test('parse: requirements and canonical string', async (t) => {
  const cases: [string, { field: string; operator: '=' | '!='; value: string }[], string][] = [
    ['', [], ''],
    [',,', [], ''],
    ['a=b', [{ field: 'a', operator: '=', value: 'b' }], 'a=b'],
    ['a==b', [{ field: 'a', operator: '=', value: 'b' }], 'a=b'],
    ['a!=b', [{ field: 'a', operator: '!=', value: 'b' }], 'a!=b'],
    ['a=', [{ field: 'a', operator: '=', value: '' }], 'a='],
    ['=b', [{ field: '', operator: '=', value: 'b' }], '=b'],
    ['b=1,a=2', [{ field: 'a', operator: '=', value: '2' }, { field: 'b', operator: '=', value: '1' }], 'a=2,b=1'],
    ['x=a\\,b', [{ field: 'x', operator: '=', value: 'a,b' }], 'x=a\\,b'],
    ['x=a\\=b\\\\', [{ field: 'x', operator: '=', value: 'a=b\\' }], 'x=a\\=b\\\\'],
    ['spec.x=\u00e9\u2713', [{ field: 'spec.x', operator: '=', value: '\u00e9\u2713' }], 'spec.x=\u00e9\u2713'],
    ['a b = c', [{ field: 'a b ', operator: '=', value: ' c' }], 'a b = c'],
  ];
  for (const [input, reqs, str] of cases) {
    const sel = parseFieldSelector(input);
    t.same(sel.requirements, reqs, `requirements of ${JSON.stringify(input)}`);
    t.equal(sel.toString(), str, `string of ${JSON.stringify(input)}`);
    t.equal(sel.empty, reqs.length === 0);
  }
});

t.test('parse errors are 400s with upstream wording', async (t) => {
  const cases: [string, string][] = [
    ['a', "invalid selector: 'a'; can't understand 'a'"],
    ['a=b,c', "invalid selector: 'a=b,c'; can't understand 'c'"],
    ['x!==y', 'invalid field selector: unescaped character in value: 61'],
    ['a=b=c', 'invalid field selector: unescaped character in value: 61'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
    ['a=b\\n', 'invalid field selector: invalid escape sequence: \\n'],
    ['a=\\\u2713', 'invalid field selector: invalid escape sequence: \\\u2713'],
  ];
  for (const [input, message] of cases) {
    const e = thrownBy(StatusError, () => parseFieldSelector(input));
    t.equal(e.code, 400, input);
    t.equal(e.reason, 'BadRequest');
    t.equal(e.message, message, input);
  }
});

t.test('matches', async (t) => {
  const fields = { 'metadata.name': 'n', 'metadata.namespace': 'ns', 'spec.x': '' };
  const cases: [string, boolean][] = [
    ['', true],
    ['metadata.name=n', true],
    ['metadata.name==n', true],
    ['metadata.name=m', false],
    ['metadata.name!=m', true],
    ['metadata.name!=n', false],
    ['metadata.name=n,metadata.namespace=ns', true],
    ['metadata.name=n,metadata.namespace=other', false],
    ['spec.x=', true],
    ['spec.missing=', true],
    ['spec.missing!=', false],
    ['spec.missing=v', false],
  ];
  for (const [s, want] of cases) t.equal(parseFieldSelector(s).matches(fields), want, s);
  t.equal(parseFieldSelector('constructor=').matches({}), true, 'no prototype lookups');
  t.equal(parseFieldSelector('toString!=').matches({}), false, 'no prototype lookups');
});

t.test('assertSupportedFields', async (t) => {
  const supported = ['metadata.name', 'metadata.namespace'];
  assertSupportedFields(parseFieldSelector(''), supported);
  assertSupportedFields(parseFieldSelector('metadata.name=a,metadata.namespace!=b'), supported);
  const e = thrownBy(StatusError, () => assertSupportedFields(parseFieldSelector('spec.z=1,metadata.name=a,spec.y=2'), supported));
  t.equal(e.code, 400);
  t.equal(e.message, 'field label not supported: spec.y');
  t.equal(thrownBy(StatusError, () => assertSupportedFields(parseFieldSelector('=x'), supported)).message, 'field label not supported: ');
});

t.test('singleNameOf and requiresExactMatch', async (t) => {
  t.equal(singleNameOf(parseFieldSelector('metadata.name=a')), 'a');
  t.equal(singleNameOf(parseFieldSelector('metadata.name==a')), 'a');
  t.equal(singleNameOf(parseFieldSelector('metadata.name=')), '');
  t.equal(singleNameOf(parseFieldSelector('metadata.name!=a')), undefined);
  t.equal(singleNameOf(parseFieldSelector('metadata.name=a,metadata.namespace=b')), undefined);
  t.equal(singleNameOf(parseFieldSelector('')), undefined);
  t.equal(requiresExactMatch(parseFieldSelector('metadata.name=a,metadata.namespace=b'), 'metadata.namespace'), 'b');
  t.equal(requiresExactMatch(parseFieldSelector('metadata.name!=a'), 'metadata.name'), undefined);
});

t.test('fieldSelectorFromSet and escaping', async (t) => {
  const sel = fieldSelectorFromSet({ b: '1', a: 'x,y' });
  t.equal(sel.toString(), 'a=x\\,y,b=1');
  t.same(parseFieldSelector(sel.toString()).requirements, sel.requirements);
  t.equal(escapeFieldValue('\\,='), '\\\\\\,\\=');
});

t.test('huge input parses in linear time', async (t) => {
  const terms = Array.from({ length: 50_000 }, (_, i) => `f${i}=v${i}`).join(',');
  const sel = parseFieldSelector(terms);
  t.equal(sel.requirements.length, 50_000);
  const one = parseFieldSelector(`x=${'\\,'.repeat(100_000)}`);
  t.equal(one.requirements[0].value.length, 100_000);
  const noOp = thrownBy(StatusError, () => parseFieldSelector('a'.repeat(1_000_000)));
  t.equal(noOp.code, 400);
});
