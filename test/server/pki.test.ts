import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensurePki, pkiFiles } from '../../src/server/pki.js';

const opts = (certDir: string, extra: Partial<Parameters<typeof ensurePki>[0]> = {}) => ({
  certDir,
  serviceName: 'volumesnapshot-apiserver',
  serviceNamespace: 'snap',
  ...extra,
});

t.test('generates kubeadm-named files with the right identities, SANs and modes', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pki-'));
  const { files, generated } = await ensurePki(opts(dir));
  t.equal(generated.length, 12);
  const ca = new X509Certificate(await fs.readFile(files.caCert));
  t.ok(ca.ca, 'ca.crt is a CA');
  const serving = new X509Certificate(await fs.readFile(files.servingCert));
  t.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey), 'serving cert signed by the CA');
  for (const san of ['DNS:localhost', 'DNS:volumesnapshot-apiserver.snap.svc', 'DNS:volumesnapshot-apiserver.snap.svc.cluster.local', 'IP Address:127.0.0.1']) {
    t.match(serving.subjectAltName, san);
  }
  t.match(serving.subjectAltName ?? '', /IP Address:(::1|0:0:0:0:0:0:0:1)/);
  const admin = new X509Certificate(await fs.readFile(files.adminCert));
  t.match(admin.subject, /CN=admin/);
  t.match(admin.subject, /O=system:masters/);
  t.ok(admin.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), 'admin cert allows client auth');
  const fpCa = new X509Certificate(await fs.readFile(files.frontProxyCaCert));
  const fpClient = new X509Certificate(await fs.readFile(files.frontProxyClientCert));
  t.match(fpClient.subject, /CN=front-proxy-client/);
  t.ok(fpClient.checkIssued(fpCa), 'front-proxy client signed by the front-proxy CA');
  t.notOk(fpClient.checkIssued(ca), 'not by the main CA');
  for (const key of [files.caKey, files.servingKey, files.frontProxyCaKey, files.frontProxyClientKey, files.adminKey, files.viewerKey]) {
    t.equal((await fs.stat(key)).mode & 0o777, 0o600, `${path.basename(key)} is 0600`);
  }
});

t.test('reuses valid files and renews what expires within 30 days', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pki-'));
  const first = await ensurePki(opts(dir));
  const caBefore = await fs.readFile(first.files.caCert, 'utf8');
  const again = await ensurePki(opts(dir));
  t.same(again.generated, [], 'second run reuses everything');
  // 340 days later the one-year leaves are within 30 days of expiry; the ten-year CAs are not.
  const later = await ensurePki(opts(dir, { now: () => new Date(Date.now() + 340 * 24 * 3600 * 1000) }));
  t.ok(later.generated.includes('apiserver.crt'), 'serving cert renewed');
  t.ok(later.generated.includes('admin.crt'), 'admin cert renewed');
  t.notOk(later.generated.includes('ca.crt'), 'CA kept');
  t.equal(await fs.readFile(first.files.caCert, 'utf8'), caBefore);
});

t.test('regenerates leaves that no longer match their CA, and serving certs whose SANs changed', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pki-'));
  const { files } = await ensurePki(opts(dir));
  await fs.rm(files.caCert);
  await fs.rm(files.caKey);
  const r = await ensurePki(opts(dir));
  t.ok(r.generated.includes('ca.crt'));
  t.ok(r.generated.includes('apiserver.crt'), 'serving re-signed by the new CA');
  t.ok(r.generated.includes('admin.crt'), 'admin re-signed by the new CA');
  t.notOk(r.generated.includes('front-proxy-client.crt'), 'front-proxy chain untouched');
  const renamed = await ensurePki(opts(dir, { serviceNamespace: 'other' }));
  t.same(renamed.generated, ['apiserver.crt', 'apiserver.key']);
  const serving = new X509Certificate(await fs.readFile(pkiFiles(dir).servingCert));
  t.match(serving.subjectAltName, 'DNS:volumesnapshot-apiserver.other.svc');
});

t.test('a corrupt file is replaced, not trusted', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pki-'));
  const { files } = await ensurePki(opts(dir));
  await fs.writeFile(files.adminKey, 'garbage');
  const r = await ensurePki(opts(dir));
  t.same(r.generated, ['admin.crt', 'admin.key']);
});
