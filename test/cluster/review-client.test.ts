import t, { type Test } from 'tap';
import { KubeConfig } from '@kubernetes/client-node';
import { ReviewClient, ReviewError } from '../../src/cluster/review-client.js';
import { FAKE_CLIENT_TOKEN, FakeMainApi } from '../fakes/fake-main-api.js';

async function setup(t: Test) {
  const fake = await FakeMainApi.start();
  t.teardown(() => fake.close());
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig());
  return { fake, client: new ReviewClient(kc, { timeoutMs: 2000 }) };
}

t.test('TokenReview: the token goes in spec.token with our own credentials; the status comes back', async (t) => {
  const { fake, client } = await setup(t);
  fake.tokens.set('good-token', { username: 'alice', uid: 'u-1', groups: ['devs'], extra: { scopes: ['a'] } });
  const ok = await client.reviewToken('good-token');
  t.same(ok, { authenticated: true, user: { username: 'alice', uid: 'u-1', groups: ['devs'], extra: { scopes: ['a'] } } });
  const bad = await client.reviewToken('bad-token');
  t.equal(bad.authenticated, false);
  t.equal(bad.error, 'invalid bearer token');
  const sent = fake.requests.filter((r) => r.path === '/apis/authentication.k8s.io/v1/tokenreviews');
  t.equal(sent.length, 2);
  t.equal(sent[0].headers.authorization, `Bearer ${FAKE_CLIENT_TOKEN}`);
  t.match(sent[0].body, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'good-token' } });
});

t.test('SubjectAccessReview: the spec is sent as given; allowed/denied/reason come back', async (t) => {
  const { fake, client } = await setup(t);
  fake.decideAccess = (spec) =>
    spec.user === 'alice' ? { allowed: true, reason: 'RBAC: allowed' } : { allowed: false, denied: true, reason: 'nope' };
  const spec = {
    user: 'alice',
    groups: ['devs', 'system:authenticated'],
    resourceAttributes: { namespace: 'ns', verb: 'get', group: 'g', version: 'v1', resource: 'r', name: 'x' },
  };
  t.same(await client.reviewAccess(spec), { allowed: true, reason: 'RBAC: allowed' });
  t.same(await client.reviewAccess({ ...spec, user: 'bob' }), { allowed: false, denied: true, reason: 'nope' });
  t.same(fake.sarSpecs()[0], spec);
});

t.test('failures reject with a ReviewError that names the call and never quotes the token', async (t) => {
  const { fake, client } = await setup(t);
  fake.failWith = 503;
  const e1 = await client.reviewToken('secret-token-123').catch((e: unknown) => e);
  t.type(e1, ReviewError);
  t.match((e1 as Error).message, /^TokenReview: HTTP 503/);
  t.notMatch((e1 as Error).message, /secret-token-123/);
  const e2 = await client.reviewAccess({ user: 'a', nonResourceAttributes: { path: '/x', verb: 'get' } }).catch((e: unknown) => e);
  t.match((e2 as Error).message, /^SubjectAccessReview: HTTP 503/);
  await fake.close();
  const e3 = await client.reviewToken('secret-token-123').catch((e: unknown) => e);
  t.type(e3, ReviewError);
  t.match((e3 as Error).message, /^TokenReview: .*ECONNREFUSED/);
  t.notMatch((e3 as Error).message, /secret-token-123/);
});
