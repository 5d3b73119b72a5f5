// Front proxy, client certificates and bearer tokens, end to end through buildServer and the fake main API.
import t, { type Test } from 'tap';
import tls from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigMapWatcher } from '../../src/cluster/authentication-configmap.js';
import { ReviewClient } from '../../src/cluster/review-client.js';
import { FakeMainApi } from '../fakes/fake-main-api.js';
import { httpsRequest } from '../helpers/https-client.js';
import { makeAuthPki, startDelegatedServer, until, type AuthPki, type Credential } from './fixtures/delegation-fixtures.js';

interface Echo {
  user: { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> };
  headers: Record<string, string>;
  rawHeaders: string[];
}

const pki: AuthPki = await makeAuthPki();
const flagOptions = {
  clientCaFile: pki.caFile,
  requestheaderClientCaFile: pki.frontProxyCaFile,
  requestheaderAllowedNames: ['front-proxy-client'],
};

const identityHeaders = {
  'X-Remote-User': 'alice',
  'X-Remote-Uid': 'uid-alice',
  'X-Remote-Group': ['devs', 'ops'],
  'X-Remote-Extra-Acme.com%2Fproject': 'apollo',
  'X-Remote-Extra-Scopes': ['read', 'write'],
};

function get(url: string, cred?: Credential, headers: Record<string, string | string[]> = {}) {
  return httpsRequest({ url, ca: pki.ca, cert: cred?.cert, key: cred?.key, headers });
}

function noIdentityHeaders(t: Test, echo: Echo) {
  t.notOk(Object.keys(echo.headers).some((h) => h.startsWith('x-remote-')), 'no X-Remote-* in req.headers');
  t.notOk(echo.rawHeaders.some((h) => h.toLowerCase().startsWith('x-remote-')), 'no X-Remote-* in rawHeaders');
}

t.test('a front-proxy user with uid, groups and extras is accepted; the headers go no further', async (t) => {
  const s = await startDelegatedServer(t, pki, flagOptions);
  const r = await get(`${s.url}/whoami`, pki.frontProxy, identityHeaders);
  t.equal(r.status, 200);
  const echo = r.json<Echo>();
  t.same(echo.user, {
    username: 'alice',
    uid: 'uid-alice',
    groups: ['devs', 'ops', 'system:authenticated'],
    extra: { 'acme.com/project': ['apollo'], scopes: ['read', 'write'] },
  });
  noIdentityHeaders(t, echo);
  t.same(s.auth.tlsClientCaPems(), [pki.ca, pki.frontProxyCa], 'TLS asks for certificates of both CAs');
});

t.test('X-Remote-* from anyone but an allowed front proxy is ignored and removed', async (t) => {
  const s = await startDelegatedServer(t, pki, flagOptions);

  const none = await get(`${s.url}/whoami`, undefined, identityHeaders);
  t.equal(none.status, 401, 'no certificate: 401');
  t.match(none.json(), { kind: 'Status', reason: 'Unauthorized', code: 401 });

  const admin = await get(`${s.url}/whoami`, pki.admin, identityHeaders);
  t.equal(admin.status, 200, 'a client-ca certificate is its own identity');
  const echo = admin.json<Echo>();
  t.same(echo.user, { username: 'admin', groups: ['system:masters', 'system:authenticated'] });
  noIdentityHeaders(t, echo);

  const other = await get(`${s.url}/whoami`, pki.otherProxy, identityHeaders);
  t.equal(other.status, 401, 'a requestheader certificate whose CN is not allowed: 401');
  t.ok(s.logs.some((l) => l.includes('x509: subject with cn=not-allowed is not in the allowed list')));

  const lowercase = await get(`${s.url}/whoami`, pki.viewer, { 'x-remote-user': 'root', 'x-REMOTE-extra-foo': 'bar' });
  t.same(lowercase.json<Echo>().user.username, 'viewer', 'header names match in any case');
  noIdentityHeaders(t, lowercase.json<Echo>());

  const noUser = await get(`${s.url}/whoami`, pki.frontProxy, { 'X-Remote-Group': 'system:masters' });
  t.equal(noUser.status, 401, 'a front proxy that names no user authenticates nobody');
});

