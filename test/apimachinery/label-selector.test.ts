import t from 'tap';
import { parseLabelSelector, labelSelectorFromMeta } from '../../src/apimachinery/label-selector.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import { thrownBy } from '../helpers/thrown.js';


const nameRegex =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const valueRegex =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

t.test('valid selectors and their canonical strings (upstream TestSelectorParse / TestToString)', async (t) => {
  const cases: [string, string][] = [
    ['', ''],
    ['x=a,y=b,z=c', 'x=a,y=b,z=c'],
    ['x!=a,y=b', 'x!=a,y=b'],
    ['x=', 'x='],
    ['x= ', 'x='],
    ['x=,z= ', 'x=,z='],
    ['x= ,z= ', 'x=,z='],
    ['!x', '!x'],
    ['x>1', 'x>1'],
    ['x<1', 'x<1'],
    ['x>1,z<5', 'x>1,z<5'],
    ['x in (a,b)', 'x in (a,b)'],
    ['x in (b,a,a)', 'x in (a,b)'],
    ['x notin (a)', 'x notin (a)'],
    ['x in ()', 'x in ()'],
    ['x in (,a)', 'x in (,a)'],
    ['x in (a,)', 'x in (,a)'],
    ['x in (a,,b)', 'x in (,a,b)'],
    ['x in (in,notin)', 'x in (in,notin)'],
    ['z,y,x', 'x,y,z'],
    ['  x  ==  a  ', 'x==a'],
    ['\tx\r\n=\na', 'x=a'],
    ['x,y in (a)', 'x,y in (a)'],
    ['example.com/key=v', 'example.com/key=v'],
  ];
  for (const [input, want] of cases) {
    const sel = parseLabelSelector(input);
    t.equal(sel.toString(), want, JSON.stringify(input));
    t.equal(sel.empty, want === '', `empty of ${JSON.stringify(input)}`);
  }
});

