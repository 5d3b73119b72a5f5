import t from 'tap';
import { parseRequestInfo, decodePath, hasMalformedEscape, assertValidNameParameter, type RequestInfo } from '../../src/apimachinery/request-info.js';

const G = 'stuff.example.com';
const base = `/apis/${G}/v1`;

type Expect = Partial<RequestInfo>;
// Cases mirror k8s.io/apiserver/pkg/endpoints/request/requestinfo_test.go where they apply.
const cases: [method: string, url: string, expect: Expect][] = [
  ['GET', '/api/v1/namespaces', { verb: 'list', apiPrefix: 'api', apiGroup: '', apiVersion: 'v1', namespace: '', resource: 'namespaces', name: '' }],
  ['GET', '/api/v1/namespaces/other', { verb: 'get', namespace: 'other', resource: 'namespaces', name: 'other' }],
  ['GET', '/api/v1/namespaces/other/pods', { verb: 'list', namespace: 'other', resource: 'pods', parts: ['pods'] }],
  ['GET', '/api/v1/namespaces/other/pods/foo', { verb: 'get', namespace: 'other', resource: 'pods', name: 'foo', parts: ['pods', 'foo'] }],
  ['HEAD', '/api/v1/namespaces/other/pods/foo', { verb: 'get', name: 'foo' }],
  ['GET', '/api/v1/pods', { verb: 'list', namespace: '', resource: 'pods' }],
  ['GET', '/api/v1/namespaces/other/pods/foo/status', { verb: 'get', resource: 'pods', name: 'foo', subresource: 'status' }],
  ['GET', '/api/v1/namespaces/other/status', { verb: 'get', namespace: 'other', resource: 'namespaces', name: 'other', subresource: 'status' }],
  ['PUT', '/api/v1/namespaces/other/finalize', { verb: 'update', resource: 'namespaces', name: 'other', subresource: 'finalize' }],
  ['GET', '/api/v1/watch/pods', { verb: 'watch', resource: 'pods', namespace: '' }],
  ['GET', '/api/v1/watch/namespaces/other/pods', { verb: 'watch', namespace: 'other', resource: 'pods' }],
  ['GET', '/api/v1/pods?watch=true', { verb: 'watch' }],
  ['GET', '/api/v1/pods?watch=1', { verb: 'watch' }],
  ['GET', '/api/v1/pods?watch=', { verb: 'watch' }],
  ['GET', '/api/v1/pods?watch=yes', { verb: 'watch' }],
  ['GET', '/api/v1/pods?watch=false', { verb: 'list' }],
  ['GET', '/api/v1/pods?watch=FALSE', { verb: 'list' }],
  ['GET', '/api/v1/pods?watch=0', { verb: 'list' }],
  ['GET', '/api/v1/pods?watch=false&watch=true', { verb: 'list' }],
  ['POST', '/api/v1/namespaces/other/pods', { verb: 'create', resource: 'pods', name: '' }],
  ['PUT', '/api/v1/namespaces/other/pods/foo', { verb: 'update', name: 'foo' }],
  ['PATCH', '/api/v1/namespaces/other/pods/foo', { verb: 'patch', name: 'foo' }],
  ['DELETE', '/api/v1/namespaces/other/pods/foo', { verb: 'delete', name: 'foo' }],
  ['DELETE', '/api/v1/namespaces/other/pods', { verb: 'deletecollection', name: '' }],
  ['OPTIONS', '/api/v1/namespaces/other/pods', { verb: '', isResourceRequest: true }],
  ['GET', '/api/v1/proxy/namespaces/other/pods/foo/a/b', { verb: 'proxy', resource: 'pods', name: 'foo', subresource: '' }],
  // our group
  ['GET', `${base}/widgets`, { verb: 'list', apiPrefix: 'apis', apiGroup: G, apiVersion: 'v1', resource: 'widgets' }],
  ['GET', `${base}/namespaces/default/widgets`, { verb: 'list', namespace: 'default', resource: 'widgets' }],
  ['GET', `${base}/namespaces/default/widgets/s1`, { verb: 'get', name: 's1', isResourceRequest: true }],
  ['PUT', `${base}/namespaces/default/widgets/s1/status`, { verb: 'update', name: 's1', subresource: 'status' }],
  ['GET', `${base}/gadgets/d1`, { verb: 'get', namespace: '', resource: 'gadgets', name: 'd1' }],
  ['DELETE', `${base}/namespaces/default/widgets`, { verb: 'deletecollection' }],
  ['GET', `${base}/namespaces/default/widgets/s1/status/extra/parts`, { subresource: 'status', parts: ['widgets', 's1', 'status', 'extra', 'parts'] }],
  ['GET', `${base}/watch/namespaces/default/widgets/s1`, { verb: 'watch', name: 's1' }],
  // fieldSelector metadata.name names the object for authorization
  ['GET', `${base}/namespaces/default/widgets?fieldSelector=metadata.name%3Ds1`, { verb: 'list', name: 's1' }],
  ['GET', `${base}/namespaces/default/widgets?watch=true&fieldSelector=metadata.name==s1`, { verb: 'watch', name: 's1' }],
  ['GET', `${base}/widgets?fieldSelector=metadata.name!=s1`, { verb: 'list', name: '' }],
  ['GET', `${base}/widgets?fieldSelector=metadata.name=a%2Fb`, { verb: 'list', name: '' }],
  ['GET', `${base}/widgets?fieldSelector=metadata.name=..`, { verb: 'list', name: '' }],
  ['GET', `${base}/widgets?fieldSelector=metadata.name=s1&labelSelector=a%20b`, { verb: 'list', name: '' }],
  ['GET', `${base}/widgets?fieldSelector=metadata.name=s1&limit=abc&watch=1`, { verb: 'watch', name: '' }],
  ['GET', `${base}/widgets?fieldSelector=metadata.name=s1,spec.x=y`, { verb: 'list', name: 's1' }],
  ['GET', `${base}/widgets?fieldSelector=metadata.name=s\\1`, { verb: 'list', name: '' }],
  ['DELETE', `${base}/widgets?fieldSelector=metadata.name=s1`, { verb: 'deletecollection', name: '' }],
  // non-resource requests
  ['GET', '/', { isResourceRequest: false, verb: 'get', path: '/' }],
  ['GET', '/healthz', { isResourceRequest: false, verb: 'get' }],
  ['GET', '/api', { isResourceRequest: false }],
  ['GET', '/api/v1', { isResourceRequest: false }],
  ['GET', '/apis', { isResourceRequest: false }],
  ['GET', `/apis/${G}`, { isResourceRequest: false }],
  ['GET', `/apis/${G}/v1`, { isResourceRequest: false, apiPrefix: 'apis', apiGroup: '' }],
  ['POST', `/apis/${G}/v1/`, { isResourceRequest: false, verb: 'post' }],
  ['GET', '/openapi/v3/apis/x/v1', { isResourceRequest: false }],
  ['GET', '/other/a/b/c', { isResourceRequest: false }],
  ['PATCH', '/metrics', { isResourceRequest: false, verb: 'patch' }],
  ['GET', '/api/v1/watch', { isResourceRequest: true, verb: 'get', resource: '' }],
  // hostile paths: decoded like Go's URL.Path, never thrown
  ['GET', `${base}/namespaces/default/widgets/..%2F..%2Fsecrets`, { name: '..', subresource: '..', parts: ['widgets', '..', '..', 'secrets'] }],
  ['GET', `${base}/namespaces/default/widgets/%E2%9C%93`, { name: '\u2713' }],
  ['GET', `${base}/namespaces/default/widgets/%zz`, { name: '%zz' }],
  ['GET', `${base}/namespaces/default/widgets/%`, { name: '%' }],
  ['GET', `${base}/namespaces/default/widgets/%FF`, { name: '\ufffd' }],
  ['GET', `${base}/namespaces/default/widgets/a%00b`, { name: 'a\u0000b' }],
  ['GET', `${base}//namespaces//default`, { namespace: '', resource: '', parts: ['', 'namespaces', '', 'default'] }],
  ['GET', `${base}/namespaces/default/widgets/s1?fieldSelector=%zz&watch=%`, { verb: 'get', name: 's1' }],
  ['GET', `${base}/widgets#frag?watch=true`, { verb: 'list', resource: 'widgets' }],
  ['GET', `https://api.example:6443${base}/widgets?watch=1`, { verb: 'watch', resource: 'widgets', path: `${base}/widgets` }],
  ['GET', 'http://host', { isResourceRequest: false, path: '/' }],
  ['GET', `/x/http://host${base}/widgets`, { isResourceRequest: false }],
];

