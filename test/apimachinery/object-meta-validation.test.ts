import t from 'tap';
import {
  isDNS1123Subdomain,
  isDNS1123Label,
  isQualifiedName,
  isValidLabelValue,
  isValidPathSegmentName,
  validateLabels,
  validateAnnotations,
  validateFinalizers,
  validateOwnerReferences,
  validateManagedFields,
  validateObjectMeta,
  validateObjectMetaUpdate,
  generateName,
  nameIsDNSLabel,
} from '../../src/apimachinery/object-meta-validation.js';
import { formatFieldError, type FieldError } from '../../src/apimachinery/status-error.js';

const msgs = (errs: FieldError[]): string[] => errs.map(formatFieldError);

const subdomainMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const labelMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const nameRegex =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const valueRegex =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

t.test('isDNS1123Subdomain', async (t) => {
  for (const ok of ['a', 'ab', 'a-b', 'a.b', '0', 'a.b.c', 'a'.repeat(253), `${'a'.repeat(63)}.${'b'.repeat(63)}`]) {
    t.same(isDNS1123Subdomain(ok), [], ok);
  }
  const bad: [string, string[]][] = [
    ['', [subdomainMsg]],
    ['A', [subdomainMsg]],
    ['-a', [subdomainMsg]],
    ['a-', [subdomainMsg]],
    ['a..b', [subdomainMsg]],
    ['a_b', [subdomainMsg]],
    ['.', [subdomainMsg]],
    ['..', [subdomainMsg]],
    ['a/b', [subdomainMsg]],
    ['\u00e9', [subdomainMsg]],
    ['a\n', [subdomainMsg]],
    ['a\u0000', [subdomainMsg]],
    ['a'.repeat(254), ['must be no more than 253 characters']],
    ['A'.repeat(254), ['must be no more than 253 characters', subdomainMsg]],
  ];
  for (const [v, want] of bad) t.same(isDNS1123Subdomain(v), want, JSON.stringify(v.slice(0, 10)));
  // 127 two-byte characters are 254 bytes: Go counts bytes
  t.same(isDNS1123Subdomain('\u00e9'.repeat(127)), ['must be no more than 253 characters', subdomainMsg]);
});

