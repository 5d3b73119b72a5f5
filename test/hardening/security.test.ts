// Who gets in, over what: TLS versions and ciphers, front-proxy header spoofing, the standalone authorization policy
// as a matrix of verbs × identities, nothing secret in the logs, request size limits and slow clients.
import tls from 'node:tls';
import t from 'tap';
import { startServer, type TestServer } from '../helpers/test-server.js';
import { GROUP, loadCredentials, makeClient, SNAPSHOTS, snapshotBody, type Client, type Credentials, type Identity } from './harness.js';

function handshake(server: TestServer, creds: Credentials, opts: tls.ConnectionOptions): Promise<{ ok: boolean; protocol?: string | null; cipher?: string; error?: string }> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: server.port, ca: creds.ca, servername: 'localhost', rejectUnauthorized: false, ...opts });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ ok: false, error: 'timeout' });
    }, 10_000);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const r = { ok: true, protocol: sock.getProtocol(), cipher: sock.getCipher().name };
      sock.end();
      resolve(r);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `${e.code ?? ''} ${e.message}` });
    });
  });
}

/** Writes raw bytes over TLS and resolves the status line of the answer ('' if the server closed without one). */
function rawExchange(server: TestServer, creds: Credentials, text: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: server.port, ca: creds.ca, servername: 'localhost', rejectUnauthorized: false, cert: creds.certs.admin.cert, key: creds.certs.admin.key });
    let got = '';
    sock.on('secureConnect', () => sock.write(text));
    sock.on('data', (d: Buffer) => (got += d.toString()));
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(got.split('\r\n')[0]));
    setTimeout(() => sock.destroy(), 10_000);
  });
}

/** Opens a request and then sends one header byte a second; resolves how long until the server hung up. */
function slowClient(server: TestServer, creds: Credentials, budgetMs: number): Promise<{ seconds: number; cut: boolean; answer: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let answer = '';
    let drip: NodeJS.Timeout | undefined;
    const sock = tls.connect({ host: '127.0.0.1', port: server.port, ca: creds.ca, servername: 'localhost', rejectUnauthorized: false }, () => {
      sock.write(`GET /readyz HTTP/1.1\r\nHost: localhost\r\nX-Slow: `);
      drip = setInterval(() => sock.write('a'), 1000);
    });
    const budget = setTimeout(() => {
      clearInterval(drip);
      sock.destroy();
      resolve({ seconds: (Date.now() - started) / 1000, cut: false, answer });
    }, budgetMs);
    sock.on('data', (d: Buffer) => (answer += d.toString()));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearInterval(drip);
      clearTimeout(budget);
      resolve({ seconds: (Date.now() - started) / 1000, cut: true, answer: answer.split('\r\n')[0] });
    });
  });
}

interface Caller {
  label: string;
  as: Identity;
  headers?: Record<string, string | string[]>;
  /** What the default policy lets it do: everything, reads only, nothing, or not even authenticate. */
  expect: 'all' | 'read' | 'none' | 'unauthenticated';
  username?: string;
}

