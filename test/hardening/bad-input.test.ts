// A corpus of hostile and malformed requests against every endpoint of the real server process. Each must get the
// 4xx Status kube-apiserver would give (code, reason, and the message where Kubernetes' wording is fixed), the server
// must stay healthy, and the store must hold exactly what it held before plus the one write the suite intends.
// The worker is off so that nothing but these requests writes.
import t from 'tap';
import { startServer } from '../helpers/test-server.js';
import {
  API_VERSION,
  dumpStore,
  GROUP,
  GV,
  loadCredentials,
  makeClient,
  SNAPSHOTS,
  snapshotBody,
  type StoredObject,
} from './harness.js';

interface Row {
  name: string;
  method: string;
  path: string;
  body?: string | Buffer;
  ctype?: string;
  headers?: Record<string, string>;
  /** The status kube-apiserver gives; several when upstream's answer depends on details we do not copy. */
  code: number | number[];
  reason?: string;
  msg?: string | RegExp;
  /** FIXME(server): the server answers this row wrongly today; the note says what it does and what upstream does. */
  fixme?: string;
  /** A DELETE aimed at an object of its own, created before the corpus, which must survive. */
  victim?: string;
}

const J = 'application/json';
const MERGE = 'application/merge-patch+json';
const SMP = 'application/strategic-merge-patch+json';
const JSONPATCH = 'application/json-patch+json';
const APPLY = 'application/apply-patch+yaml';
const FIXTURE = `${SNAPSHOTS}/fixture`;
const DATA = `${GV}/volumesnapshotdatas`;
const PVCS = '/api/v1/namespaces/default/persistentvolumeclaims';

const COLLECTIONS: { path: string; kind: string; apiVersion: string }[] = [
  { path: SNAPSHOTS, kind: 'VolumeSnapshot', apiVersion: API_VERSION },
  { path: DATA, kind: 'VolumeSnapshotData', apiVersion: API_VERSION },
  { path: '/api/v1/namespaces', kind: 'Namespace', apiVersion: 'v1' },
  { path: PVCS, kind: 'PersistentVolumeClaim', apiVersion: 'v1' },
  { path: '/api/v1/persistentvolumes', kind: 'PersistentVolume', apiVersion: 'v1' },
  { path: '/api/v1/namespaces/default/events', kind: 'Event', apiVersion: 'v1' },
  { path: '/api/v1/namespaces/default/pods', kind: 'Pod', apiVersion: 'v1' },
  { path: '/apis/storage.k8s.io/v1/storageclasses', kind: 'StorageClass', apiVersion: 'storage.k8s.io/v1' },
  { path: '/apis/coordination.k8s.io/v1/namespaces/default/leases', kind: 'Lease', apiVersion: 'coordination.k8s.io/v1' },
];

const RFC1123 = 'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters';

function snap(meta: Record<string, unknown>, spec: Record<string, unknown> = { persistentVolumeClaimName: 'claim' }, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion: API_VERSION, kind: 'VolumeSnapshot', metadata: meta, spec, ...extra });
}