t.test('isDNS1123Label', async (t) => {
  t.same(isDNS1123Label('default'), []);
  t.same(isDNS1123Label('a.b'), ['must not contain dots']);
  t.same(isDNS1123Label('A'), [labelMsg]);
  t.same(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
  t.same(nameIsDNSLabel('abc-', true), [], 'a generateName prefix may end in -');
  t.same(nameIsDNSLabel('abc-', false), [labelMsg]);
});

t.test('isQualifiedName', async (t) => {
  for (const ok of ['simple', 'now-with-dashes', '1-starts-with-num', 'Uppercase_Is_OK_123', 'example.com/Uppercase_Is_OK_123', 'a'.repeat(63), `${'a'.repeat(253)}/${'b'.repeat(63)}`]) {
    t.same(isQualifiedName(ok), [], ok);
  }
  t.same(isQualifiedName('nospecialchars%^=@'), [nameRegex]);
  t.same(isQualifiedName('cantendwithadash-'), [nameRegex]);
  t.same(isQualifiedName('a'.repeat(64)), ['name part must be no more than 63 characters']);
  t.same(isQualifiedName('/simple'), ['prefix part must be non-empty']);
  t.same(isQualifiedName('example.com/'), ['name part must be non-empty', nameRegex]);
  t.same(isQualifiedName('Example.com/abc'), [`prefix part ${subdomainMsg}`]);
  t.same(isQualifiedName(''), ['name part must be non-empty', nameRegex]);
  t.match(isQualifiedName('only/one/slash')[0], /^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/);
});

t.test('isValidLabelValue', async (t) => {
  for (const ok of ['', 'simple', '1234', 'a'.repeat(63), 'a_b.c-d']) t.same(isValidLabelValue(ok), [], ok);
  t.same(isValidLabelValue('-starts'), [valueRegex]);
  t.same(isValidLabelValue('Tama-nui-te-r\u0101'), [valueRegex]);
  t.same(isValidLabelValue('a'.repeat(64)), ['must be no more than 63 characters']);
});

t.test('isValidPathSegmentName', async (t) => {
  t.same(isValidPathSegmentName('..'), ["may not be '..'"]);
  t.same(isValidPathSegmentName('.'), ["may not be '.'"]);
  t.same(isValidPathSegmentName('a/b%c'), ["may not contain '/'", "may not contain '%'"]);
  t.same(isValidPathSegmentName('ok..name'), []);
});

t.test('labels, annotations, finalizers', async (t) => {
  t.same(msgs(validateLabels({ app: 'db', 'example.com/tier': '' }, 'metadata.labels')), []);
  t.same(msgs(validateLabels({ 'bad key': 'bad value!' }, 'metadata.labels')), [
    `metadata.labels: Invalid value: "bad key": ${nameRegex}`,
    `metadata.labels: Invalid value: "bad value!": ${valueRegex}`,
  ]);
  t.same(msgs(validateAnnotations({ 'Example.COM/Key': 'any value at all \u2713' }, 'metadata.annotations')), [], 'case-insensitive keys');
  t.same(msgs(validateAnnotations({ 'a b': '' }, 'metadata.annotations')), [`metadata.annotations: Invalid value: "a b": ${nameRegex}`]);
  const big = { a: 'x'.repeat(262_143) };
  t.same(msgs(validateAnnotations(big, 'metadata.annotations')), [], 'exactly at the limit');
  t.same(msgs(validateAnnotations({ a: 'x'.repeat(262_144) }, 'metadata.annotations')), [
    'metadata.annotations: Too long: may not be more than 262144 bytes',
  ]);
  t.same(msgs(validateAnnotations({ a: '\u00e9'.repeat(131_072) }, 'metadata.annotations')), [
    'metadata.annotations: Too long: may not be more than 262144 bytes',
  ], 'bytes, not characters');
  t.same(msgs(validateFinalizers(['example.com/protect', 'kubernetes'], 'metadata.finalizers')), []);
  t.same(msgs(validateFinalizers(['bad/final/izer'], 'metadata.finalizers')).length, 1);
  t.same(msgs(validateFinalizers(['orphan', 'foregroundDeletion'], 'metadata.finalizers')), [
    'metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set',
  ]);
});

t.test('ownerReferences and managedFields', async (t) => {
  const good = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: 'c', uid: 'u1', controller: true };
  t.same(msgs(validateOwnerReferences([good], 'metadata.ownerReferences')), []);
  t.same(msgs(validateOwnerReferences([{}], 'metadata.ownerReferences')), [
    'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
    'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
    'metadata.ownerReferences.name: Invalid value: "": must not be empty',
    'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
  ]);
  t.same(msgs(validateOwnerReferences([good, { ...good, kind: 'Pod', name: 'p' }], 'metadata.ownerReferences')).map((m) => m.replace(/Invalid value: .*: Only/, 'Only')), [
    'metadata.ownerReferences: Only one reference can have Controller set to true. Found "true" in references for PersistentVolumeClaim/c and Pod/p',
  ]);
  t.match(msgs(validateOwnerReferences([{ ...good, kind: 'Event', controller: false }], 'o'))[0], /\/v1, Kind=Event is disallowed from being an owner$/);
  t.same(msgs(validateOwnerReferences([{ ...good, apiVersion: 'a/b/c' }], 'o')), ['o.apiVersion: Invalid value: "a/b/c": version must not be empty']);
  t.same(msgs(validateOwnerReferences('nope', 'o')), ['o: Invalid value: "string": o in body must be of type array: "string"']);
  t.same(msgs(validateOwnerReferences([5, { ...good, uid: 7, controller: 'yes' }], 'o')), [
    'o[0]: Invalid value: "integer": o[0] in body must be of type object: "integer"',
    'o[1].uid: Invalid value: "integer": o[1].uid in body must be of type string: "integer"',
    'o[1].controller: Invalid value: "string": o[1].controller in body must be of type boolean: "string"',
    'o.uid: Invalid value: "": must not be empty',
  ]);

  t.same(msgs(validateManagedFields([{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: {} }], 'm')), []);
  t.same(msgs(validateManagedFields([{ manager: 'a\u0007b', operation: 'Patch', fieldsType: 'FieldsV2' }], 'm')), [
    'm[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
    'm[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
    'm[0].manager: Invalid value: "a\\u0007b": invalid character U+0007 (at position 1)',
  ]);
  t.same(msgs(validateManagedFields([{ manager: 'x'.repeat(129), operation: 'Update' }], 'm')), ['m[0].manager: Too long: may not be more than 128 bytes']);
});

