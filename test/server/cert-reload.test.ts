// A rotated serving certificate (a renewed Secret, a cert-manager renewal) is picked up without a restart.
import t from 'tap';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ensurePki, pkiFiles } from '../../src/server/pki.js';
import { startServer } from '../helpers/test-server.js';

function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

t.test('the server reloads --tls-cert-file/--tls-private-key-file when they change', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reload-'));
  const first = pkiFiles(path.join(dir, 'one'));
  const second = pkiFiles(path.join(dir, 'two'));
  await ensurePki({ certDir: path.join(dir, 'one'), serviceName: 'a', serviceNamespace: 'b' });
  await ensurePki({ certDir: path.join(dir, 'two'), serviceName: 'a', serviceNamespace: 'b' });
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  await fs.copyFile(first.servingCert, certFile);
  await fs.copyFile(first.servingKey, keyFile);

  const server = await startServer({ args: ['--tls-cert-file', certFile, '--tls-private-key-file', keyFile] });
  t.teardown(() => server.stop());
  const before = await servedFingerprint(server.port);

  // A mismatched pair (new cert, old key) must not be taken: the old certificate keeps being served.
  await fs.copyFile(second.servingCert, certFile);
  await new Promise((r) => setTimeout(r, 7000));
  t.equal(await servedFingerprint(server.port), before, 'a half-rotated pair is not served');

  await fs.copyFile(second.servingKey, keyFile);
  let after = before;
  for (const deadline = Date.now() + 20_000; after === before && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 500));
    after = await servedFingerprint(server.port);
  }
  t.not(after, before, 'the new certificate is served without a restart');
  t.ok(server.logs.some((l) => l.includes('reloaded the serving certificate')), 'and the reload is logged');
});