function corpus(fixtureRv: string, fixtureUid: string): Row[] {
  const rows: Row[] = [];
  const add = (r: Row) => rows.push(r);

  // 1. Bodies that are not a JSON object, on every collection (create).
  const notObjects: [string, string | Buffer, string | RegExp][] = [
    ['empty body', '', /unexpected end of JSON input|could not be decoded/],
    ['truncated object', '{"apiVersion":"v1","kind":', /unexpected end of JSON input/],
    ['truncated string', '{"metadata":{"name":"abc', /unexpected end of JSON input/],
    ['garbage', 'not json at all', /json parse error|could not be decoded|invalid character/],
    ['null', 'null', /could not be decoded|Object 'Kind' is missing/],
    ['array', '[]', /could not be decoded/],
    ['number', '123', /could not be decoded/],
    ['string', '"str"', /could not be decoded/],
    ['two documents', '{"a":1}{"b":2}', /after top-level value/],
    ['trailing comma', '{"metadata":{"name":"x",}}', /json parse error|invalid character/],
    ['single quotes', "{'metadata':{}}", /json parse error|invalid character/],
    ['invalid utf-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), /./],
  ];
  for (const c of COLLECTIONS) {
    for (const [what, body, msg] of notObjects) {
      add({ name: `POST ${c.kind}: ${what}`, method: 'POST', path: c.path, body, ctype: J, code: 400, reason: 'BadRequest', msg });
    }
    add({ name: `POST ${c.kind}: kind missing`, method: 'POST', path: c.path, body: '{"metadata":{"name":"x"}}', ctype: J, code: 400, reason: 'BadRequest', msg: "Object 'Kind' is missing" });
    add({
      name: `POST ${c.kind}: wrong apiVersion`,
      method: 'POST',
      path: c.path,
      body: JSON.stringify({ apiVersion: 'example.com/v9', kind: c.kind, metadata: { name: 'x' } }),
      ctype: J,
      code: 400,
      reason: 'BadRequest',
      msg: `the API version in the data (example.com/v9) does not match the expected API version (${c.apiVersion})`,
    });
    add({
      name: `POST ${c.kind}: unknown content type`,
      method: 'POST',
      path: c.path,
      body: `<${c.kind}/>`,
      ctype: 'application/xml',
      code: 415,
      reason: 'UnsupportedMediaType',
      msg: 'the body of the request was in an unknown format',
    });
  }

  // 2. VolumeSnapshot fields: names, types, duplicates, unknown fields, namespaces, metadata the client may not set.
  const badNames: [string, string][] = [
    ['uppercase', 'Bad'],
    ['underscore', 'a_b'],
    ['unicode', 'snäpshot'],
    ['emoji', 'snap-\u{1F4A5}'],
    ['control character', 'a\u0001b'],
    ['newline', 'a\nb'],
    ['NUL', 'a\u0000b'],
    ['dot-dot slash', '../etc'],
    ['slash', 'a/b'],
    ['percent', 'a%2Fb'],
    ['leading dash', '-abc'],
    ['trailing dot', 'abc.'],
    ['space', 'a b'],
  ];
  for (const [what, n] of badNames) {
    add({ name: `create name ${what}`, method: 'POST', path: SNAPSHOTS, body: snap({ name: n }), ctype: J, code: 422, reason: 'Invalid', msg: 'metadata.name: Invalid value' });
  }
  add({ name: 'create name of 254 characters', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'a'.repeat(254) }), ctype: J, code: 422, reason: 'Invalid', msg: 'must be no more than 253 characters' });
  add({ name: 'create name 253 × "é"', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'é'.repeat(253) }), ctype: J, code: 422, reason: 'Invalid', msg: RFC1123 });
  add({ name: 'create without name', method: 'POST', path: SNAPSHOTS, body: snap({}), ctype: J, code: 422, reason: 'Invalid', msg: 'metadata.name: Required value: name or generateName is required' });
  add({ name: 'create generateName invalid', method: 'POST', path: SNAPSHOTS, body: snap({ generateName: 'UPPER-' }), ctype: J, code: 422, reason: 'Invalid', msg: 'metadata.generateName' });
  add({ name: 'create name is a number', method: 'POST', path: SNAPSHOTS, body: snap({ name: 5 }), ctype: J, code: [400, 422], msg: /metadata\.name/ });
  add({ name: 'create metadata is a string', method: 'POST', path: SNAPSHOTS, body: JSON.stringify({ apiVersion: API_VERSION, kind: 'VolumeSnapshot', metadata: 'x', spec: {} }), ctype: J, code: [400, 422] });
  add({ name: 'create spec is a list', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x' }, [] as never), ctype: J, code: [400, 422] });
  add({ name: 'create claim name is a number', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x' }, { persistentVolumeClaimName: 5 }), ctype: J, code: 422, reason: 'Invalid', msg: 'spec.persistentVolumeClaimName' });
  add({ name: 'create claim name is an object', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x' }, { persistentVolumeClaimName: { a: 1 } }), ctype: J, code: 422, reason: 'Invalid' });
  add({ name: 'create labels is a list', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x', labels: ['a'] }), ctype: J, code: [400, 422] });
  add({ name: 'create label value a number', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x', labels: { a: 1 } }), ctype: J, code: [400, 422] });
  add({ name: 'create label key invalid', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x', labels: { 'bad key!': 'v' } }), ctype: J, code: 422, reason: 'Invalid', msg: 'metadata.labels' });
  add({ name: 'create label value too long', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x', labels: { k: 'v'.repeat(64) } }), ctype: J, code: 422, reason: 'Invalid', msg: 'must be no more than 63 characters' });
  add({
    name: 'create annotations over 256 KiB',
    method: 'POST',
    path: SNAPSHOTS,
    body: snap({ name: 'x', annotations: { a: 'v'.repeat(262144) } }),
    ctype: J,
    code: 422,
    reason: 'Invalid',
    msg: 'metadata.annotations: Too long: may not be more than 262144 bytes',
  });
  add({ name: 'create finalizer invalid', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x', finalizers: ['Not A Finalizer'] }), ctype: J, code: 422, reason: 'Invalid', msg: 'metadata.finalizers' });
  add({ name: 'create with resourceVersion', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x', resourceVersion: '3' }), ctype: J, code: 400, reason: 'BadRequest', msg: 'resourceVersion should not be set on objects to be created' });
  add({ name: 'create in another namespace than the URL', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x', namespace: 'kube-system' }), ctype: J, code: 400, reason: 'BadRequest', msg: 'the namespace of the provided object does not match the namespace sent on the request' });
  add({ name: 'create wrong kind', method: 'POST', path: SNAPSHOTS, body: JSON.stringify({ apiVersion: API_VERSION, kind: 'VolumeSnapshotData', metadata: { name: 'x' }, spec: {} }), ctype: J, code: [400, 422] });
  add({ name: 'create duplicate key (Strict)', method: 'POST', path: `${SNAPSHOTS}?fieldValidation=Strict`, body: '{"apiVersion":"volumesnapshot.external-storage.k8s.io/v1","kind":"VolumeSnapshot","metadata":{"name":"x","name":"y"},"spec":{"persistentVolumeClaimName":"claim"}}', ctype: J, code: 400, reason: 'BadRequest', msg: 'VolumeSnapshot in version "v1" cannot be handled as a VolumeSnapshot: strict decoding error: duplicate field "metadata.name"' });
  add({ name: 'create unknown field (Strict)', method: 'POST', path: `${SNAPSHOTS}?fieldValidation=Strict`, body: snap({ name: 'x' }, { persistentVolumeClaimName: 'claim', bogus: 1 }), ctype: J, code: 400, reason: 'BadRequest', msg: 'strict decoding error: unknown field "spec.bogus"' });
  add({ name: 'create unknown fieldValidation', method: 'POST', path: `${SNAPSHOTS}?fieldValidation=Bogus`, body: snap({ name: 'x' }), ctype: J, code: [400, 422], msg: /fieldValidation/ });
  add({ name: 'create dryRun not All', method: 'POST', path: `${SNAPSHOTS}?dryRun=Bogus`, body: snap({ name: 'x' }), ctype: J, code: 422, reason: 'Invalid', msg: 'supported values: "All"' });
  add({ name: 'create fieldManager too long', method: 'POST', path: `${SNAPSHOTS}?fieldManager=${'m'.repeat(200)}`, body: snap({ name: 'x' }), ctype: J, code: 422, reason: 'Invalid', msg: 'fieldManager' });
  add({ name: 'create number beyond float64', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'x' }, { persistentVolumeClaimName: 'claim' }, { status: { n: 'N' } }).replace('"N"', '1e400'), ctype: J, code: [400, 422] });
  add({ name: 'create nested 10,000 deep', method: 'POST', path: SNAPSHOTS, body: `{"apiVersion":"${API_VERSION}","kind":"VolumeSnapshot","metadata":{"name":"deep"},"spec":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, ctype: J, code: [400, 422] });
  add({ name: 'create array nested 10,000 deep', method: 'POST', path: SNAPSHOTS, body: '['.repeat(10_000) + ']'.repeat(10_000), ctype: J, code: 400, reason: 'BadRequest' });
  add({ name: 'create objects nested 10,000 deep', method: 'POST', path: SNAPSHOTS, body: '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000), ctype: J, code: 400, reason: 'BadRequest' });
  add({ name: 'create body over 3 MiB', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'big', annotations: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } }), ctype: J, code: 413, reason: 'RequestEntityTooLarge', msg: 'Request entity too large: limit is 3145728' });
  add({ name: 'create form-encoded', method: 'POST', path: SNAPSHOTS, body: 'a=b', ctype: 'application/x-www-form-urlencoded', code: 415, reason: 'UnsupportedMediaType' });
  add({ name: 'create protobuf', method: 'POST', path: SNAPSHOTS, body: 'k8s\u0000', ctype: 'application/vnd.kubernetes.protobuf', code: 415, reason: 'UnsupportedMediaType' });
  add({ name: 'create content type with junk parameters', method: 'POST', path: SNAPSHOTS, body: 'x', ctype: 'application/json;;;=', code: [400, 415] });
  add({ name: 'create yaml that is not yaml', method: 'POST', path: SNAPSHOTS, body: 'a: [b\n  c: }', ctype: 'application/yaml', code: 400, reason: 'BadRequest' });
  add({ name: 'create yaml alias bomb', method: 'POST', path: SNAPSHOTS, body: 'a: &a ["x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,*g,*g,*g,*g,*g,*g]\n', ctype: 'application/yaml', code: [400, 413, 422] });
  add({ name: 'create on an item URL', method: 'POST', path: `${SNAPSHOTS}/x`, body: snap({ name: 'x' }), ctype: J, code: [404, 405] });
  add({ name: 'create on the status subresource', method: 'POST', path: `${FIXTURE}/status`, body: snap({ name: 'fixture' }), ctype: J, code: 405, reason: 'MethodNotAllowed' });
  add({ name: 'create a namespaced kind at cluster scope', method: 'POST', path: `${GV}/volumesnapshots`, body: snap({ name: 'x' }), ctype: J, code: [404, 405] });
  add({ name: 'create a cluster-scoped kind in a namespace', method: 'POST', path: `${GV}/namespaces/default/volumesnapshotdatas`, body: '{}', ctype: J, code: 404, reason: 'NotFound' });
  add({ name: 'create in a namespace that does not exist', method: 'POST', path: `${GV}/namespaces/nowhere/volumesnapshots`, body: snap({ name: 'x' }), ctype: J, code: 404, reason: 'NotFound', msg: 'namespaces "nowhere" not found' });
  add({ name: 'create the fixture again', method: 'POST', path: SNAPSHOTS, body: snap({ name: 'fixture' }), ctype: J, code: 409, reason: 'AlreadyExists', msg: `volumesnapshots.${GROUP} "fixture" already exists` });

  // 3. Names and namespaces in the URL.
  const urlNames: [string, string, number | number[]][] = [
    ['dot-dot %2F', '..%2F..%2Fetc', [400, 404]],
    ['encoded slash', 'a%2Fb', [400, 404]],
    ['dot-dot', '..', [400, 404]],
    ['unicode', '%E2%98%83', 404],
    ['newline', 'a%0Ab', 404],
    ['NUL', 'a%00b', [400, 404]],
    ['300 characters', 'a'.repeat(300), 404],
    ['invalid percent escape', '%zz', [400, 404]],
  ];
  for (const [what, n, code] of urlNames) {
    add({ name: `GET name ${what}`, method: 'GET', path: `${SNAPSHOTS}/${n}`, code });
    add({ name: `DELETE name ${what}`, method: 'DELETE', path: `${SNAPSHOTS}/${n}`, code });
  }
  add({ name: 'GET namespace NUL', method: 'GET', path: `${GV}/namespaces/%00/volumesnapshots/a`, code: [400, 404] });
  add({ name: 'GET namespace dot-dot %2F', method: 'GET', path: `${GV}/namespaces/..%2F/volumesnapshots`, code: [400, 404] });
  add({ name: 'GET unknown subresource', method: 'GET', path: `${FIXTURE}/bogus`, code: 404, reason: 'NotFound' });
  add({ name: 'GET status of a missing object', method: 'GET', path: `${SNAPSHOTS}/missing/status`, code: 404, reason: 'NotFound', msg: `volumesnapshots.${GROUP} "missing" not found` });
  add({ name: 'PUT a missing object', method: 'PUT', path: `${SNAPSHOTS}/missing`, body: snap({ name: 'missing', resourceVersion: '5' }), ctype: J, code: 404, reason: 'NotFound' });
  add({ name: 'PATCH a missing object', method: 'PATCH', path: `${SNAPSHOTS}/missing`, body: '{}', ctype: MERGE, code: 404, reason: 'NotFound' });
  add({ name: 'PUT status of a missing object', method: 'PUT', path: `${SNAPSHOTS}/missing/status`, body: snap({ name: 'missing', resourceVersion: '5' }), ctype: J, code: 404, reason: 'NotFound' });

  // 4. Query parameters: selectors, resourceVersions, limits, continue tokens, watch options.
  const badLabelSelectors = ['a in ', 'a===b', '(((', 'k notin a', '!', 'a=b,', `${'k'.repeat(70)}=v`, 'k=v'.padEnd(80, 'v'), 'a>b', 'a in (b', '=v'];
  for (const sel of badLabelSelectors) {
    add({ name: `list labelSelector ${JSON.stringify(sel).slice(0, 40)}`, method: 'GET', path: `${SNAPSHOTS}?labelSelector=${encodeURIComponent(sel)}`, code: 400, reason: 'BadRequest' });
  }
  const badFieldSelectors: [string, string | RegExp][] = [
    ['spec.bogus=x', 'field label not supported: spec.bogus'],
    ['metadata.name===x', /invalid field selector|unescaped/],
    ['metadata.name', /invalid selector|invalid field selector/],
    ['metadata.uid=x', 'field label not supported: metadata.uid'],
    ['metadata.name>x', /./],
  ];
  for (const [sel, msg] of badFieldSelectors) {
    add({ name: `list fieldSelector ${sel}`, method: 'GET', path: `${SNAPSHOTS}?fieldSelector=${encodeURIComponent(sel)}`, code: 400, reason: 'BadRequest', msg });
  }
  add({ name: 'list resourceVersion abc', method: 'GET', path: `${SNAPSHOTS}?resourceVersion=abc`, code: [400, 422], msg: /abc/ });
  add({ name: 'list resourceVersion -1', method: 'GET', path: `${SNAPSHOTS}?resourceVersion=-1`, code: [400, 422] });
  add({ name: 'list resourceVersion far ahead', method: 'GET', path: `${SNAPSHOTS}?resourceVersion=99999999`, code: 504, reason: 'Timeout', msg: /^Timeout: Too large resource version: 99999999, current: \d+$/ });
  add({ name: 'list resourceVersionMatch without resourceVersion', method: 'GET', path: `${SNAPSHOTS}?resourceVersionMatch=Exact`, code: 422, reason: 'Invalid', msg: 'resourceVersionMatch is forbidden unless resourceVersion is provided' });
  add({ name: 'list resourceVersionMatch unknown', method: 'GET', path: `${SNAPSHOTS}?resourceVersion=1&resourceVersionMatch=Bogus`, code: 422, reason: 'Invalid', msg: 'Unsupported value: "Bogus"' });
  add({ name: 'list limit abc', method: 'GET', path: `${SNAPSHOTS}?limit=abc`, code: 400, reason: 'BadRequest' });
  add({ name: 'list limit 1e999', method: 'GET', path: `${SNAPSHOTS}?limit=1e999`, code: 400, reason: 'BadRequest' });
  add({ name: 'list continue not base64', method: 'GET', path: `${SNAPSHOTS}?limit=1&continue=%%%`, code: 400, reason: 'BadRequest' });
  add({ name: 'list continue not JSON', method: 'GET', path: `${SNAPSHOTS}?limit=1&continue=enp6`, code: 400, reason: 'BadRequest', msg: 'invalid continue token' });
  add({ name: 'list continue of another version', method: 'GET', path: `${SNAPSHOTS}?limit=1&continue=${Buffer.from('{"v":"meta.k8s.io/v9","rv":1,"start":"a"}').toString('base64url')}`, code: 400, reason: 'BadRequest', msg: 'invalid continue token' });
  add({ name: 'list continue escaping its prefix', method: 'GET', path: `${SNAPSHOTS}?limit=1&continue=${Buffer.from('{"v":"meta.k8s.io/v1","rv":1,"start":"../../x"}').toString('base64url')}`, code: 400, reason: 'BadRequest', msg: 'invalid continue token' });
  add({ name: 'list continue with resourceVersion', method: 'GET', path: `${SNAPSHOTS}?limit=1&resourceVersion=1&continue=${Buffer.from('{"v":"meta.k8s.io/v1","rv":1,"start":"a"}').toString('base64url')}`, code: 400, reason: 'BadRequest', msg: 'specifying resource version is not allowed when using continue' });
  add({ name: 'list timeoutSeconds abc', method: 'GET', path: `${SNAPSHOTS}?timeoutSeconds=abc`, code: 400, reason: 'BadRequest' });
  add({ name: 'list sendInitialEvents', method: 'GET', path: `${SNAPSHOTS}?sendInitialEvents=true`, code: 422, reason: 'Invalid' });
  add({ name: 'list Accept only XML', method: 'GET', path: SNAPSHOTS, headers: { accept: 'application/xml' }, code: 406, reason: 'NotAcceptable' });
  add({ name: 'watch resourceVersion abc', method: 'GET', path: `${SNAPSHOTS}?watch=true&resourceVersion=abc`, code: 422, reason: 'Invalid', msg: 'resourceVersion' });
  add({ name: 'watch resourceVersion far ahead', method: 'GET', path: `${SNAPSHOTS}?watch=true&resourceVersion=99999999&timeoutSeconds=1`, code: 504, reason: 'Timeout', msg: 'Too large resource version' });
  add({ name: 'watch timeoutSeconds abc', method: 'GET', path: `${SNAPSHOTS}?watch=true&timeoutSeconds=abc`, code: 400, reason: 'BadRequest' });
  add({ name: 'watch bad labelSelector', method: 'GET', path: `${SNAPSHOTS}?watch=true&labelSelector=%28%28`, code: 400, reason: 'BadRequest' });
  add({ name: 'watch bad fieldSelector', method: 'GET', path: `${SNAPSHOTS}?watch=true&fieldSelector=spec.x%3Dy`, code: 400, reason: 'BadRequest', msg: 'field label not supported: spec.x' });
  add({ name: 'watch sendInitialEvents without bookmarks', method: 'GET', path: `${SNAPSHOTS}?watch=true&sendInitialEvents=true`, code: 422, reason: 'Invalid', msg: 'sendInitialEvents requires setting' });
  add({ name: 'watch sendInitialEvents with Exact', method: 'GET', path: `${SNAPSHOTS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=Exact&resourceVersion=1`, code: 422, reason: 'Invalid' });
  add({ name: 'watch a missing namespace kind', method: 'GET', path: `${GV}/namespaces/default/bogus?watch=true`, code: 404, reason: 'NotFound' });
  add({ name: 'legacy watch path with bad selector', method: 'GET', path: `${GV}/watch/namespaces/default/volumesnapshots?labelSelector=%21`, code: [400, 404] });

  // 5. Updates (PUT) of the fixture.
  const put = (what: string, body: string, code: number | number[], reason?: string, msg?: string | RegExp) =>
    add({ name: `PUT ${what}`, method: 'PUT', path: FIXTURE, body, ctype: J, code, reason, msg });
  put('name differs from URL', snap({ name: 'other', resourceVersion: fixtureRv }), 400, 'BadRequest', 'the name of the object (other) does not match the name on the URL (fixture)');
  put('namespace differs from URL', snap({ name: 'fixture', namespace: 'kube-system', resourceVersion: fixtureRv }), 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
  put('without resourceVersion', snap({ name: 'fixture' }), 422, 'Invalid', 'metadata.resourceVersion: Invalid value: 0: must be specified for an update');
  put('stale resourceVersion', snap({ name: 'fixture', resourceVersion: '1' }), 409, 'Conflict', `Operation cannot be fulfilled on volumesnapshots.${GROUP} "fixture": the object has been modified; please apply your changes to the latest version and try again`);
  put('resourceVersion abc', snap({ name: 'fixture', resourceVersion: 'abc' }), [400, 409, 422]);
  put('resourceVersion a number', JSON.stringify({ apiVersion: API_VERSION, kind: 'VolumeSnapshot', metadata: { name: 'fixture', resourceVersion: Number(fixtureRv) }, spec: { persistentVolumeClaimName: 'claim' } }), [400, 409, 422]);
  put('immutable claim name', snap({ name: 'fixture', resourceVersion: fixtureRv }, { persistentVolumeClaimName: 'other' }), 422, 'Invalid', 'spec.persistentVolumeClaimName: Invalid value: "other": field is immutable');
  put('uid changed', snap({ name: 'fixture', resourceVersion: fixtureRv, uid: '00000000-0000-0000-0000-000000000000' }), [409, 422], undefined, /UID|uid/);
  put('wrong apiVersion', JSON.stringify({ apiVersion: 'v1', kind: 'VolumeSnapshot', metadata: { name: 'fixture', resourceVersion: fixtureRv } }), 400, 'BadRequest', 'does not match the expected API version');
  put('garbage creationTimestamp', snap({ name: 'fixture', resourceVersion: fixtureRv, creationTimestamp: 'yesterday' }), 400, 'BadRequest', 'VolumeSnapshot in version "v1" cannot be handled as a VolumeSnapshot: parsing time "yesterday"');
  put('generation a string', snap({ name: 'fixture', resourceVersion: fixtureRv, generation: '2' }), 400, 'BadRequest', 'cannot unmarshal string into Go struct field ObjectMeta.metadata.generation of type int64');
  put('deletionTimestamp set', snap({ name: 'fixture', resourceVersion: fixtureRv, deletionTimestamp: '2020-01-01T00:00:00Z' }), 422, 'Invalid', 'metadata.deletionTimestamp: Invalid value: "2020-01-01T00:00:00Z": field is immutable');
  add({ name: 'PUT unknown field (Strict query)', method: 'PUT', path: `${FIXTURE}?fieldValidation=Strict`, body: snap({ name: 'fixture', resourceVersion: fixtureRv }, { persistentVolumeClaimName: 'claim', bogus: true }), ctype: J, code: 400, reason: 'BadRequest', msg: 'strict decoding error: unknown field "spec.bogus"' });
  put('truncated', snap({ name: 'fixture' }).slice(0, 30), 400, 'BadRequest');
  put('a list', '[]', 400, 'BadRequest');
  add({ name: 'PUT merge-patch content type', method: 'PUT', path: FIXTURE, body: '{}', ctype: MERGE, code: 415, reason: 'UnsupportedMediaType' });
  add({ name: 'PUT on the collection', method: 'PUT', path: SNAPSHOTS, body: snap({ name: 'fixture', resourceVersion: fixtureRv }), ctype: J, code: [404, 405] });

  // 6. The status subresource.
  const putStatus = (what: string, body: string, code: number | number[], reason?: string, msg?: string | RegExp) =>
    add({ name: `PUT status ${what}`, method: 'PUT', path: `${FIXTURE}/status`, body, ctype: J, code, reason, msg });
  putStatus('without resourceVersion', snap({ name: 'fixture' }, undefined, { status: {} }), 422, 'Invalid', 'must be specified for an update');
  putStatus('stale resourceVersion', snap({ name: 'fixture', resourceVersion: '1' }, undefined, { status: {} }), 409, 'Conflict');
  putStatus('name differs', snap({ name: 'other', resourceVersion: fixtureRv }, undefined, { status: {} }), 400, 'BadRequest', 'does not match the name on the URL');
  putStatus('unknown condition type', snap({ name: 'fixture', resourceVersion: fixtureRv }, undefined, { status: { conditions: [{ type: 'Bogus', status: 'True' }] } }), 422, 'Invalid', 'Unsupported value: "Bogus"');
  putStatus('condition status Maybe', snap({ name: 'fixture', resourceVersion: fixtureRv }, undefined, { status: { conditions: [{ type: 'Ready', status: 'Maybe' }] } }), 422, 'Invalid', 'Unsupported value: "Maybe"');
  putStatus('conditions a string', snap({ name: 'fixture', resourceVersion: fixtureRv }, undefined, { status: { conditions: 'x' } }), 422, 'Invalid', 'status.conditions');
  putStatus('condition without type', snap({ name: 'fixture', resourceVersion: fixtureRv }, undefined, { status: { conditions: [{ status: 'True' }] } }), 422, 'Invalid');
  putStatus('duplicate condition type', snap({ name: 'fixture', resourceVersion: fixtureRv }, undefined, { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Ready', status: 'False' }] } }), 422, 'Invalid', /Duplicate value/);
  putStatus('lastTransitionTime not a time', snap({ name: 'fixture', resourceVersion: fixtureRv }, undefined, { status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 'yesterday' }] } }), [400, 422]);
  putStatus('malformed JSON', '{"status":', 400, 'BadRequest');
  add({ name: 'PATCH status conditions a string', method: 'PATCH', path: `${FIXTURE}/status`, body: '{"status":{"conditions":"x"}}', ctype: MERGE, code: 422, reason: 'Invalid', msg: 'status.conditions' });
  add({ name: 'PATCH status malformed', method: 'PATCH', path: `${FIXTURE}/status`, body: '{"status":', ctype: MERGE, code: 400, reason: 'BadRequest' });
  add({ name: 'PATCH status renames', method: 'PATCH', path: `${FIXTURE}/status`, body: '{"metadata":{"name":"other"}}', ctype: MERGE, code: 400, reason: 'BadRequest', msg: 'does not match the name on the URL' });
  add({ name: 'PATCH status json-patch bad op', method: 'PATCH', path: `${FIXTURE}/status`, body: '[{"op":"nope","path":"/status"}]', ctype: JSONPATCH, code: [400, 422] });
  add({ name: 'DELETE status', method: 'DELETE', path: `${FIXTURE}/status`, code: 405, reason: 'MethodNotAllowed' });

  // 7. Patches.
  const patch = (what: string, ctype: string, body: string, code: number | number[], reason?: string, msg?: string | RegExp) =>
    add({ name: `PATCH ${what}`, method: 'PATCH', path: FIXTURE, body, ctype, code, reason, msg });
  patch('merge: truncated', MERGE, '{"spec":', 400, 'BadRequest');
  patch('merge: not JSON', MERGE, 'spec: x', 400, 'BadRequest');
  patch('merge: a list', MERGE, '[]', [400, 422]);
  patch('merge: a number', MERGE, '5', [400, 422]);
  patch('merge: renames', MERGE, '{"metadata":{"name":"zz"}}', 400, 'BadRequest', 'the name of the object (zz) does not match the name on the URL (fixture)');
  add({ name: 'PATCH merge: moves namespace', method: 'PATCH', path: FIXTURE, body: '{"metadata":{"namespace":"kube-system"}}', ctype: MERGE, code: 400, reason: 'BadRequest', msg: 'the namespace of the provided object does not match the namespace sent on the request' });
  patch('merge: changes uid', MERGE, '{"metadata":{"uid":"00000000-0000-0000-0000-000000000000"}}', [409, 422], undefined, /UID|uid/);
  patch('merge: stale resourceVersion', MERGE, '{"metadata":{"resourceVersion":"1"}}', 409, 'Conflict', 'the object has been modified');
  patch('merge: resourceVersion abc', MERGE, '{"metadata":{"resourceVersion":"abc"}}', [400, 409, 422]);
  patch('merge: immutable claim', MERGE, '{"spec":{"persistentVolumeClaimName":"other"}}', 422, 'Invalid', 'spec.persistentVolumeClaimName: Invalid value: "other": field is immutable');
  patch('merge: wrong type', MERGE, '{"spec":{"persistentVolumeClaimName":7}}', 422, 'Invalid');
  patch('merge: apiVersion', MERGE, '{"apiVersion":"v1"}', 400, 'BadRequest', 'does not match the expected API version');
  patch('merge: kind', MERGE, '{"kind":"Pod"}', [400, 422]);
  patch('merge: bad label', MERGE, '{"metadata":{"labels":{"a b":"c"}}}', 422, 'Invalid', 'metadata.labels');
  // A typed decoder cannot read these, and a deletion mark is the server's to set (rest.BeforeUpdate + ValidateObjectMetaUpdate).
  patch('merge: creationTimestamp garbage', MERGE, '{"metadata":{"creationTimestamp":"not a time"}}', 422, 'Invalid', 'parsing time "not a time"');
  patch('merge: deletionTimestamp set', MERGE, '{"metadata":{"deletionTimestamp":"2020-01-01T00:00:00Z"}}', 422, 'Invalid', 'metadata.deletionTimestamp: Invalid value: "2020-01-01T00:00:00Z": field is immutable');
  patch('merge: deletionGracePeriodSeconds set', MERGE, '{"metadata":{"deletionGracePeriodSeconds":30}}', 422, 'Invalid', 'metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable');
  patch('merge: generation a string', MERGE, '{"metadata":{"generation":"x"}}', 422, 'Invalid', 'cannot unmarshal string into Go struct field ObjectMeta.metadata.generation of type int64');
  add({ name: 'PATCH merge: unknown field (Strict query)', method: 'PATCH', path: `${FIXTURE}?fieldValidation=Strict`, body: '{"spec":{"bogus":1}}', ctype: MERGE, code: 422, reason: 'Invalid', msg: 'strict decoding error: unknown field "spec.bogus"' });
  add({ name: 'PATCH merge: duplicate key (Strict query)', method: 'PATCH', path: `${FIXTURE}?fieldValidation=Strict`, body: '{"metadata":{"labels":{"a":"b","a":"c"}}}', ctype: MERGE, code: 422, reason: 'Invalid', msg: 'strict decoding error: duplicate field "metadata.labels.a"' });
  patch('json: not a list', JSONPATCH, '{"op":"add"}', 400, 'BadRequest');
  patch('json: truncated', JSONPATCH, '[{"op":"add","path":', 400, 'BadRequest');
  patch('json: unknown op', JSONPATCH, '[{"op":"bogus","path":"/spec"}]', [400, 422]);
  patch('json: missing path', JSONPATCH, '[{"op":"add","value":1}]', [400, 422]);
  patch('json: path not a pointer', JSONPATCH, '[{"op":"add","path":"spec","value":1}]', [400, 422]);
  patch('json: remove missing', JSONPATCH, '[{"op":"remove","path":"/spec/nothing"}]', 422, 'Invalid');
  patch('json: failed test', JSONPATCH, '[{"op":"test","path":"/spec/persistentVolumeClaimName","value":"nope"}]', 422, 'Invalid');
  patch('json: replace uid', JSONPATCH, '[{"op":"replace","path":"/metadata/uid","value":"x"}]', [409, 422], undefined, /UID|uid/);
  patch('json: replace name', JSONPATCH, '[{"op":"replace","path":"/metadata/name","value":"other"}]', 400, 'BadRequest', 'does not match the name on the URL');
  patch('json: stale resourceVersion', JSONPATCH, '[{"op":"replace","path":"/metadata/resourceVersion","value":"1"}]', 409, 'Conflict');
  patch('json: replace claim', JSONPATCH, '[{"op":"replace","path":"/spec/persistentVolumeClaimName","value":"x"}]', 422, 'Invalid', 'field is immutable');
  patch('json: remove spec', JSONPATCH, '[{"op":"remove","path":"/spec"}]', 422, 'Invalid');
  patch('json: remove metadata', JSONPATCH, '[{"op":"remove","path":"/metadata"}]', [400, 422]);
  patch('json: move from missing', JSONPATCH, '[{"op":"move","from":"/nothing","path":"/spec/x"}]', 422, 'Invalid');
  patch('json: index out of range', JSONPATCH, '[{"op":"add","path":"/metadata/finalizers/99","value":"a"}]', 422, 'Invalid');
  patch('json: __proto__ path', JSONPATCH, '[{"op":"add","path":"/__proto__/polluted","value":1}]', [400, 422]);
  patch('json: replace the whole object', JSONPATCH, '[{"op":"replace","path":"","value":{}}]', [400, 422]);
  // Strategic merge patch: interpretStrategicMergePatchError's 400s and generic 422; an unknown $patch directive is a
  // 400 too (kube-apiserver lets that plain error through as a 500).
  patch('strategic: not an object', SMP, '[1]', 400, 'BadRequest', 'json: cannot unmarshal array into Go value of type map[string]interface {}');
  patch('strategic: truncated', SMP, '{"metadata":', 400, 'BadRequest');
  patch('strategic: $retainKeys not a list', SMP, '{"metadata":{"$retainKeys":"labels"}}', 400, 'BadRequest', 'invalid patch format of retainKeys');
  patch('strategic: delete list without a slash', SMP, '{"metadata":{"$deleteFromPrimitiveListfinalizers":["a"]}}', 400, 'BadRequest', 'invalid patch format of primitive list');
  patch('strategic: list of lists', SMP, '{"metadata":{"$setElementOrder/finalizers":[],"finalizers":[["a"]]}}', 422, 'Invalid', 'the server rejected our request due to an error in our request');
  patch('strategic: $patch merge on a map', SMP, '{"metadata":{"$patch":"merge"}}', 400, 'BadRequest', 'unknown patch type: merge in map: map[$patch:merge]');
  patch('strategic: renames', SMP, '{"metadata":{"name":"other"}}', 400, 'BadRequest', 'does not match the name on the URL');
  add({ name: 'PATCH strategic: unknown field (Strict query)', method: 'PATCH', path: `${FIXTURE}?fieldValidation=Strict`, body: '{"spec":{"bogus":1}}', ctype: SMP, code: 422, reason: 'Invalid', msg: 'patch: Invalid value: "map[spec:map[bogus:1]]": strict decoding error: unknown field "spec.bogus"' });
  add({ name: 'PATCH strategic: duplicate key (Strict query)', method: 'PATCH', path: `${FIXTURE}?fieldValidation=Strict`, body: '{"metadata":{"labels":{"a":"b","a":"c"}}}', ctype: SMP, code: 422, reason: 'Invalid', msg: 'strict decoding error: duplicate field "metadata.labels.a"' });
  patch('text/plain', 'text/plain', '{}', 415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml');
  patch('no content type', '', '{}', 415, 'UnsupportedMediaType');
  add({ name: 'PATCH apply without fieldManager', method: 'PATCH', path: FIXTURE, body: snap({ name: 'fixture' }), ctype: APPLY, code: 422, reason: 'Invalid', msg: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch' });
  add({ name: 'PATCH apply not YAML', method: 'PATCH', path: `${FIXTURE}?fieldManager=t`, body: 'a: [b\n c: }', ctype: APPLY, code: [400, 422] });
  add({ name: 'PATCH apply a list', method: 'PATCH', path: `${FIXTURE}?fieldManager=t`, body: '- a\n- b\n', ctype: APPLY, code: [400, 422] });
  add({ name: 'PATCH apply renames', method: 'PATCH', path: `${FIXTURE}?fieldManager=t`, body: snap({ name: 'other' }), ctype: APPLY, code: 400, reason: 'BadRequest', msg: 'does not match the name on the URL' });
  add({ name: 'PATCH apply unknown field', method: 'PATCH', path: `${FIXTURE}?fieldManager=t&fieldValidation=Strict`, body: snap({ name: 'fixture' }, { persistentVolumeClaimName: 'claim', bogus: 1 }), ctype: APPLY, code: [400, 422] });
  add({ name: 'PATCH apply immutable', method: 'PATCH', path: `${FIXTURE}?fieldManager=t&force=true`, body: snap({ name: 'fixture' }, { persistentVolumeClaimName: 'other' }), ctype: APPLY, code: 422, reason: 'Invalid', msg: 'field is immutable' });
  add({ name: 'PATCH apply force not a bool', method: 'PATCH', path: `${FIXTURE}?fieldManager=t&force=maybe`, body: snap({ name: 'fixture' }), ctype: APPLY, code: 400, reason: 'BadRequest' });
  add({ name: 'PATCH force on a merge patch', method: 'PATCH', path: `${FIXTURE}?force=true`, body: '{}', ctype: MERGE, code: 422, reason: 'Invalid', msg: 'force' });
  add({ name: 'PATCH collection', method: 'PATCH', path: SNAPSHOTS, body: '{}', ctype: MERGE, code: [404, 405] });

  // 8. Deletes.
  // Each refused delete aims at an object of its own, so one the server wrongly accepts hides nothing from the others.
  const del = (what: string, body: string, code: number | number[], reason?: string, msg?: string | RegExp, fixme?: string) => {
    const victim = `victim-${what.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
    add({ name: `DELETE ${what}`, method: 'DELETE', path: `${SNAPSHOTS}/${victim}`, body, ctype: J, code, reason, msg, fixme, victim });
  };
  const delFixture = (what: string, body: string, code: number, reason: string, msg: string) =>
    add({ name: `DELETE ${what}`, method: 'DELETE', path: FIXTURE, body, ctype: J, code, reason, msg });
  del('propagationPolicy unknown', '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Bogus"}', 422, 'Invalid', 'Unsupported value: "Bogus"');
  del('gracePeriodSeconds a string', '{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":"x"}', 400, 'BadRequest');
  del('preconditions a string', '{"kind":"DeleteOptions","apiVersion":"v1","preconditions":"x"}', 400, 'BadRequest');
  delFixture('uid precondition fails', '{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"nope"}}', 409, 'Conflict', `Precondition failed: UID in precondition: nope, UID in object meta: ${fixtureUid}`);
  delFixture('resourceVersion precondition fails', '{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"1"}}', 409, 'Conflict', `Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ${fixtureRv}`);
  del('body malformed', '{"kind":', 400, 'BadRequest');
  del('body a list', '[]', 400, 'BadRequest');
  del('both orphanDependents and propagationPolicy', '{"kind":"DeleteOptions","apiVersion":"v1","orphanDependents":true,"propagationPolicy":"Background"}', 422, 'Invalid', 'orphanDependents');
  del('dryRun not All', '{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["Bogus"]}', 422, 'Invalid', 'supported values: "All"');
  del('wrong kind of options', '{"kind":"Pod","apiVersion":"v1"}', 400, 'BadRequest');
  add({ name: 'DELETE collection bad labelSelector', method: 'DELETE', path: `${SNAPSHOTS}?labelSelector=%28%28%28`, code: 400, reason: 'BadRequest' });
  add({ name: 'DELETE collection bad fieldSelector', method: 'DELETE', path: `${SNAPSHOTS}?fieldSelector=spec.x%3Dy`, code: 400, reason: 'BadRequest', msg: 'field label not supported: spec.x' });
  add({ name: 'DELETE collection bad options', method: 'DELETE', path: SNAPSHOTS, body: '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Bogus"}', ctype: J, code: 422, reason: 'Invalid' });
  add({ name: 'DELETE query gracePeriodSeconds abc', method: 'DELETE', path: `${FIXTURE}?gracePeriodSeconds=abc`, code: 400, reason: 'BadRequest' });

  // 9. Other kinds: a PVC's quantity and immutable fields, the PV and namespace rules.
  add({ name: 'PVC quantity garbage', method: 'POST', path: PVCS, body: JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'q' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: 'lots' } } } }), ctype: J, code: 400, reason: 'BadRequest', msg: 'quantities must match the regular expression' });
  add({ name: 'PVC accessModes unknown', method: 'POST', path: PVCS, body: JSON.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'q' }, spec: { accessModes: ['Sometimes'], resources: { requests: { storage: '1Gi' } } } }), ctype: J, code: 422, reason: 'Invalid', msg: 'spec.accessModes' });
  add({ name: 'PVC shrink', method: 'PATCH', path: `${PVCS}/claim`, body: '{"spec":{"accessModes":["ReadOnlyMany"]}}', ctype: MERGE, code: 422, reason: 'Invalid' });
  add({ name: 'namespace name invalid', method: 'POST', path: '/api/v1/namespaces', body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Not_Valid' } }), ctype: J, code: 422, reason: 'Invalid', msg: 'metadata.name' });
  add({ name: 'storage class provisioner update', method: 'PATCH', path: '/apis/storage.k8s.io/v1/storageclasses/fixture-class', body: '{"provisioner":"other"}', ctype: MERGE, code: 422, reason: 'Invalid', msg: 'provisioner: Forbidden: updates to provisioner are forbidden.' });
  add({ name: 'data with two sources', method: 'POST', path: DATA, body: JSON.stringify({ apiVersion: API_VERSION, kind: 'VolumeSnapshotData', metadata: { name: 'two' }, spec: { hostPath: { snapshot: '/x' }, gcePersistentDisk: { snapshotId: 'y' } } }), ctype: J, code: 422, reason: 'Invalid' });
  add({ name: 'lease renewTime with 3 fractional digits', method: 'POST', path: '/apis/coordination.k8s.io/v1/namespaces/default/leases', body: JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { renewTime: '2024-01-01T00:00:00.000Z' } }), ctype: J, code: 400, reason: 'BadRequest' });

  // 10. Discovery and OpenAPI.
  for (const p of ['/apis/nope', '/apis/nope/v1', `/apis/${GROUP}/v9`, '/api/v2', '/openapi/v3/apis/nope/v1', `/openapi/v3/apis/${GROUP}/v9`, '/openapi/v4', `${GV}/nothing`, '/apis/%2e%2e/v1', '/api/v1/namespaces/default/secrets']) {
    add({ name: `GET ${p}`, method: 'GET', path: p, code: 404, reason: 'NotFound' });
  }
  for (const p of ['/apis', '/api', `/apis/${GROUP}`, GV, '/openapi/v2', '/openapi/v3']) {
    add({ name: `POST ${p}`, method: 'POST', path: p, body: '{}', ctype: J, code: [404, 405] });
  }
  add({ name: 'GET /apis Accept only XML', method: 'GET', path: '/apis', headers: { accept: 'application/xml' }, code: 406, reason: 'NotAcceptable' });

  // 11. Admission reviews.
  const AR = '"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"';
  const pvcResource = '"resource":{"group":"","version":"v1","resource":"persistentvolumeclaims"}';
  const reviews: [string, string, string | RegExp][] = [
    ['malformed', '{', /could not be decoded|json parse error/],
    ['empty', '', /./],
    ['a list', '[]', /./],
    ['no apiVersion', '{}', 'unsupported AdmissionReview apiVersion ""'],
    ['unknown apiVersion', '{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"u"}}', 'unsupported AdmissionReview apiVersion "admission.k8s.io/v2"'],
    ['no request', `{${AR}}`, 'the AdmissionReview has no request'],
    ['request a list', `{${AR},"request":[]}`, 'the AdmissionReview has no request'],
    ['no uid', `{${AR},"request":{}}`, 'the AdmissionReview request has no uid'],
    ['uid a number', `{${AR},"request":{"uid":5}}`, 'has no uid'],
    ['another resource', `{${AR},"request":{"uid":"u","resource":{"group":"","version":"v1","resource":"pods"}}}`, 'this webhook admits persistentvolumeclaims'],
    ['object a number', `{${AR},"request":{"uid":"u","operation":"CREATE",${pvcResource},"object":5}}`, /./],
    ['object a string', `{${AR},"request":{"uid":"u","operation":"CREATE",${pvcResource},"object":"pvc"}}`, /./],
  ];
  for (const p of ['/mutate-v1-persistentvolumeclaim', '/validate-v1-persistentvolumeclaim']) {
    for (const [what, body, msg] of reviews) {
      add({ name: `${p}: ${what}`, method: 'POST', path: p, body, ctype: J, code: 400, reason: 'BadRequest', msg });
    }
    add({ name: `${p}: text/plain`, method: 'POST', path: p, body: 'x', ctype: 'text/plain', code: 415, reason: 'UnsupportedMediaType' });
    add({ name: `${p}: GET`, method: 'GET', path: p, code: [404, 405] });
    add({ name: `${p}: over 3 MiB`, method: 'POST', path: p, body: `{${AR},"request":{"uid":"${'u'.repeat(3 * 1024 * 1024)}"}}`, ctype: J, code: 413, reason: 'RequestEntityTooLarge' });
  }
  // Deletes of the fixture last: one that wrongly succeeds must not hide what the other rows would find.
  // A write the server wrongly accepts today goes to an object of its own, so it cannot change what later rows see.
  rows.forEach((r, i) => {
    if (r.fixme && r.method !== 'GET' && !r.victim && r.path.startsWith(FIXTURE) && !r.path.startsWith(`${FIXTURE}/`)) {
      r.victim = `victim-${i}`;
      r.path = r.path.replace(FIXTURE, `${SNAPSHOTS}/${r.victim}`);
    }
  });
  const deletesFixture = (r: Row) => r.method === 'DELETE' && r.path.startsWith(FIXTURE);
  return [...rows.filter((r) => !deletesFixture(r)), ...rows.filter(deletesFixture)];
}

t.test('a corpus of bad requests gets 4xx Statuses, the server stays healthy and nothing is written', async (t) => {
  const server = await startServer({ args: ['--worker=false'] });
  t.teardown(() => server.stop());
  const client = makeClient(server, await loadCredentials(server.certDir));

  // Fixtures the corpus aims at.
  const fixture = await client.json<StoredObject>('POST', SNAPSHOTS, snapshotBody('fixture'));
  t.equal(fixture.status, 201, 'fixture created');
  const claim = await client.json('POST', PVCS, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'claim' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  t.equal(claim.status, 201, 'claim created');
  const sc = await client.json('POST', '/apis/storage.k8s.io/v1/storageclasses', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'fixture-class' },
    provisioner: 'example.com/x',
  });
  t.equal(sc.status, 201, 'class created');

  const rows = corpus(fixture.body.metadata.resourceVersion, fixture.body.metadata.uid);
  const victims = rows.filter((r) => r.victim);
  for (const r of victims) t.equal((await client.json('POST', SNAPSHOTS, snapshotBody(r.victim!))).status, 201, `${r.victim} created`);

  const before = await dumpStore(client);
  t.ok(rows.length >= 150, `${rows.length} requests in the corpus`);

  const wrong: string[] = [];
  let fixmes = 0;
  for (const row of rows) {
    const headers: Record<string, string> = { ...row.headers };
    if (row.ctype) headers['content-type'] = row.ctype;
    const res = await client.request({ path: row.path, method: row.method, headers, body: row.body });
    const codes = Array.isArray(row.code) ? row.code : [row.code];
    let status: { kind?: string; reason?: string; message?: string; code?: number } = {};
    try {
      status = JSON.parse(res.body) as typeof status;
    } catch {
      // not JSON: reported below
    }
    const problems: string[] = [];
    if (!codes.includes(res.status)) problems.push(`code ${res.status}, want ${codes.join('|')}`);
    if (res.status >= 400) {
      if (status.kind !== 'Status') problems.push('body is not a Status');
      else if (status.code !== res.status) problems.push(`Status.code ${status.code} ≠ HTTP ${res.status}`);
    }
    if (row.reason && status.reason !== row.reason) problems.push(`reason ${status.reason}, want ${row.reason}`);
    if (row.msg !== undefined && res.status >= 400) {
      const m = status.message ?? '';
      const ok = typeof row.msg === 'string' ? m.includes(row.msg) : row.msg.test(m);
      if (!ok) problems.push(`message ${JSON.stringify(m.slice(0, 300))}, want ${String(row.msg).slice(0, 200)}`);
    }
    const expected5xx = codes.some((c) => c >= 500);
    if (row.fixme) {
      fixmes++;
      t.ok(problems.length === 0 && (res.status < 500 || expected5xx), `${row.method} ${row.name}: ${problems.join('; ') || 'fixed'}`, { todo: row.fixme });
      continue;
    }
    if (problems.length) wrong.push(`${row.method} ${row.name}: ${problems.join('; ')}`);
    // 504 for a resourceVersion far ahead is what upstream answers (REFERENCE §7); every other 5xx is a bug.
    t.ok(res.status < 500 || expected5xx, `${row.name}: no 5xx (got ${res.status})`);
  }
  t.same(wrong, [], 'every row got the expected Status');
  t.comment(`${rows.length} requests tried, ${rows.length - fixmes} as upstream answers, ${fixmes} marked FIXME(server)`);

  const ready = await client.request({ path: '/readyz' });
  t.equal(ready.status, 200, 'still ready');
  t.equal(ready.body, 'ok');

  const after = await dumpStore(client);
  for (const r of victims) {
    const key = `default/${r.victim}`;
    t.same(after[`${GV}/volumesnapshots`][key], before[`${GV}/volumesnapshots`][key], `${r.name}: ${r.victim} untouched`, r.fixme ? { todo: r.fixme } : {});
    for (const dump of [before, after]) delete dump[`${GV}/volumesnapshots`][key];
  }
  t.same(after, before, 'the store holds exactly what it held: no bad request wrote anything');

  // The one intended write goes through and is the only difference.
  const good = await client.json<StoredObject>('POST', SNAPSHOTS, snapshotBody('after-corpus'));
  t.equal(good.status, 201, 'a good create still works');
  const final = await dumpStore(client);
  for (const r of victims) delete final[`${GV}/volumesnapshots`][`default/${r.victim}`];
  const expected = structuredClone(before);
  expected[`${GV}/volumesnapshots`]['default/after-corpus'] = good.body;
  t.same(final, expected, 'the store holds what it held plus the intended write');
});
