// The one place that builds the object graph of `serve`: PKI → store → API machinery → HTTPS server.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ServeOptions } from './config.js';
import { ensurePki, pkiFiles } from './server/pki.js';
import { writeKubeconfig } from './server/kubeconfig.js';
import { buildServer, certificateAuthenticator } from './server/app.js';
import { HealthChecks } from './server/health.js';
import { X509Authenticator, parsePemBundle } from './server/x509-authenticator.js';
import { SqliteStore } from './storage/sqlite-store.js';
import type { Store } from './storage/store.js';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  /** The port actually bound (differs from --secure-port when it was 0). */
  port: number;
  kubeconfigPath: string;
  viewerKubeconfigPath: string;
  /** Graceful stop: refuse new requests, end watches, let in-flight requests finish (bounded), close the store. */
  close(): Promise<void>;
}

export async function serve(opts: ServeOptions): Promise<RunningServer> {
  const files = pkiFiles(opts.certDir);
  const pki = await ensurePki({
    certDir: opts.certDir,
    serviceName: opts.serviceName,
    serviceNamespace: opts.serviceNamespace,
    skipServing: !!opts.tlsCertFile,
  });
  const servingCertFile = opts.tlsCertFile ?? files.servingCert;
  const servingKeyFile = opts.tlsPrivateKeyFile ?? files.servingKey;
  const clientCaFile = opts.clientCaFile ?? files.caCert;
  const [cert, key, clientCaPem] = await Promise.all([
    fs.readFile(servingCertFile),
    fs.readFile(servingKeyFile),
    fs.readFile(clientCaFile, 'utf8'),
  ]);

  await fs.mkdir(opts.dataDir, { recursive: true });
  const storePath = path.join(opts.dataDir, 'store.db');
  const store = SqliteStore.open({ path: storePath });

  const health = new HealthChecks();
  let shuttingDown = false;
  health.addReadinessCheck('store', () => store.ready());
  health.addReadinessCheck('shutdown', () => !shuttingDown);

  const x509 = new X509Authenticator(parsePemBundle(clientCaPem));
  const app = await buildServer({
    tls: { cert, key, clientCaPems: [clientCaPem], minVersion: opts.tlsMinVersion === 'VersionTLS13' ? 'TLSv1.3' : 'TLSv1.2' },
    authenticator: certificateAuthenticator(x509),
    health,
    logLevel: opts.logLevel,
  });

  await app.listen({ port: opts.securePort, host: opts.bindAddress });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.securePort;

  const localHost = opts.bindAddress === '0.0.0.0' || opts.bindAddress === '::' ? '127.0.0.1' : opts.bindAddress;
  const serverUrl = `https://${localHost.includes(':') ? `[${localHost}]` : localHost}:${port}`;
  const caCertPem = await fs.readFile(files.caCert, 'utf8');
  const kubeconfigPath = path.join(opts.certDir, 'kubeconfig');
  const viewerKubeconfigPath = path.join(opts.certDir, 'viewer.kubeconfig');
  for (const [file, user, certFile, keyFile] of [
    [kubeconfigPath, 'admin', files.adminCert, files.adminKey],
    [viewerKubeconfigPath, 'viewer', files.viewerCert, files.viewerKey],
  ] as const) {
    await writeKubeconfig(file, {
      server: serverUrl,
      caCertPem,
      clientCertPem: await fs.readFile(certFile, 'utf8'),
      clientKeyPem: await fs.readFile(keyFile, 'utf8'),
      user,
    });
  }

  app.log.info(
    { address: `${opts.bindAddress}:${port}`, servingCert: servingCertFile, tlsMinVersion: opts.tlsMinVersion },
    `serving HTTPS on ${opts.bindAddress}:${port}`,
  );
  app.log.info({ clientCaFile, generated: pki.generated }, `trusting client certificates signed by ${clientCaFile}`);
  app.log.info({ storage: opts.storage, path: storePath }, `storing objects in SQLite at ${storePath}`);
  app.log.info(
    { localCluster: opts.localCluster, cloudProvider: opts.cloudProvider, kubeconfig: kubeconfigPath },
    opts.localCluster ? 'standalone mode: serving a local cluster' : 'cluster mode',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      const deadline = setTimeout(() => app.server.closeAllConnections(), opts.shutdownTimeoutSeconds * 1000);
      deadline.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(deadline);
        await store.close();
      }
    })());

  return { app, store, port, kubeconfigPath, viewerKubeconfigPath, close };
}