t.test('validateObjectMeta table', async (t) => {
  const cases: [string, unknown, boolean, string[]][] = [
    ['valid namespaced', { name: 'a', namespace: 'default' }, true, []],
    ['valid cluster-scoped', { name: 'a.b-c' }, false, []],
    ['missing name', { namespace: 'default' }, true, ['metadata.name: Required value: name or generateName is required']],
    ['empty name', { name: '', namespace: 'default' }, true, ['metadata.name: Required value: name or generateName is required']],
    ['null meta', null, false, ['metadata.name: Required value: name or generateName is required']],
    ['absent meta', undefined, false, ['metadata.name: Required value: name or generateName is required']],
    ['upper-case name', { name: 'X' }, false, [`metadata.name: Invalid value: "X": ${subdomainMsg}`]],
    ['name too long', { name: 'a'.repeat(254) }, false, [`metadata.name: Invalid value: "${'a'.repeat(254)}": must be no more than 253 characters`]],
    ['unicode name', { name: '\u2713' }, false, [`metadata.name: Invalid value: "\u2713": ${subdomainMsg}`]],
    ['dotdot name', { name: '..' }, false, [`metadata.name: Invalid value: "..": ${subdomainMsg}`]],
    ['slash name', { name: 'a/b' }, false, [`metadata.name: Invalid value: "a/b": ${subdomainMsg}`]],
    ['control char name', { name: 'a\u0001' }, false, [`metadata.name: Invalid value: "a\\u0001": ${subdomainMsg}`]],
    ['bad generateName', { generateName: 'Xy-', name: 'x-abcde' }, false, [`metadata.generateName: Invalid value: "Xy-": ${subdomainMsg}`]],
    ['generateName masking quirk: X- checks as a', { generateName: 'X-', name: 'x-abcde' }, false, []],
    ['generateName ending in dash', { generateName: 'snap-', name: 'snap-bcdfg' }, false, []],
    ['namespace missing', { name: 'a' }, true, ['metadata.namespace: Required value']],
    ['namespace with dots', { name: 'a', namespace: 'a.b' }, true, ['metadata.namespace: Invalid value: "a.b": must not contain dots']],
    ['namespace on cluster scope', { name: 'a', namespace: 'default' }, false, ['metadata.namespace: Forbidden: not allowed on this type']],
    ['negative generation', { name: 'a', generation: -1 }, false, ['metadata.generation: Invalid value: -1: must be greater than or equal to 0']],
    ['name of wrong type', { name: 5 }, false, ['metadata.name: Invalid value: "integer": metadata.name in body must be of type string: "integer"']],
    ['meta of wrong type', 'x', false, ['metadata: Invalid value: "string": metadata in body must be of type object: "string"']],
    ['meta as array', [], false, ['metadata: Invalid value: "array": metadata in body must be of type object: "array"']],
    ['labels of wrong type', { name: 'a', labels: ['x'] }, false, ['metadata.labels: Invalid value: "array": metadata.labels in body must be of type object: "array"']],
    ['label value of wrong type', { name: 'a', labels: { a: 1 } }, false, ['metadata.labels.a: Invalid value: "integer": metadata.labels.a in body must be of type string: "integer"']],
    ['annotations of wrong type', { name: 'a', annotations: 'x' }, false, ['metadata.annotations: Invalid value: "string": metadata.annotations in body must be of type object: "string"']],
    ['finalizers of wrong type', { name: 'a', finalizers: 'x' }, false, ['metadata.finalizers: Invalid value: "string": metadata.finalizers in body must be of type array: "string"']],
    ['finalizer item of wrong type', { name: 'a', finalizers: [null] }, false, ['metadata.finalizers[0]: Invalid value: "null": metadata.finalizers[0] in body must be of type string: "null"']],
    ['generation of wrong type', { name: 'a', generation: 1.5 }, false, ['metadata.generation: Invalid value: "number": metadata.generation in body must be of type integer: "number"']],
    ['uid of wrong type', { name: 'a', uid: {} }, false, ['metadata.uid: Invalid value: "object": metadata.uid in body must be of type string: "object"']],
    ['namespace of wrong type', { name: 'a', namespace: true }, true, ['metadata.namespace: Invalid value: "boolean": metadata.namespace in body must be of type string: "boolean"']],
    ['nulls are absent', { name: 'a', labels: null, annotations: null, finalizers: null, ownerReferences: null, uid: null }, false, []],
    ['label errors', { name: 'a', labels: { 'a b': 'c' } }, false, [`metadata.labels: Invalid value: "a b": ${nameRegex}`]],
  ];
  for (const [title, meta, namespaced, want] of cases) t.same(msgs(validateObjectMeta(meta, { namespaced })), want, title);
});

t.test('validateObjectMeta options', async (t) => {
  t.same(msgs(validateObjectMeta({ name: 'a.b' }, { namespaced: false, nameValidator: nameIsDNSLabel })), ['metadata.name: Invalid value: "a.b": must not contain dots']);
  t.same(msgs(validateObjectMeta({ name: 'anything' }, { namespaced: false, nameValidator: (n) => (n === 'anything' ? ['no'] : []) })), ['metadata.name: Invalid value: "anything": no']);
  t.same(msgs(validateObjectMeta({}, { namespaced: false, fieldPath: 'spec.template.metadata' })), ['spec.template.metadata.name: Required value: name or generateName is required']);
});