t.test('parseRequestInfo table', async (t) => {
  for (const [method, url, expect] of cases) {
    const info = parseRequestInfo(method, url);
    const picked = Object.fromEntries(Object.keys(expect).map((k) => [k, info[k as keyof RequestInfo]]));
    t.same(picked, expect, `${method} ${url}`);
  }
});

t.test('full result of a namespaced get', async (t) => {
  t.strictSame(parseRequestInfo('GET', `${base}/namespaces/ns/widgets/s/status?x=1`), {
    isResourceRequest: true,
    path: `${base}/namespaces/ns/widgets/s/status`,
    verb: 'get',
    apiPrefix: 'apis',
    apiGroup: G,
    apiVersion: 'v1',
    namespace: 'ns',
    resource: 'widgets',
    subresource: 'status',
    name: 's',
    parts: ['widgets', 's', 'status'],
  });
});

t.test('custom prefixes', async (t) => {
  const info = parseRequestInfo('GET', '/custom/v1/things', { apiPrefixes: ['custom'], grouplessApiPrefixes: ['custom'] });
  t.equal(info.isResourceRequest, true);
  t.equal(info.resource, 'things');
  t.equal(parseRequestInfo('GET', '/api/v1/things', { apiPrefixes: ['custom'] }).isResourceRequest, false);
});

