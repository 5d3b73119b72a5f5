// The pure parts of delegated authentication/authorization, with tables of cases.
import t from 'tap';
import { parseRequestInfo } from '../../src/apimachinery/request-info.js';
import { parseFlags } from '../../src/config.js';
import { pathAlwaysAllowed, withAlwaysAllow } from '../../src/server/always-allow-authorizer.js';
import { withAuthenticatedGroup } from '../../src/server/authenticator-chain.js';
import {
  authenticationOptionsFromFlags,
  authorizationOptionsFromFlags,
  delegationFlags,
  splitList,
  type DelegationFlagValues,
} from '../../src/server/delegation-flags.js';
import { DEFAULT_REQUEST_HEADER_NAMES, stripAuthenticationHeaders, userFromHeaders } from '../../src/server/requestheader-authenticator.js';
import { accessReviewSpec } from '../../src/server/sar-authorizer.js';
import { TokenReviewAuthenticator, bearerToken, tokenKey } from '../../src/server/token-authenticator.js';

t.test('userFromHeaders: first username, all groups, extras lowercased and unescaped', async (t) => {
  const raw = [
    'X-Remote-User', '', // empty values are skipped
    'x-remote-user', 'alice',
    'X-Remote-User', 'mallory',
    'X-Remote-Group', 'a',
    'X-Remote-Group', 'b, c', // one value, commas and all (Go does not split)
    'X-Remote-Extra-Acme.COM%2Fteam', 'x',
    'X-Remote-Extra-acme.com%2Fteam', 'y',
    'X-Remote-Extra-Bad%zzKey', 'z',
    'Host', 'h',
  ];
  t.same(userFromHeaders(raw, DEFAULT_REQUEST_HEADER_NAMES), {
    username: 'alice',
    groups: ['a', 'b, c'],
    extra: { 'acme.com/team': ['x', 'y'], 'bad%zzkey': ['z'] },
  });
  t.equal(userFromHeaders(['X-Remote-Group', 'a'], DEFAULT_REQUEST_HEADER_NAMES), undefined, 'no user, no identity');
});

t.test('stripAuthenticationHeaders removes every configured and default identity header, nothing else', async (t) => {
  const req = {
    headers: { 'x-remote-user': 'a', 'x-remote-group': 'g', 'x-remote-extra-k': 'v', 'x-proxy-user': 'p', accept: 'json' } as Record<string, string>,
    rawHeaders: ['X-Remote-User', 'a', 'X-Remote-Group', 'g', 'X-Remote-Extra-K', 'v', 'X-Proxy-User', 'p', 'Accept', 'json'],
  };
  stripAuthenticationHeaders(req, [{ ...DEFAULT_REQUEST_HEADER_NAMES, usernameHeaders: ['X-Proxy-User'] }, DEFAULT_REQUEST_HEADER_NAMES]);
  t.same(req.headers, { accept: 'json' });
  t.same(req.rawHeaders, ['Accept', 'json']);
});

t.test('stripIdentityHeaders (for paths that skip authentication) uses the configured names', async (t) => {
  const { createAuthentication } = await import('../../src/server/authentication-config.js');
  const auth = await createAuthentication({});
  const req = { headers: { 'x-remote-user': 'a', accept: 'json' } as Record<string, string>, rawHeaders: ['X-Remote-User', 'a', 'Accept', 'json'] };
  auth.stripIdentityHeaders(req);
  t.same(req.headers, { accept: 'json' });
  t.same(req.rawHeaders, ['Accept', 'json']);
  t.same(auth.tlsClientCaPems(), [], 'no CA configured, none asked for');
  await auth.close();
});

t.test('bearerToken and token keys', async (t) => {
  t.equal(bearerToken('Bearer abc'), 'abc');
  t.equal(bearerToken('bearer abc'), 'abc');
  t.equal(bearerToken('  Bearer abc  '), 'abc');
  t.equal(bearerToken('Basic abc'), undefined);
  t.equal(bearerToken('Bearer '), undefined);
  t.equal(bearerToken(undefined), undefined);
  t.equal(tokenKey('abc').length, 64);
  t.notMatch(tokenKey('abc'), /abc/);
});

t.test('TokenReviewAuthenticator: TTL with a fake clock, one review for concurrent requests, errors redacted', async (t) => {
  let now = 1000;
  let calls = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const reviewer = {
    async reviewToken(token: string) {
      calls++;
      await gate;
      if (token === 'boom') throw new Error(`cannot review boom at https://x`);
      return token === 'good' ? { authenticated: true, user: { username: 'u', groups: ['g'] } } : { authenticated: false };
    },
  };
  const a = new TokenReviewAuthenticator(reviewer, { cacheTtlMs: 100, now: () => now });
  const both = Promise.all([a.authenticateToken('good'), a.authenticateToken('good')]);
  release();
  t.same(await both, [{ username: 'u', groups: ['g'] }, { username: 'u', groups: ['g'] }]);
  t.equal(calls, 1);
  now += 99;
  await a.authenticateToken('good');
  t.equal(calls, 1, 'still cached');
  now += 2;
  await a.authenticateToken('good');
  t.equal(calls, 2, 'expired');
  t.equal(await a.authenticateToken('bad'), undefined);
  await t.rejects(a.authenticateToken('boom'), { message: 'token review failed: cannot review <redacted> at https://x' });
  await t.rejects(a.authenticateToken('boom'), /token review failed/);
  t.equal(calls, 5, 'failures to ask are not cached');
});