t.test('validateObjectMetaUpdate table', async (t) => {
  const old = { name: 'a', namespace: 'ns', uid: 'u1', resourceVersion: '5', generation: 2, creationTimestamp: '2026-01-01T00:00:00Z' };
  const cases: [string, unknown, unknown, string[]][] = [
    ['unchanged', { ...old }, old, []],
    ['missing resourceVersion', { ...old, resourceVersion: undefined }, old, ['metadata.resourceVersion: Invalid value: "": must be specified for an update']],
    ['name changed', { ...old, name: 'b' }, old, ['metadata.name: Invalid value: "b": field is immutable']],
    ['namespace changed', { ...old, namespace: 'other' }, old, ['metadata.namespace: Invalid value: "other": field is immutable']],
    ['uid changed', { ...old, uid: 'u2' }, old, ['metadata.uid: Invalid value: "u2": field is immutable']],
    ['uid dropped is kept by the caller, not here', { ...old, uid: undefined }, old, ['metadata.uid: Invalid value: "": field is immutable']],
    ['creationTimestamp changed', { ...old, creationTimestamp: '2027-01-01T00:00:00Z' }, old, ['metadata.creationTimestamp: Invalid value: "2027-01-01T00:00:00Z": field is immutable']],
    ['deletionTimestamp set by a client', { ...old, deletionTimestamp: '2027-01-01T00:00:00Z' }, old, ['metadata.deletionTimestamp: Invalid value: "2027-01-01T00:00:00Z": field is immutable']],
    ['grace period changed', { ...old, deletionGracePeriodSeconds: 0 }, old, ['metadata.deletionGracePeriodSeconds: Invalid value: 0: field is immutable']],
    ['generation decremented', { ...old, generation: 1 }, old, ['metadata.generation: Invalid value: 1: must not be decremented']],
    ['empty string equals absent', { ...old, namespace: '' }, { ...old, namespace: undefined }, []],
    ['new finalizer while deleting', { ...old, deletionTimestamp: 'T', finalizers: ['a', 'c', 'b'] }, { ...old, deletionTimestamp: 'T', finalizers: ['a'] }, [
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b", "c"}',
    ]],
    ['removing finalizers while deleting', { ...old, deletionTimestamp: 'T', finalizers: [] }, { ...old, deletionTimestamp: 'T', finalizers: ['a'] }, []],
    ['labels still validated', { ...old, labels: { 'a b': '' } }, old, [`metadata.labels: Invalid value: "a b": ${nameRegex}`]],
    ['wrong type', 7, old, ['metadata: Invalid value: "integer": metadata in body must be of type object: "integer"']],
    ['resourceVersion of wrong type', { ...old, resourceVersion: 5 }, old, ['metadata.resourceVersion: Invalid value: "integer": metadata.resourceVersion in body must be of type string: "integer"']],
    ['old meta garbage', { ...old }, 'garbage', [
      'metadata.name: Invalid value: "a": field is immutable',
      'metadata.namespace: Invalid value: "ns": field is immutable',
      'metadata.uid: Invalid value: "u1": field is immutable',
      'metadata.creationTimestamp: Invalid value: "2026-01-01T00:00:00Z": field is immutable',
    ]],
  ];
  for (const [title, n, o, want] of cases) t.same(msgs(validateObjectMetaUpdate(n, o)), want, title);
});

t.test('generateName', async (t) => {
  const alphabet = /^[bcdfghjklmnpqrstvwxz2456789]{5}$/;
  const n = generateName('snap-');
  t.equal(n.length, 10);
  t.match(n.slice(5), alphabet);
  t.equal(generateName('x', () => 0), 'xbbbbb');
  t.equal(generateName('x', () => 0.999999), 'x99999');
  t.equal(generateName('x', () => 5), 'x99999', 'out-of-range randoms are clamped');
  t.equal(generateName('x', () => -1), 'xbbbbb');
  const long = generateName('p'.repeat(100), () => 0);
  t.equal(long, `${'p'.repeat(58)}bbbbb`);
  t.equal(generateName('', () => 0.5), 'ppppp'.replace(/p/g, 'bcdfghjklmnpqrstvwxz2456789'[13]));
  const seen = new Set(Array.from({ length: 200 }, () => generateName('a-')));
  t.ok(seen.size > 190, 'random suffixes');
  for (const s of seen) t.same(isDNS1123Subdomain(s), []);
});
