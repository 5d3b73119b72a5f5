// The PKI a standalone server needs, generated with `selfsigned` under kubeadm's file names so admins recognise them.
// Files that exist, chain to their CA, match their key and stay valid for 30 more days are reused; others are redone.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

const DAY_MS = 24 * 3600 * 1000;
const RENEW_BEFORE_MS = 30 * DAY_MS;
const CA_LIFETIME_MS = 10 * 365 * DAY_MS;
const LEAF_LIFETIME_MS = 365 * DAY_MS;

export interface PkiOptions {
  certDir: string;
  serviceName: string;
  serviceNamespace: string;
  /** Skip the serving certificate (the admin gave --tls-cert-file). */
  skipServing?: boolean;
  now?: () => Date;
}

export interface PkiFiles {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  frontProxyCaCert: string;
  frontProxyCaKey: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  adminCert: string;
  adminKey: string;
  viewerCert: string;
  viewerKey: string;
}

export interface PkiResult {
  files: PkiFiles;
  /** Which files were (re)generated in this call, by base name. */
  generated: string[];
}

export function pkiFiles(certDir: string): PkiFiles {
  const f = (name: string) => path.join(certDir, name);
  return {
    caCert: f('ca.crt'),
    caKey: f('ca.key'),
    servingCert: f('apiserver.crt'),
    servingKey: f('apiserver.key'),
    frontProxyCaCert: f('front-proxy-ca.crt'),
    frontProxyCaKey: f('front-proxy-ca.key'),
    frontProxyClientCert: f('front-proxy-client.crt'),
    frontProxyClientKey: f('front-proxy-client.key'),
    adminCert: f('admin.crt'),
    adminKey: f('admin.key'),
    viewerCert: f('viewer.crt'),
    viewerKey: f('viewer.key'),
  };
}

export function servingSans(serviceName: string, serviceNamespace: string): { dns: string[]; ips: string[] } {
  const svc = `${serviceName}.${serviceNamespace}.svc`;
  return {
    dns: ['localhost', serviceName, `${serviceName}.${serviceNamespace}`, svc, `${svc}.cluster.local`],
    ips: ['127.0.0.1', '::1'],
  };
}

interface Pair {
  cert: string;
  key: string;
}

async function readPair(certFile: string, keyFile: string): Promise<Pair | undefined> {
  try {
    return { cert: await fs.readFile(certFile, 'utf8'), key: await fs.readFile(keyFile, 'utf8') };
  } catch {
    return undefined;
  }
}

async function writePair(certFile: string, keyFile: string, pair: Pair): Promise<void> {
  await fs.writeFile(certFile, pair.cert, { mode: 0o644 });
  await fs.writeFile(keyFile, pair.key, { mode: 0o600 });
  await fs.chmod(keyFile, 0o600);
}

/** Reusable = parses, key matches, not expiring within 30 days, issued by `issuer` (when given), and has the wanted SANs. */
function reusable(pair: Pair | undefined, now: Date, issuer?: Pair, wantedSans?: { dns: string[]; ips: string[] }): boolean {
  if (!pair) return false;
  try {
    const cert = new X509Certificate(pair.cert);
    if (!cert.checkPrivateKey(createPrivateKey(pair.key))) return false;
    if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_MS) return false;
    if (issuer) {
      const ca = new X509Certificate(issuer.cert);
      if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    }
    if (wantedSans) {
      const have = new Set((cert.subjectAltName ?? '').split(',').map((s) => s.trim()));
      for (const d of wantedSans.dns) if (!have.has(`DNS:${d}`)) return false;
      for (const ip of wantedSans.ips) {
        const normal = ip === '::1' ? '0:0:0:0:0:0:0:1' : ip;
        if (!have.has(`IP Address:${ip}`) && !have.has(`IP Address:${normal}`)) return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

type Attr = { name: string; value: string };

async function makeCa(commonName: string, now: Date): Promise<Pair> {
  const r = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + CA_LIFETIME_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: r.cert, key: r.private };
}

async function makeLeaf(
  subject: Attr[],
  ca: Pair,
  now: Date,
  usage: { server?: { dns: string[]; ips: string[] }; client?: boolean },
): Promise<Pair> {
  const extensions: NonNullable<Parameters<typeof generate>[1]>['extensions'] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: !!usage.server, clientAuth: !!usage.client },
  ];
  if (usage.server) {
    extensions.push({
      name: 'subjectAltName',
      altNames: [...usage.server.dns.map((value) => ({ type: 2 as const, value })), ...usage.server.ips.map((ip) => ({ type: 7 as const, ip }))],
    });
  }
  const r = await generate(subject, {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + LEAF_LIFETIME_MS),
    ca: { key: ca.key, cert: ca.cert },
    extensions,
  });
  return { cert: r.cert, key: r.private };
}

/** Ensures every file of the PKI exists and is valid, generating what is missing, expiring or no longer matching. */
export async function ensurePki(opts: PkiOptions): Promise<PkiResult> {
  const now = opts.now?.() ?? new Date();
  const files = pkiFiles(opts.certDir);
  const generated: string[] = [];
  await fs.mkdir(opts.certDir, { recursive: true, mode: 0o755 });

  async function ensure(certFile: string, keyFile: string, make: () => Promise<Pair>, check: (p: Pair | undefined) => boolean): Promise<Pair> {
    const existing = await readPair(certFile, keyFile);
    if (check(existing)) return existing!;
    const pair = await make();
    await writePair(certFile, keyFile, pair);
    generated.push(path.basename(certFile), path.basename(keyFile));
    return pair;
  }

  const ca = await ensure(files.caCert, files.caKey, () => makeCa('volumesnapshot-apiserver-ca', now), (p) => reusable(p, now));
  const sans = servingSans(opts.serviceName, opts.serviceNamespace);
  if (!opts.skipServing) {
    await ensure(
      files.servingCert,
      files.servingKey,
      () => makeLeaf([{ name: 'commonName', value: `${opts.serviceName}.${opts.serviceNamespace}.svc` }], ca, now, { server: sans }),
      (p) => reusable(p, now, ca, sans),
    );
  }
  const fpCa = await ensure(files.frontProxyCaCert, files.frontProxyCaKey, () => makeCa('front-proxy-ca', now), (p) => reusable(p, now));
  await ensure(
    files.frontProxyClientCert,
    files.frontProxyClientKey,
    () => makeLeaf([{ name: 'commonName', value: 'front-proxy-client' }], fpCa, now, { client: true }),
    (p) => reusable(p, now, fpCa),
  );
  await ensure(
    files.adminCert,
    files.adminKey,
    () => makeLeaf([{ name: 'commonName', value: 'admin' }, { name: 'organizationName', value: 'system:masters' }], ca, now, { client: true }),
    (p) => reusable(p, now, ca),
  );
  await ensure(
    files.viewerCert,
    files.viewerKey,
    () => makeLeaf([{ name: 'commonName', value: 'viewer' }, { name: 'organizationName', value: 'volumesnapshot:viewers' }], ca, now, { client: true }),
    (p) => reusable(p, now, ca),
  );
  return { files, generated };
}