t.test('header names are configurable', async (t) => {
  const s = await startDelegatedServer(t, pki, {
    ...flagOptions,
    requestheaderUsernameHeaders: ['X-Proxy-User', 'X-Remote-User'],
    requestheaderGroupHeaders: ['X-Proxy-Group'],
    requestheaderExtraHeadersPrefix: ['X-Proxy-Extra-'],
  });
  const r = await get(`${s.url}/whoami`, pki.frontProxy, {
    'X-Remote-User': 'second',
    'X-Proxy-User': 'first',
    'X-Proxy-Group': 'g',
    'X-Proxy-Extra-K': 'v',
  });
  t.same(r.json<Echo>().user, { username: 'first', groups: ['g', 'system:authenticated'], extra: { k: ['v'] } });
  const leaked = r.json<Echo>().headers;
  t.notOk(leaked['x-proxy-user'] || leaked['x-proxy-group'] || leaked['x-proxy-extra-k'] || leaked['x-remote-user']);
});

t.test('the ConfigMap is the source when flags are silent, and its changes apply without a restart', async (t) => {
  const fake = await FakeMainApi.start();
  t.teardown(() => fake.close());
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig());
  fake.setConfigMap({
    'client-ca-file': pki.ca,
    'requestheader-client-ca-file': pki.frontProxyCa,
    'requestheader-allowed-names': '["front-proxy-client"]',
    'requestheader-username-headers': '["X-Remote-User"]',
    'requestheader-group-headers': '["X-Remote-Group"]',
    'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
  });
  const casSeen: string[][] = [];
  const watcher = new ConfigMapWatcher(kc, { minBackoffMs: 20, maxBackoffMs: 200 });
  const s = await startDelegatedServer(t, pki, {}, { configSource: watcher, onClientCasChanged: (p) => casSeen.push(p) });
  t.equal((await get(`${s.url}/whoami`, pki.frontProxy, identityHeaders)).status, 200);
  t.equal((await get(`${s.url}/whoami`, pki.admin)).status, 200);

  // Only another CN may now assert identities.
  fake.setConfigMap({
    'client-ca-file': pki.ca,
    'requestheader-client-ca-file': pki.frontProxyCa,
    'requestheader-allowed-names': '["someone-else"]',
  });
  await until(async () => (await get(`${s.url}/whoami`, pki.frontProxy, identityHeaders)).status === 401, 'the new allowed names');

  // A new requestheader CA (rotation): its client is trusted, the old one no longer; TLS is told.
  fake.setConfigMap({
    'client-ca-file': pki.ca,
    'requestheader-client-ca-file': pki.frontProxyCa2,
    'requestheader-allowed-names': '[]',
  });
  await until(async () => (await get(`${s.url}/whoami`, pki.frontProxy2, identityHeaders)).status === 200, 'the new CA');
  t.same(casSeen.at(-1), [pki.ca, pki.frontProxyCa2]);
  t.same(s.auth.tlsClientCaPems(), [pki.ca, pki.frontProxyCa2]);
  t.equal((await get(`${s.url}/whoami`, pki.frontProxy, identityHeaders)).status, 401, 'the old front proxy is out');

  // Invalid data is refused and the last good configuration stays.
  fake.setConfigMap({ 'client-ca-file': pki.ca, 'requestheader-client-ca-file': pki.frontProxyCa2, 'requestheader-allowed-names': 'not json' });
  await until(() => s.logs.some((l) => l.includes('ignoring invalid configmap')), 'the refusal');
  t.equal((await get(`${s.url}/whoami`, pki.frontProxy2, identityHeaders)).status, 200);

  // Deleted: fail closed.
  fake.deleteConfigMap();
  await until(async () => (await get(`${s.url}/whoami`, pki.admin)).status === 401, 'the deletion');
  t.equal((await get(`${s.url}/whoami`, pki.frontProxy2, identityHeaders)).status, 401);
  t.same(s.auth.tlsClientCaPems(), []);
});

