// SubjectAccessReview authorization end to end: what is asked, what is cached, what a denial and an outage look like.
import t, { type Test } from 'tap';
import { KubeConfig } from '@kubernetes/client-node';
import { ReviewClient } from '../../src/cluster/review-client.js';
import { createAuthorization } from '../../src/server/authorization-config.js';
import { FakeMainApi } from '../fakes/fake-main-api.js';
import { httpsRequest } from '../helpers/https-client.js';
import { makeAuthPki, startDelegatedServer, type AuthPki } from './fixtures/delegation-fixtures.js';

const pki: AuthPki = await makeAuthPki();
const G = 'volumesnapshot.external-storage.k8s.io';
const flagOptions = {
  clientCaFile: pki.caFile,
  requestheaderClientCaFile: pki.frontProxyCaFile,
  requestheaderAllowedNames: ['front-proxy-client'],
};
const alice = {
  'X-Remote-User': 'alice',
  'X-Remote-Uid': 'uid-a',
  'X-Remote-Group': ['devs'],
  'X-Remote-Extra-Scopes': 'read',
};
const aliceSpec = { user: 'alice', uid: 'uid-a', groups: ['devs', 'system:authenticated'], extra: { scopes: ['read'] } };

async function setup(t: Test, ttls: { authorizedTtlSeconds?: number; unauthorizedTtlSeconds?: number } = {}) {
  const fake = await FakeMainApi.start();
  t.teardown(() => fake.close());
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig());
  const clock = { ms: 1_000_000 };
  const authorizer = await createAuthorization(ttls, { accessReviewer: new ReviewClient(kc, { timeoutMs: 2000 }), now: () => clock.ms });
  const s = await startDelegatedServer(t, pki, flagOptions, {}, authorizer);
  const call = (method: string, path: string, body?: string, headers: Record<string, string | string[]> = alice) =>
    httpsRequest({
      url: s.url + path,
      method,
      ca: pki.ca,
      cert: pki.frontProxy.cert,
      key: pki.frontProxy.key,
      headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
      body,
    });
  return { fake, s, call, clock };
}

t.test('every verb, the status subresource, cluster scope and non-resource paths are asked about exactly', async (t) => {
  const { fake, call } = await setup(t);
  fake.decideAccess = () => ({ allowed: true });
  const ns = `/apis/${G}/v1/namespaces/default/volumesnapshots`;
  const cases: [string, string, Record<string, string>][] = [
    ['GET', `${ns}/snap-1`, { verb: 'get', name: 'snap-1' }],
    ['GET', ns, { verb: 'list' }],
    ['GET', `${ns}?watch=true&resourceVersion=5`, { verb: 'watch' }],
    ['GET', `${ns}?watch=1&fieldSelector=metadata.name%3Dsnap-1`, { verb: 'watch', name: 'snap-1' }],
    ['POST', ns, { verb: 'create' }],
    ['PUT', `${ns}/snap-1`, { verb: 'update', name: 'snap-1' }],
    ['PATCH', `${ns}/snap-1`, { verb: 'patch', name: 'snap-1' }],
    ['DELETE', `${ns}/snap-1`, { verb: 'delete', name: 'snap-1' }],
    ['DELETE', ns, { verb: 'deletecollection' }],
    ['GET', `${ns}/snap-1/status`, { verb: 'get', name: 'snap-1', subresource: 'status' }],
    ['PUT', `${ns}/snap-1/status`, { verb: 'update', name: 'snap-1', subresource: 'status' }],
    ['PATCH', `${ns}/snap-1/status`, { verb: 'patch', name: 'snap-1', subresource: 'status' }],
  ];
  for (const [method, path, want] of cases) {
    const r = await call(method, path, method === 'GET' || method === 'DELETE' ? undefined : '{}');
    t.equal(r.status, 200, `${method} ${path}`);
    t.same(
      fake.sarSpecs().at(-1),
      { ...aliceSpec, resourceAttributes: { namespace: 'default', group: G, version: 'v1', resource: 'volumesnapshots', ...want } },
      `${method} ${path} → ${want.verb}`,
    );
  }
  await call('GET', `/apis/${G}/v1/volumesnapshotdatas/data-1`);
  t.same(fake.sarSpecs().at(-1), {
    ...aliceSpec,
    resourceAttributes: { verb: 'get', group: G, version: 'v1', resource: 'volumesnapshotdatas', name: 'data-1' },
  }, 'cluster-scoped: no namespace');
  await call('GET', '/api/v1/namespaces/default/persistentvolumeclaims');
  t.same(fake.sarSpecs().at(-1), {
    ...aliceSpec,
    resourceAttributes: { namespace: 'default', verb: 'list', version: 'v1', resource: 'persistentvolumeclaims' },
  }, 'core group: no group');
  for (const [method, path] of [['GET', `/apis/${G}/v1`], ['GET', '/apis'], ['GET', '/openapi/v3'], ['POST', '/apis/x']]) {
    await call(method, path, method === 'POST' ? '{}' : undefined);
    t.same(fake.sarSpecs().at(-1), { ...aliceSpec, nonResourceAttributes: { path, verb: method.toLowerCase() } }, `${method} ${path}`);
  }
});