const CALLERS: Caller[] = [
  { label: 'admin (system:masters)', as: 'admin', expect: 'all' },
  { label: 'viewer (volumesnapshot:viewers)', as: 'viewer', expect: 'read', username: 'viewer' },
  { label: 'anonymous', as: 'anonymous', expect: 'unauthenticated' },
  { label: 'front-proxy alice in system:masters', as: 'front-proxy-client', headers: { 'x-remote-user': 'alice', 'x-remote-group': 'system:masters' }, expect: 'all' },
  { label: 'front-proxy bob in volumesnapshot:viewers', as: 'front-proxy-client', headers: { 'x-remote-user': 'bob', 'x-remote-group': ['team-b', 'volumesnapshot:viewers'] }, expect: 'read', username: 'bob' },
  { label: 'front-proxy carol in no group', as: 'front-proxy-client', headers: { 'x-remote-user': 'carol' }, expect: 'none', username: 'carol' },
  { label: 'front-proxy cert without X-Remote-User', as: 'front-proxy-client', expect: 'unauthenticated' },
  // Spoofing: identity headers from anyone but the front proxy are ignored.
  { label: 'viewer claiming system:masters by header', as: 'viewer', headers: { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' }, expect: 'read', username: 'viewer' },
  { label: 'anonymous claiming system:masters by header', as: 'anonymous', headers: { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' }, expect: 'unauthenticated' },
];

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'get status', 'update status', 'get /metrics'] as const;
type Verb = (typeof VERBS)[number];
const READ_VERBS = new Set<Verb>(['get', 'list', 'watch', 'get status', 'get /metrics']);

async function call(client: Client, caller: Caller, verb: Verb, name: string, current: Record<string, unknown>) {
  const base = { as: caller.as, headers: { ...caller.headers } as Record<string, string | string[]> };
  const body = (b: unknown) => ({ ...base, headers: { ...base.headers, 'content-type': 'application/json' }, body: JSON.stringify(b) });
  switch (verb) {
    case 'get':
      return client.request({ ...base, path: `${SNAPSHOTS}/${name}` });
    case 'list':
      return client.request({ ...base, path: SNAPSHOTS });
    case 'watch':
      return client.request({ ...base, path: `${SNAPSHOTS}?watch=true&timeoutSeconds=1` });
    case 'create':
      return client.request({ ...body(snapshotBody(`${name}-new`, { metadata: { labels: { matrix: name } } })), method: 'POST', path: SNAPSHOTS });
    case 'update':
      return client.request({ ...body(current), method: 'PUT', path: `${SNAPSHOTS}/${name}` });
    case 'patch':
      return client.request({
        ...base,
        headers: { ...base.headers, 'content-type': 'application/merge-patch+json' },
        body: '{"metadata":{"labels":{"patched":"yes"}}}',
        method: 'PATCH',
        path: `${SNAPSHOTS}/${name}`,
      });
    case 'delete':
      return client.request({ ...base, method: 'DELETE', path: `${SNAPSHOTS}/${name}-new` });
    case 'deletecollection':
      return client.request({ ...base, method: 'DELETE', path: `${SNAPSHOTS}?labelSelector=matrix%3D${name}-nothing` });
    case 'get status':
      return client.request({ ...base, path: `${SNAPSHOTS}/${name}/status` });
    case 'update status':
      return client.request({ ...body(current), method: 'PUT', path: `${SNAPSHOTS}/${name}/status` });
    case 'get /metrics':
      return client.request({ ...base, path: '/metrics' });
  }
}

t.test('security', async (t) => {
  const server = await startServer({ args: ['--worker=false'] });
  t.teardown(() => server.stop());
  const creds = await loadCredentials(server.certDir);
  const client = makeClient(server, creds);
  // Runs beside the other subtests: a client that never finishes its headers.
  const slow = slowClient(server, creds, 36_000);

  t.test('TLS 1.0 and 1.1 are refused; 1.2 and 1.3 are served', async (t) => {
    // SECLEVEL=0 lets this client offer the old protocols, so a failure is the server's refusal.
    for (const v of ['TLSv1', 'TLSv1.1'] as const) {
      const r = await handshake(server, creds, { minVersion: v, maxVersion: v, ciphers: 'DEFAULT:@SECLEVEL=0' });
      t.notOk(r.ok, `${v} refused (${r.error})`);
    }
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
      const r = await handshake(server, creds, { minVersion: v, maxVersion: v });
      t.ok(r.ok, `${v} served (${r.error ?? r.cipher})`);
      t.equal(r.protocol, v);
      t.match(r.cipher ?? '', /GCM|CHACHA20/, `${v} negotiates an AEAD cipher by default: ${r.cipher}`);
    }
    const ok = await client.request({ path: '/readyz', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    t.equal(ok.status, 200, 'an HTTPS request over TLS 1.2 works');
  });

  t.test('weak ciphers are refused', async (t) => {
    for (const cipher of ['DES-CBC3-SHA', 'RC4-SHA', 'RC4-MD5', 'NULL-SHA', 'NULL-SHA256', 'EXP-RC4-MD5', 'ADH-AES128-SHA', 'AES128-SHA']) {
      let r: Awaited<ReturnType<typeof handshake>>;
      try {
        r = await handshake(server, creds, { maxVersion: 'TLSv1.2', ciphers: `${cipher}:@SECLEVEL=0` });
      } catch (err) {
        // This OpenSSL build cannot offer it at all, and the server runs on the same build: nobody can negotiate it.
        r = { ok: false, error: `not in this OpenSSL build: ${(err as Error).message}` };
      }
      t.notOk(r.ok, `${cipher}: no handshake (${r.ok ? r.cipher : r.error})`);
    }
  });

  t.test('authorization matrix: every verb × identity matches the policy', async (t) => {
    let n = 0;
    const mismatches: string[] = [];
    for (const caller of CALLERS) {
      const name = `matrix-${n++}`;
      const created = await client.json<Record<string, unknown>>('POST', SNAPSHOTS, snapshotBody(name));
      t.equal(created.status, 201, `fixture ${name}`);
      let current = created.body;
      // The admin makes the object that "delete" aims at, so a refused create does not decide the delete row.
      t.equal((await client.json('POST', SNAPSHOTS, snapshotBody(`${name}-new`))).status, 201);
      for (const verb of VERBS) {
        // "create" conflicts with the admin's object; a caller allowed to create gets 409, which proves it got past authz.
        const res = await call(client, caller, verb, name, current);
        const allowed = caller.expect === 'all' || (caller.expect === 'read' && READ_VERBS.has(verb));
        const want = caller.expect === 'unauthenticated' ? '401' : allowed ? 'allowed' : '403';
        const got = res.status === 401 ? '401' : res.status === 403 ? '403' : res.status < 300 || res.status === 409 ? 'allowed' : `other ${res.status}`;
        if (got !== want) mismatches.push(`${caller.label} ${verb}: got ${res.status}, want ${want}: ${res.body.slice(0, 200)}`);
        if (want === '403' && got === '403' && verb === 'delete' && caller.username) {
          t.equal(
            JSON.parse(res.body).message,
            `volumesnapshots.${GROUP} "${name}-new" is forbidden: User "${caller.username}" cannot delete resource "volumesnapshots" in API group "${GROUP}" in the namespace "default"`,
            `${caller.label}: the 403 names the user`,
          );
        }
        if (want === '401' && got === '401') t.match(JSON.parse(res.body), { kind: 'Status', reason: 'Unauthorized', code: 401 });
        if (res.status === 200 && (verb === 'update' || verb === 'patch')) current = JSON.parse(res.body);
      }
    }
    t.same(mismatches, [], `${CALLERS.length} identities × ${VERBS.length} verbs as the policy says`);
  });

  t.test('no token or key material in any log line', async (t) => {
    const token = 'sekr1t-tok-0123456789abcdef';
    const r = await client.request({ path: SNAPSHOTS, as: 'anonymous', headers: { authorization: `Bearer ${token}` } });
    t.equal(r.status, 401, 'an unknown bearer token is not accepted standalone');
    await client.request({ path: `${SNAPSHOTS}?token=${token}`, as: 'viewer', headers: { authorization: `Bearer ${token}`, 'x-remote-extra-token': token } });
    await client.request({ path: SNAPSHOTS, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(snapshotBody('logged', { metadata: { annotations: { secret: token } } })) });
    const keyLine = creds.certs.admin.key!.toString().split('\n')[1];
    const lines = [...server.logs, ...server.stderr];
    t.same(lines.filter((l) => /Bearer/i.test(l)), [], 'no "Bearer"');
    t.same(lines.filter((l) => /BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)/.test(l)), [], 'no PEM');
    t.same(lines.filter((l) => l.includes(keyLine)), [], 'no line of a private key');
    t.same(lines.filter((l) => l.replace(/token=sekr1t[^"& ]*/g, '').includes(token)), [], 'the token appears nowhere but in the URL the client itself put it in');
    t.ok(server.logs.length > 10, `${server.logs.length} log lines scanned`);
  });

  t.test('header and body limits: an error, never a crash', async (t) => {
    const head = (extra: string) => `GET ${SNAPSHOTS} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`;
    const big = await rawExchange(server, creds, head(`X-Big: ${'a'.repeat(100 * 1024)}\r\n`));
    t.match(big, /^HTTP\/1\.1 (431|400) /, `a 100 KB header → ${big}`);
    let many = '';
    for (let i = 0; i < 4000; i++) many += `X-H${i}: v\r\n`;
    const lots = await rawExchange(server, creds, head(many));
    t.match(lots, /^HTTP\/1\.1 (431|400) /, `4000 headers → ${lots}`);
    const fine = await rawExchange(server, creds, head(''));
    t.match(fine, /^HTTP\/1\.1 200 /, 'the same request with ordinary headers → 200');
    const body = await client.request({
      path: SNAPSHOTS,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(4 * 1024 * 1024, 0x20),
    });
    t.equal(body.status, 413, 'a 4 MiB body → 413');
    t.match(JSON.parse(body.body), { reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' });
    t.equal((await client.request({ path: '/readyz' })).status, 200, 'still ready');
    t.equal(server.proc.exitCode, null, 'still running');
  });

  t.test('a client sending its headers byte by byte is cut off', async (t) => {
    t.equal((await client.request({ path: '/readyz' })).status, 200, 'others are served meanwhile');
    const r = await slow;
    t.comment(`slow client: ${r.cut ? `cut after ${r.seconds.toFixed(1)} s (${r.answer || 'no answer'})` : `still connected after ${r.seconds.toFixed(1)} s`}`);
    // kube-apiserver: ReadHeaderTimeout 32 s (k8s.io/apiserver/pkg/server/secure_serving.go).
    t.ok(r.cut && r.seconds < 36, 'cut off within 36 s');
  });
});