t.test('flags win over the ConfigMap; a failed lookup stops the start unless tolerated', async (t) => {
  const fake = await FakeMainApi.start();
  t.teardown(() => fake.close());
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig());
  fake.setConfigMap({ 'requestheader-client-ca-file': pki.frontProxyCa2, 'requestheader-allowed-names': '[]' });
  const s = await startDelegatedServer(t, pki, flagOptions, { configSource: new ConfigMapWatcher(kc, { minBackoffMs: 20 }) });
  t.equal((await get(`${s.url}/whoami`, pki.frontProxy, identityHeaders)).status, 200, 'the flag CA');
  t.equal((await get(`${s.url}/whoami`, pki.frontProxy2, identityHeaders)).status, 401, 'not the ConfigMap CA');

  const denied = new KubeConfig();
  denied.loadFromString(fake.kubeconfig().replace('fake-main-api-client-token', 'wrong'));
  const { createAuthentication } = await import('../../src/server/authentication-config.js');
  await t.rejects(
    createAuthentication({}, { configSource: new ConfigMapWatcher(denied, { minBackoffMs: 20 }) }),
    /unable to load configmap based request-header-client-ca-file: reading configmap kube-system\/extension-apiserver-authentication: HTTP 401/,
  );
  const tolerated = await createAuthentication(
    { tolerateLookupFailure: true, clientCaFile: pki.caFile },
    { configSource: new ConfigMapWatcher(denied, { minBackoffMs: 20 }) },
  );
  t.same(tolerated.tlsClientCaPems(), [pki.ca]);
  await tolerated.close();
});

t.test('a tolerated lookup failure starts on the flags and picks the ConfigMap up once it can be read', async (t) => {
  const fake = await FakeMainApi.start();
  t.teardown(() => fake.close());
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig());
  fake.setConfigMap({ 'requestheader-client-ca-file': pki.frontProxyCa, 'requestheader-allowed-names': '["front-proxy-client"]' });
  fake.failConfigMapReads = 3;
  const s = await startDelegatedServer(
    t,
    pki,
    { clientCaFile: pki.caFile, tolerateLookupFailure: true },
    { configSource: new ConfigMapWatcher(kc, { minBackoffMs: 20, maxBackoffMs: 100 }) },
  );
  t.ok(s.logs.some((l) => l.includes('starting with the flags only') && l.includes('HTTP 500')), 'the failed lookup is logged');
  await until(() => s.auth.requestHeaderConfig() !== undefined, 'the ConfigMap after the failures');
  t.equal((await get(`${s.url}/whoami`, pki.frontProxy, identityHeaders)).status, 200);
  t.equal((await get(`${s.url}/whoami`, pki.admin)).status, 200, 'the flag client CA stays');
  t.equal(fake.failConfigMapReads, 0);
});