t.test('a denial is a 403 Status in kube-apiserver words; answers are cached per TTL', async (t) => {
  const { fake, s, call, clock } = await setup(t, { authorizedTtlSeconds: 20, unauthorizedTtlSeconds: 5 });
  fake.decideAccess = (spec) =>
    spec.resourceAttributes?.verb === 'delete' ? { allowed: false, denied: true, reason: 'deletes are reviewed weekly' } : { allowed: false };
  const sars = () => fake.sarSpecs().length;

  const del = await call('DELETE', `/apis/${G}/v1/namespaces/default/volumesnapshots/x`);
  t.equal(del.status, 403);
  t.same(del.json(), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `volumesnapshots.${G} "x" is forbidden: User "alice" cannot delete resource "volumesnapshots" in API group "${G}" in the namespace "default": deletes are reviewed weekly`,
    reason: 'Forbidden',
    details: { name: 'x', group: G, kind: 'volumesnapshots' },
    code: 403,
  });
  const list = await call('GET', `/apis/${G}/v1/namespaces/default/volumesnapshots`);
  t.equal(
    list.json<{ message: string }>().message,
    `volumesnapshots.${G} is forbidden: User "alice" cannot list resource "volumesnapshots" in API group "${G}" in the namespace "default"`,
  );
  const data = await call('PUT', `/apis/${G}/v1/volumesnapshotdatas/d/status`, '{}');
  t.equal(
    data.json<{ message: string }>().message,
    `volumesnapshotdatas.${G} "d" is forbidden: User "alice" cannot update resource "volumesnapshotdatas/status" in API group "${G}" at the cluster scope`,
  );
  const path = await call('GET', '/openapi/v3');
  t.equal(path.json<{ message: string }>().message, 'forbidden: User "alice" cannot get path "/openapi/v3"');
  t.equal(s.handled(), 0, 'no denied request reached a handler');

  const before = sars();
  await call('DELETE', `/apis/${G}/v1/namespaces/default/volumesnapshots/x`);
  await call('GET', `/apis/${G}/v1/namespaces/default/volumesnapshots`);
  t.equal(sars(), before, 'denials are cached');

  fake.decideAccess = () => ({ allowed: true });
  clock.ms += 4_900;
  t.equal((await call('GET', `/apis/${G}/v1/namespaces/default/volumesnapshots`)).status, 403, 'the denial holds for its TTL');
  clock.ms += 200;
  t.equal((await call('GET', `/apis/${G}/v1/namespaces/default/volumesnapshots`)).status, 200, 'asked again after the TTL');
  t.equal(sars(), before + 1);
  fake.decideAccess = () => ({ allowed: false });
  clock.ms += 19_900;
  t.equal((await call('GET', `/apis/${G}/v1/namespaces/default/volumesnapshots`)).status, 200, 'an allow is cached for its own TTL');
  t.equal(sars(), before + 1);
  clock.ms += 200;
  t.equal((await call('GET', `/apis/${G}/v1/namespaces/default/volumesnapshots`)).status, 403, 'and then asked again');
  t.equal(sars(), before + 2);
  const bob = await call('GET', `/apis/${G}/v1/namespaces/default/volumesnapshots`, undefined, { 'X-Remote-User': 'bob' });
  t.equal(bob.status, 403, 'the cache is per user');
});

t.test('system:masters and the always-allow paths never reach the main cluster', async (t) => {
  const { fake, s, call } = await setup(t);
  const masters = await call('DELETE', `/apis/${G}/v1/namespaces/default/volumesnapshots/x`, undefined, {
    'X-Remote-User': 'kube-aggregator',
    'X-Remote-Group': 'system:masters',
  });
  t.equal(masters.status, 200);
  for (const p of ['/healthz', '/readyz', '/livez']) t.equal((await call('GET', p)).status, 200, p);
  t.equal((await httpsRequest({ url: `${s.url}/healthz`, ca: pki.ca })).status, 200, 'anonymous /healthz');
  t.equal(fake.sarSpecs().length, 0);
});

t.test('the main cluster unreachable: a 500 Status and a log line, never an allow', async (t) => {
  const { fake, s, call } = await setup(t);
  fake.decideAccess = () => ({ allowed: true });
  fake.failWith = 503;
  const r = await call('GET', `/apis/${G}/v1/namespaces/default/volumesnapshots`);
  t.equal(r.status, 500);
  t.match(r.json(), {
    kind: 'Status',
    status: 'Failure',
    reason: 'InternalError',
    code: 500,
    message: /^Internal error occurred: authorization webhook failed: SubjectAccessReview: HTTP 503/,
  });
  await fake.close();
  const r2 = await call('DELETE', `/apis/${G}/v1/namespaces/default/volumesnapshots/x`);
  t.equal(r2.status, 500);
  t.match(r2.json<{ message: string }>().message, /ECONNREFUSED/);
  t.equal(s.handled(), 0, 'nothing was let through');
  t.ok(s.logs.some((l) => l.includes('"level":50') && l.includes('authorization webhook failed')), 'logged at error level');
  const again = await call('GET', `/apis/${G}/v1/namespaces/default/volumesnapshots`);
  t.equal(again.status, 500, 'failures are not cached as allowed');
});
