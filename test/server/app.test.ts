import t, { type Test } from 'tap';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { buildServer, certificateAuthenticator } from '../../src/server/app.js';
import { HealthChecks } from '../../src/server/health.js';
import { ensurePki } from '../../src/server/pki.js';
import { X509Authenticator, parsePemBundle } from '../../src/server/x509-authenticator.js';
import { httpsRequest } from '../helpers/https-client.js';

async function setup(t: Test, health = new HealthChecks()) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'app-'));
  const { files } = await ensurePki({ certDir: dir, serviceName: 's', serviceNamespace: 'n' });
  const read = (f: string) => fs.readFile(f, 'utf8');
  const ca = await read(files.caCert);
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const app = await buildServer({
    tls: { cert: await read(files.servingCert), key: await read(files.servingKey), clientCaPems: [ca], minVersion: 'TLSv1.2' },
    authenticator: certificateAuthenticator(new X509Authenticator(parsePemBundle(ca))),
    health,
    logLevel: 'silent',
    mount: async (app) => {
      app.get('/whoami', async (req) => req.user);
      app.get('/slow', async () => {
        await gate;
        return { done: true };
      });
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const admin = { ca, cert: await read(files.adminCert), key: await read(files.adminKey) };
  return { app, url, ca, admin, release, files };
}

t.test('client certificates authenticate; no or foreign certificates get a 401 Status', async (t) => {
  const { url, ca, admin } = await setup(t);
  const me = await httpsRequest({ url: `${url}/whoami`, ...admin });
  t.equal(me.status, 200);
  t.same(me.json(), { username: 'admin', groups: ['system:masters', 'system:authenticated'] });

  const none = await httpsRequest({ url: `${url}/whoami`, ca });
  t.equal(none.status, 401);
  t.match(none.json(), { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });

  const foreignCa = await generate([{ name: 'commonName', value: 'evil-ca' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true }],
  });
  const forged = await generate(
    [
      { name: 'commonName', value: 'admin' },
      { name: 'organizationName', value: 'system:masters' },
    ],
    { keyType: 'ec', algorithm: 'sha256', ca: { key: foreignCa.private, cert: foreignCa.cert }, extensions: [{ name: 'extKeyUsage', clientAuth: true }] },
  );
  const evil = await httpsRequest({ url: `${url}/whoami`, ca, cert: forged.cert, key: forged.private });
  t.equal(evil.status, 401, 'a certificate from a foreign CA is not trusted, whatever its subject');
});

t.test('health and version answer without credentials', async (t) => {
  const { url, ca } = await setup(t);
  for (const p of ['/healthz', '/livez', '/readyz']) {
    const r = await httpsRequest({ url: url + p, ca });
    t.equal(r.status, 200, p);
    t.equal(r.body, 'ok');
  }
  const v = await httpsRequest({ url: `${url}/version`, ca });
  t.match(v.json(), { major: '1', minor: '35', gitVersion: /^v1\.35\.0\+volumesnapshot-apiserver\./ });
});

t.test('/readyz fails until every readiness check passes, and ?verbose lists them', async (t) => {
  const health = new HealthChecks();
  let storeReady = false;
  health.addReadinessCheck('store', () => storeReady);
  const { url, ca } = await setup(t, health);
  const before = await httpsRequest({ url: `${url}/readyz`, ca });
  t.equal(before.status, 500);
  t.match(before.body, '[-]store failed: reason withheld');
  t.match(before.body, 'readyz check failed');
  const live = await httpsRequest({ url: `${url}/livez`, ca });
  t.equal(live.status, 200, 'liveness does not depend on readiness');
  storeReady = true;
  const after = await httpsRequest({ url: `${url}/readyz?verbose`, ca });
  t.equal(after.status, 200);
  t.equal(after.body, '[+]ping ok\n[+]store ok\nreadyz check passed\n');
  const one = await httpsRequest({ url: `${url}/readyz/store`, ca });
  t.equal(one.body, 'ok');
  const unknown = await httpsRequest({ url: `${url}/readyz/nope`, ca });
  t.equal(unknown.status, 404);
});

t.test('TLS 1.0 and 1.1 are refused', async (t) => {
  const { url, ca } = await setup(t);
  await t.rejects(httpsRequest({ url: `${url}/healthz`, ca, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }));
  const ok = await httpsRequest({ url: `${url}/healthz`, ca, maxVersion: 'TLSv1.2' });
  t.equal(ok.status, 200);
});

t.test('graceful shutdown lets an in-flight request complete and refuses new connections', async (t) => {
  const { app, url, admin, release } = await setup(t);
  const inflight = httpsRequest({ url: `${url}/slow`, ...admin });
  await new Promise((r) => setTimeout(r, 200));
  const closing = app.close();
  await new Promise((r) => setTimeout(r, 100));
  await t.rejects(httpsRequest({ url: `${url}/healthz`, ...admin, timeoutMs: 2000 }), 'new connections are refused');
  release();
  const r = await inflight;
  t.equal(r.status, 200);
  t.same(r.json(), { done: true });
  await closing;
});