t.test('bearer tokens: accepted, denied and cached through TokenReview; never logged', async (t) => {
  const fake = await FakeMainApi.start();
  t.teardown(() => fake.close());
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig());
  fake.tokens.set('tok-good-4f1a', { username: 'bob', uid: 'uid-bob', groups: ['team'], extra: { 'authentication.kubernetes.io/pod-name': ['p'] } });
  const clock = { ms: 1_000_000 };
  const s = await startDelegatedServer(
    t,
    pki,
    { ...flagOptions, tokenWebhookCacheTtlSeconds: 10 },
    { tokenReviewer: new ReviewClient(kc, { timeoutMs: 2000 }), now: () => clock.ms },
  );
  const reviews = () => fake.count('/apis/authentication.k8s.io/v1/tokenreviews');
  const bearer = (tok: string) => ({ Authorization: `Bearer ${tok}` });

  const ok = await get(`${s.url}/whoami`, undefined, { ...bearer('tok-good-4f1a'), 'X-Remote-User': 'mallory' });
  t.equal(ok.status, 200);
  const echo = ok.json<Echo>();
  t.same(echo.user, {
    username: 'bob',
    uid: 'uid-bob',
    groups: ['team', 'system:authenticated'],
    extra: { 'authentication.kubernetes.io/pod-name': ['p'] },
  });
  t.equal(echo.headers.authorization, undefined, 'the Authorization header goes no further');
  noIdentityHeaders(t, echo);
  for (let i = 0; i < 3; i++) t.equal((await get(`${s.url}/whoami`, undefined, bearer('tok-good-4f1a'))).status, 200);
  t.equal(reviews(), 1, 'one TokenReview for four requests within the TTL');

  for (let i = 0; i < 2; i++) t.equal((await get(`${s.url}/whoami`, undefined, bearer('tok-bad-77c2'))).status, 401);
  t.equal(reviews(), 2, 'a rejected token is cached too');

  clock.ms += 9_990;
  t.equal((await get(`${s.url}/whoami`, undefined, bearer('tok-good-4f1a'))).status, 200);
  t.equal(reviews(), 2, 'still cached just before the TTL');
  clock.ms += 20;
  t.equal((await get(`${s.url}/whoami`, undefined, bearer('tok-good-4f1a'))).status, 200);
  t.equal(reviews(), 3, 'asked again once the TTL passed');

  const sent = fake.requests.find((r) => r.path === '/apis/authentication.k8s.io/v1/tokenreviews')!;
  t.match(sent.body, { spec: { token: 'tok-good-4f1a' } });

  t.equal((await get(`${s.url}/whoami`, pki.admin, bearer('tok-never-seen'))).json<Echo>().user.username, 'admin', 'certificates come first');
  t.equal(reviews(), 3, 'no review when a certificate already said who it is');

  fake.failWith = 500;
  const down = await get(`${s.url}/whoami`, undefined, bearer('tok-secret-9d0e'));
  t.equal(down.status, 401, 'a TokenReview that fails authenticates nobody');
  t.ok(s.logs.some((l) => l.includes('token review failed') && l.includes('TokenReview: HTTP 500')), 'the failure is logged');

  const lower = await get(`${s.url}/whoami`, undefined, { authorization: 'bearer tok-good-4f1a' });
  t.equal(lower.status, 200, '"bearer" in any case');

  t.ok(s.logs.length > 5);
  for (const tok of ['tok-good-4f1a', 'tok-bad-77c2', 'tok-secret-9d0e', 'tok-never-seen']) {
    t.notOk(s.logs.some((l) => l.includes(tok)), `no log line contains ${tok}`);
  }
});

t.test('TLS 1.0 and 1.1 are refused by the server', async (t) => {
  const s = await startDelegatedServer(t, pki, flagOptions);
  const port = Number(new URL(s.url).port);
  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const sock = tls.connect({
        host: '127.0.0.1',
        port,
        ca: pki.ca,
        minVersion: version,
        maxVersion: version,
        // OpenSSL 3 disables TLS < 1.2 at its default security level; lower it so only the server can refuse.
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      sock.on('secureConnect', () => {
        sock.destroy();
        resolve(undefined);
      });
      sock.on('error', (e) => resolve(e));
    });
    t.ok(err, `${version} fails`);
    t.equal(err?.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', `${version}: the server answered with a protocol_version alert`);
  }
  // Control: the same client does speak TLS 1.1 to a server that allows it, so the refusal above is the server's.
  const old = tls.createServer({ cert: pki.serving.cert, key: pki.serving.key, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (c) => c.end());
  await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
  t.teardown(() => old.close());
  const negotiated = await new Promise<string | null>((resolve, reject) => {
    const sock = tls.connect({
      host: '127.0.0.1',
      port: (old.address() as import('node:net').AddressInfo).port,
      ca: pki.ca,
      minVersion: 'TLSv1.1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    sock.on('secureConnect', () => {
      resolve(sock.getProtocol());
      sock.destroy();
    });
    sock.on('error', reject);
  });
  t.equal(negotiated, 'TLSv1.1');
  const ok = await httpsRequest({ url: `${s.url}/healthz`, ca: pki.ca, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  t.equal(ok.status, 200, 'TLS 1.2 works');
});