t.test('errors: upstream messages, 400', async (t) => {
  const cases: [string, string][] = [
    ['x=a||y=b', `unable to parse requirement: values[0][x]: Invalid value: "a||y": ${valueRegex}`],
    ['x y', "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['x=a,', "found '', expected: identifier after ','"],
    [',x', "found ',', expected: !, identifier, or 'end of string'"],
    ['x in a', "unable to parse requirement: found 'a' expected: '('"],
    ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['x in (', "unable to parse requirement: found '', expected: ',', ')' or identifier"],
    ['x in (a b)', "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ['x in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['x in (,=)', "unable to parse requirement: found '=', expected: ',', or identifier"],
    ['x=(', "unable to parse requirement: found '(', expected: identifier"],
    ['x=a b', "found 'b', expected: ',' or 'end of string'"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    ['x>a', `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['x>1.5', `unable to parse requirement: values[0]: Invalid value: "1.5": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['x<-2', `unable to parse requirement: values[0][x]: Invalid value: "-2": ${valueRegex}`],
    ['x>99999999999999999999', `unable to parse requirement: values[0]: Invalid value: "99999999999999999999": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['app:monolith', `unable to parse requirement: <nil>: Invalid value: "app:monolith": ${nameRegex}`],
    ['-a', `unable to parse requirement: <nil>: Invalid value: "-a": ${nameRegex}`],
    ['\u00e9=1', `unable to parse requirement: <nil>: Invalid value: "\u00e9": ${nameRegex}`],
    [`${'k'.repeat(64)}=v`, `unable to parse requirement: <nil>: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters`],
    [`k=${'v'.repeat(64)}`, `unable to parse requirement: values[0][k]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`],
    ['a/b/c=d', `unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`],
    ['/a', 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'],
    ['Example.com/a', `unable to parse requirement: <nil>: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`],
    ['a/', `unable to parse requirement: <nil>: Invalid value: "a/": name part must be non-empty; ${nameRegex}`],
  ];
  for (const [input, message] of cases) {
    const e = thrownBy(StatusError, () => parseLabelSelector(input));
    t.equal(e.code, 400, input);
    t.equal(e.reason, 'BadRequest', input);
    t.equal(e.message, message, JSON.stringify(input));
  }
});

t.test('matches (upstream TestSelectorMatches / TestRequirementMatches)', async (t) => {
  const labels = { x: 'y', z: 'w', n: '10', neg: '-3', big: '99999999999999999999', empty: '' };
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ['', labels, true],
    ['', undefined, true],
    ['x=y', labels, true],
    ['x==y', labels, true],
    ['x=z', labels, false],
    ['x!=z', labels, true],
    ['x!=y', labels, false],
    ['missing!=y', labels, true],
    ['missing=', labels, false],
    ['empty=', labels, true],
    ['x=y,z=w', labels, true],
    ['x=y,z=q', labels, false],
    ['x', labels, true],
    ['missing', labels, false],
    ['!missing', labels, true],
    ['!x', labels, false],
    ['x in (a,y)', labels, true],
    ['x in (a,b)', labels, false],
    ['missing in (a)', labels, false],
    ['x notin (a,y)', labels, false],
    ['x notin (a,b)', labels, true],
    ['missing notin (a)', labels, true],
    ['n>9', labels, true],
    ['n>10', labels, false],
    ['n<11', labels, true],
    ['neg<5', labels, true],
    ['neg<0', labels, true],
    ['x>1', labels, false],
    ['big>1', labels, false],
    ['missing<5', labels, false],
    ['x', undefined, false],
    ['!x', undefined, true],
    ['constructor', {}, false],
    ['!toString', {}, true],
    ['hasOwnProperty in (a)', {}, false],
  ];
  for (const [sel, ls, want] of cases) t.equal(parseLabelSelector(sel).matches(ls), want, `${sel} on ${JSON.stringify(ls)}`);
});

t.test('requirements are exposed sorted by key', async (t) => {
  t.same(parseLabelSelector('b in (y,x),a!=1,!c').requirements, [
    { key: 'a', operator: '!=', values: ['1'] },
    { key: 'b', operator: 'in', values: ['x', 'y'] },
    { key: 'c', operator: '!', values: [] },
  ]);
});

t.test('NUL bytes behave as in the upstream byte lexer', async (t) => {
  // a NUL where a token starts reads as the end of the input; inside an identifier it only ends the identifier
  t.equal(parseLabelSelector('x \u0000,garbage ((').toString(), 'x');
  t.equal(thrownBy(StatusError, () => parseLabelSelector('x=a\u0000b')).message, "found 'b', expected: ',' or 'end of string'");
});

t.test('labelSelectorFromMeta', async (t) => {
  const s = labelSelectorFromMeta({
    matchLabels: { app: 'db' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['a', 'b'] },
      { key: 'zone', operator: 'NotIn', values: ['x'] },
      { key: 'ssd', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist' },
    ],
  });
  t.equal(s.toString(), 'app=db,!legacy,ssd,tier in (a,b),zone notin (x)');
  t.equal(s.matches({ app: 'db', tier: 'a', ssd: '' }), true);
  t.equal(s.matches({ app: 'db', tier: 'c', ssd: '' }), false);
  t.equal(s.matches({ app: 'db', tier: 'a', ssd: '', legacy: 'y' }), false);
  t.equal(s.matches({ app: 'db', tier: 'a', ssd: '', zone: 'x' }), false);
  t.equal(labelSelectorFromMeta({}).empty, true);
  t.equal(labelSelectorFromMeta({}).matches({ a: 'b' }), true);
  t.equal(labelSelectorFromMeta(null).matches({}), false);
  t.equal(labelSelectorFromMeta(undefined).empty, false);
  t.equal(
    thrownBy(StatusError, () => labelSelectorFromMeta({ matchExpressions: [{ key: 'a', operator: 'Gt' as 'In', values: ['1'] }] })).message,
    '"Gt" is not a valid label selector operator',
  );
  t.equal(
    thrownBy(StatusError, () => labelSelectorFromMeta({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).message,
    "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty",
  );
  t.equal(
    thrownBy(StatusError, () => labelSelectorFromMeta({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).message,
    `values: Invalid value: ["x"]: values set must be empty for exists and does not exist`,
  );
  t.equal(thrownBy(StatusError, () => labelSelectorFromMeta({ matchLabels: { 'bad key': 'v' } })).code, 400);
});

t.test('huge and hostile inputs', async (t) => {
  const many = Array.from({ length: 20_000 }, (_, i) => `k${i}=v${i}`).join(',');
  t.equal(parseLabelSelector(many).requirements.length, 20_000);
  t.equal(thrownBy(StatusError, () => parseLabelSelector('x in ('.repeat(10_000))).code, 400);
  t.equal(thrownBy(StatusError, () => parseLabelSelector('('.repeat(100_000))).code, 400);
  t.match(thrownBy(StatusError, () => parseLabelSelector('a'.repeat(1_000_000))).message, /name part must be no more than 63 characters/);
});