t.test('decodePath and hasMalformedEscape', async (t) => {
  t.equal(decodePath('/a%2Fb'), '/a/b');
  t.equal(decodePath('/a+b'), '/a+b');
  t.equal(decodePath('/%41%4a%4A'), '/AJJ');
  t.equal(decodePath('/%4'), '/%4');
  t.equal(decodePath('/\u00e9%C3%A9'), '/\u00e9\u00e9');
  t.equal(hasMalformedEscape('/a%2Fb'), false);
  t.equal(hasMalformedEscape('/a%2'), true);
  t.equal(hasMalformedEscape('/a%zz'), true);
});

t.test('huge inputs stay linear and never throw', async (t) => {
  const long = `${base}/namespaces/default/widgets/${'a/'.repeat(200_000)}`;
  const info = parseRequestInfo('GET', long);
  t.equal(info.name, 'a');
  t.equal(info.parts.length, 200_001);
  const manyPercents = `${base}/x/${'%'.repeat(100_000)}`;
  t.equal(parseRequestInfo('GET', manyPercents).name, '%'.repeat(100_000));
  const bigSelector = `${base}/x?fieldSelector=${'a=b,'.repeat(50_000)}metadata.name=n`;
  t.equal(parseRequestInfo('GET', bigSelector).name, 'n');
});

t.test('assertValidNameParameter', async (t) => {
  const bad: [string, { namespaced: boolean; value: string } | undefined, string][] = [
    ['..', undefined, 'Name parameter invalid: "..": may not be \'..\''],
    ['.', undefined, 'Name parameter invalid: ".": may not be \'.\''],
    ['a/b%c', undefined, "Name parameter invalid: \"a/b%c\": may not contain '/';may not contain '%'"],
    ['', undefined, 'Name parameter required.'],
    ['x', { namespaced: true, value: '' }, 'Namespace parameter required.'],
  ];
  for (const [name, ns, message] of bad) {
    try {
      assertValidNameParameter(name, ns);
      t.fail(`expected ${JSON.stringify(name)} to be refused`);
    } catch (e) {
      t.equal((e as { code?: number }).code, 400);
      t.equal((e as Error).message, message);
    }
  }
  t.doesNotThrow(() => assertValidNameParameter('ok..name', { namespaced: true, value: 'default' }));
  t.doesNotThrow(() => assertValidNameParameter('x', { namespaced: false, value: '' }));
});
