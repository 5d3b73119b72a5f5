// The max-in-flight hook on a bare fastify app: past the limit a request gets 429 TooManyRequests with Retry-After: 1;
// read-only and mutating requests count apart; watches, health probes and system:masters are never refused.
import Fastify from 'fastify';
import t from 'tap';
import { toStatusError } from '../../src/apimachinery/status-response.js';
import { maxInFlightFlags, maxInFlightHook, TOO_MANY_REQUESTS_MESSAGE } from '../../src/server/max-in-flight.js';

async function makeApp(limits: { maxRequestsInflight: number; maxMutatingRequestsInflight: number }) {
  const app = Fastify();
  const gates: (() => void)[] = [];
  const limiter = maxInFlightHook(limits);
  // Stands in for authentication: the caller names its groups.
  app.addHook('onRequest', async (req) => {
    req.user = { username: 'u', groups: String(req.headers['x-test-groups'] ?? '').split(',').filter(Boolean) };
  });
  app.addHook('onRequest', limiter.hook);
  app.setErrorHandler((err, _req, reply) => {
    const status = toStatusError(err);
    if (status.details?.retryAfterSeconds) reply.header('retry-after', String(status.details.retryAfterSeconds));
    reply.code(status.code).send(status.toStatus());
  });
  const slow = async () => {
    await new Promise<void>((resolve) => gates.push(resolve));
    return { ok: true };
  };
  app.get('/apis/g/v1/namespaces/default/things', slow);
  app.post('/apis/g/v1/namespaces/default/things', slow);
  app.get('/readyz', slow);
  app.get('/fast', async () => ({ ok: true }));
  await app.ready();
  return { app, gates, limiter };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

t.test('read-only requests over the limit get 429 with Retry-After; mutating ones count apart', async (t) => {
  const { app, gates, limiter } = await makeApp({ maxRequestsInflight: 2, maxMutatingRequestsInflight: 1 });
  t.teardown(() => app.close());
  const list = '/apis/g/v1/namespaces/default/things';
  const held = [app.inject({ url: list }), app.inject({ url: list })];
  await tick();
  t.same(limiter.counts(), { readOnly: 2, mutating: 0 });

  const refused = await app.inject({ url: list });
  t.equal(refused.statusCode, 429);
  t.equal(refused.headers['retry-after'], '1');
  t.match(refused.json(), { kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429, message: TOO_MANY_REQUESTS_MESSAGE });

  const nonResource = await app.inject({ url: '/fast' });
  t.equal(nonResource.statusCode, 429, 'non-resource reads count too');

  const post = app.inject({ method: 'POST', url: list, payload: {} });
  await tick();
  t.same(limiter.counts(), { readOnly: 2, mutating: 1 }, 'a mutating request takes the other bucket');
  const post2 = await app.inject({ method: 'POST', url: list, payload: {} });
  t.equal(post2.statusCode, 429, 'the mutating bucket has its own limit');

  const watch = app.inject({ url: `${list}?watch=true` });
  const probe = app.inject({ url: '/readyz' });
  const master = app.inject({ url: list, headers: { 'x-test-groups': 'system:masters' } });
  await tick();
  t.same(limiter.counts(), { readOnly: 2, mutating: 1 }, 'watches, probes and system:masters at the limit are not counted');

  while (gates.length) gates.shift()!();
  const done = await Promise.all([...held, post, watch, probe, master]);
  t.same(done.map((r) => r.statusCode), [200, 200, 200, 200, 200, 200], 'everything admitted completes');
  t.same(limiter.counts(), { readOnly: 0, mutating: 0 }, 'slots are released');
  t.equal((await app.inject({ url: '/fast' })).statusCode, 200, 'served again once below the limit');
});

t.test('0 means no limit', async (t) => {
  const { app, gates, limiter } = await makeApp({ maxRequestsInflight: 0, maxMutatingRequestsInflight: 0 });
  t.teardown(() => app.close());
  const many = Array.from({ length: 20 }, () => app.inject({ url: '/apis/g/v1/namespaces/default/things' }));
  await tick();
  t.equal(limiter.counts().readOnly, 20, 'all admitted');
  while (gates.length) gates.shift()!();
  t.same((await Promise.all(many)).map((r) => r.statusCode), Array(20).fill(200));
  t.same(limiter.counts(), { readOnly: 0, mutating: 0 });
});

t.test('flags are named and defaulted as kube-apiserver names them', async (t) => {
  t.same(
    maxInFlightFlags.map((f) => [f.name, f.key, f.default]),
    [
      ['max-requests-inflight', 'maxRequestsInflight', 400],
      ['max-mutating-requests-inflight', 'maxMutatingRequestsInflight', 200],
    ],
  );
  t.equal(maxInFlightFlags[0].check?.(-1), 'must not be negative');
  t.equal(maxInFlightFlags[0].check?.(0), undefined);
});