t.test('accessReviewSpec leaves empty fields out', async (t) => {
  t.same(accessReviewSpec({ username: 'u', groups: [] }, parseRequestInfo('GET', '/api/v1/namespaces')), {
    user: 'u',
    resourceAttributes: { verb: 'list', version: 'v1', resource: 'namespaces' },
  });
  t.same(accessReviewSpec({ username: 'u', uid: '1', groups: ['g'], extra: {} }, parseRequestInfo('HEAD', '/healthz/ping')), {
    user: 'u',
    uid: '1',
    groups: ['g'],
    nonResourceAttributes: { path: '/healthz/ping', verb: 'head' },
  });
});

t.test('always-allow: groups, exact paths and prefixes, never resources', async (t) => {
  t.ok(pathAlwaysAllowed(['/healthz'], '/healthz'));
  t.notOk(pathAlwaysAllowed(['/healthz'], '/healthz/ping'));
  t.ok(pathAlwaysAllowed(['/healthz/*'], '/healthz/ping'));
  t.ok(pathAlwaysAllowed(['healthz'], '/healthz'), 'leading slash optional, as upstream');
  let asked = 0;
  const a = withAlwaysAllow({ authorize: () => (asked++, { allowed: false }) }, { paths: ['/apis/*'] });
  t.same(a.authorize({ username: 'x', groups: ['system:masters'] }, parseRequestInfo('DELETE', '/apis/g/v1/rs/x')), { allowed: true });
  t.same(a.authorize({ username: 'x', groups: [] }, parseRequestInfo('GET', '/apis/g')), { allowed: true });
  t.same(a.authorize({ username: 'x', groups: [] }, parseRequestInfo('GET', '/apis/g/v1/rs')), { allowed: false }, 'a resource is never a path');
  t.equal(asked, 1);
});

t.test('system:authenticated is added once, and never to system:anonymous', async (t) => {
  t.same(withAuthenticatedGroup({ username: 'a', groups: ['x'] }).groups, ['x', 'system:authenticated']);
  t.same(withAuthenticatedGroup({ username: 'a', groups: ['system:authenticated'] }).groups, ['system:authenticated']);
  t.same(withAuthenticatedGroup({ username: 'system:anonymous', groups: ['system:unauthenticated'] }).groups, ['system:unauthenticated']);
});

t.test('flags: kube-apiserver names and defaults, comma lists, standalone defaults', async (t) => {
  const defaults = parseFlags<DelegationFlagValues>(delegationFlags, []);
  t.same(authenticationOptionsFromFlags(defaults), {
    clientCaFile: undefined,
    requestheaderClientCaFile: undefined,
    requestheaderAllowedNames: [],
    requestheaderUsernameHeaders: ['X-Remote-User'],
    requestheaderUidHeaders: ['X-Remote-Uid'],
    requestheaderGroupHeaders: ['X-Remote-Group'],
    requestheaderExtraHeadersPrefix: ['X-Remote-Extra-'],
    tokenWebhookCacheTtlSeconds: 10,
    tolerateLookupFailure: false,
  });
  t.same(authorizationOptionsFromFlags(defaults), {
    alwaysAllowPaths: ['/healthz', '/readyz', '/livez'],
    authorizedTtlSeconds: 10,
    unauthorizedTtlSeconds: 10,
    policyFile: undefined,
  });
  const standalone = authenticationOptionsFromFlags(defaults, { frontProxyCaFile: '/certs/front-proxy-ca.crt' });
  t.equal(standalone.requestheaderClientCaFile, '/certs/front-proxy-ca.crt');
  t.same(standalone.requestheaderAllowedNames, ['front-proxy-client']);
  const given = parseFlags<DelegationFlagValues>(delegationFlags, [
    '--requestheader-client-ca-file=/x/ca.crt',
    '--requestheader-allowed-names', 'aggregator, other',
    '--authentication-token-webhook-cache-ttl=1m',
    '--authorization-webhook-cache-unauthorized-ttl=500ms',
    '--authorization-always-allow-paths=/healthz,/metrics',
    '--authentication-skip-lookup',
  ]);
  const o = authenticationOptionsFromFlags(given, { frontProxyCaFile: '/certs/front-proxy-ca.crt' });
  t.equal(o.requestheaderClientCaFile, '/x/ca.crt', 'flags win over the standalone defaults');
  t.same(o.requestheaderAllowedNames, ['aggregator', 'other']);
  t.equal(o.tokenWebhookCacheTtlSeconds, 60);
  t.equal(given.authenticationSkipLookup, true);
  t.same(authorizationOptionsFromFlags(given).alwaysAllowPaths, ['/healthz', '/metrics']);
  t.equal(authorizationOptionsFromFlags(given).unauthorizedTtlSeconds, 0.5);
  t.same(splitList(' a,,b ,'), ['a', 'b']);
  for (const f of delegationFlags) t.ok(f.help.length > 20, `--${f.name} is documented`);
});
