// The one place that builds the object graph of `serve`:
// PKI → store → registry (+ local cluster) → authentication/authorization → HTTPS server (API, admission, metrics)
// → worker (snapshotter, promoter) reaching the main cluster through @kubernetes/client-node.
import { promises as fs, unwatchFile, watchFile } from 'node:fs';
import type https from 'node:https';
import { createSecureContext } from 'node:tls';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import type { ServeOptions } from './config.js';
import { ensurePki, pkiFiles } from './server/pki.js';
import { writeKubeconfig } from './server/kubeconfig.js';
import { buildServer } from './server/app.js';
import { HealthChecks } from './server/health.js';
import { createAuthentication } from './server/authentication-config.js';
import { createAuthorization } from './server/authorization-config.js';
import { authenticationOptionsFromFlags, authorizationOptionsFromFlags } from './server/delegation-flags.js';
import { SqliteStore } from './storage/sqlite-store.js';
import { EtcdStore } from './storage/etcd-store.js';
import type { Store } from './storage/store.js';
import { Registry } from './apimachinery/registry.js';
import { apiPlugin } from './apimachinery/api-plugin.js';
import { StatusError } from './apimachinery/status-error.js';
import { volumeSnapshotDefinitions } from './apis/volumesnapshot/v1/index.js';
import { admissionRoutes, MUTATE_PATH, VALIDATE_PATH } from './admission/admission-routes.js';
import type { AdmissionDeps } from './admission/admission-review.js';
import { createLocalCluster, type LocalCluster } from './localcluster/local-cluster.js';
import { localAdmissionDeps } from './localcluster/local-admission-deps.js';
import { ConfigMapWatcher } from './cluster/authentication-configmap.js';
import { ReviewClient, loadKubeConfig } from './cluster/review-client.js';
import { ClientNodeMainCluster, type MainCluster } from './cluster/main-cluster.js';
import { createCloudProvider } from './cloud/index.js';
import { createWorker, type Worker } from './controller/worker.js';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  registry: Registry;
  /** The port actually bound. */
  port: number;
  kubeconfigPath: string;
  viewerKubeconfigPath: string;
  /** Graceful stop: refuse new requests, end watches, let in-flight requests finish (bounded), close the store. */
  close(): Promise<void>;
}

const VOLUME_SNAPSHOTS = 'volumesnapshots.volumesnapshot.external-storage.k8s.io';
const VOLUME_SNAPSHOT_DATAS = 'volumesnapshotdatas.volumesnapshot.external-storage.k8s.io';

async function getOrUndefined<T>(read: () => Promise<unknown>): Promise<T | undefined> {
  try {
    return (await read()) as T;
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}

/** In a cluster the webhooks read snapshots from our store and StorageClasses from the main cluster. */
function clusterAdmissionDeps(registry: Registry, cluster: MainCluster, opts: ServeOptions): AdmissionDeps {
  type Deps = AdmissionDeps;
  return {
    restoreStorageClass: opts.restoreStorageClass,
    getSnapshot: (namespace, name) =>
      getOrUndefined<Awaited<ReturnType<Deps['getSnapshot']>>>(() => registry.get(VOLUME_SNAPSHOTS, { namespace, name })),
    getSnapshotData: (name) =>
      getOrUndefined<Awaited<ReturnType<Deps['getSnapshotData']>>>(() => registry.get(VOLUME_SNAPSHOT_DATAS, { name })),
    getStorageClass: async (name) => (await cluster.getStorageClass(name)) as Awaited<ReturnType<Deps['getStorageClass']>>,
  };
}

/**
 * Calls `onChange` when any of the files changes. Polling (not inotify) because Kubernetes updates mounted Secrets by
 * swapping a symlink, which inotify watches on the old target miss.
 */
function watchFiles(files: string[], onChange: () => void, intervalMs = 5000): () => void {
  const listener = (curr: { mtimeMs: number; ino: number }, prev: { mtimeMs: number; ino: number }) => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino) onChange();
  };
  for (const f of files) watchFile(f, { interval: intervalMs, persistent: false }, listener);
  return () => {
    for (const f of files) unwatchFile(f, listener);
  };
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
  let [cert, key] = await Promise.all([fs.readFile(servingCertFile), fs.readFile(servingKeyFile)]);
  const minVersion = opts.tlsMinVersion === 'VersionTLS13' ? 'TLSv1.3' : 'TLSv1.2';
  const standalone = opts.localCluster;

  await fs.mkdir(opts.dataDir, { recursive: true });
  const storePath = path.join(opts.dataDir, 'store.db');
  const etcdEndpoints = (opts.etcdServers ?? '').split(',').filter(Boolean);
  const store: Store =
    opts.storage === 'etcd'
      ? await EtcdStore.connect({
          endpoints: etcdEndpoints,
          prefix: opts.etcdPrefix,
          ca: opts.etcdCafile,
          cert: opts.etcdCertfile,
          key: opts.etcdKeyfile,
          compaction: { intervalMs: opts.etcdCompactionIntervalSeconds * 1000 },
        })
      : SqliteStore.open({ path: storePath });
  const storeDescription = opts.storage === 'etcd' ? `etcd at ${etcdEndpoints.join(',')} under ${opts.etcdPrefix}` : `SQLite at ${storePath}`;

  // The local cluster's definitions are needed to build the registry, and its admission needs the registry.
  let local: LocalCluster | undefined;
  // Components built before the server log through it once it exists.
  const late: { app?: FastifyInstance } = {};
  const log = {
    info: (o: object, m: string) => late.app?.log.info(o, m),
    warn: (o: object, m: string) => late.app?.log.warn(o, m),
    error: (o: object, m: string) => late.app?.log.error(o, m),
  };
  // The access reviews (kubectl auth can-i / whoami) ask the authorizer built below; they are only called once serving.
  if (standalone) {
    local = createLocalCluster(() => registry, {
      log,
      restoreStorageClass: opts.restoreStorageClass,
      authorize: (user, info) => authorizer.authorize(user, info),
      rulesFor: (user, namespace) => authorizer.rulesFor(user, namespace),
    });
  }
  const registry: Registry = new Registry({
    store,
    definitions: [...volumeSnapshotDefinitions, ...(local?.definitions ?? [])],
    admission: local?.admission,
  });

  const admissionClientCaPem = opts.admissionClientCaFile ? await fs.readFile(opts.admissionClientCaFile, 'utf8') : undefined;

  // The TLS context is rebuilt whenever the client CAs (ConfigMap) or the serving certificate files change; before
  // the server exists there is nothing to rebuild.
  const applySecureContext = () => {
    const server = late.app?.server as https.Server | undefined;
    if (!server) return;
    const pems = [...auth.tlsClientCaPems(), ...(admissionClientCaPem ? [admissionClientCaPem] : [])];
    server.setSecureContext({ cert, key, ca: pems.length ? pems : undefined, minVersion });
  };

  // Authentication and authorization: delegated to the main cluster, or local trust + a static policy standalone.
  const authnKc = standalone ? undefined : loadKubeConfig(opts.authenticationKubeconfig ?? opts.kubeconfig);
  const authzKc = standalone ? undefined : loadKubeConfig(opts.authorizationKubeconfig ?? opts.kubeconfig);
  const clientCaFile = opts.clientCaFile ?? (standalone ? files.caCert : undefined);
  const auth = await createAuthentication(
    authenticationOptionsFromFlags({ ...opts, clientCaFile }, standalone ? { frontProxyCaFile: files.frontProxyCaCert } : undefined),
    {
      tokenReviewer: authnKc && new ReviewClient(authnKc),
      configSource:
        authnKc && !opts.authenticationSkipLookup
          ? new ConfigMapWatcher(authnKc, { onError: (e) => log.warn({ reason: e.message }, 'authentication configmap lookup failed') })
          : undefined,
      onClientCasChanged: () => applySecureContext(),
    },
  );
  const stopWatchingCert = watchFiles([servingCertFile, servingKeyFile], async () => {
    try {
      const [nextCert, nextKey] = await Promise.all([fs.readFile(servingCertFile), fs.readFile(servingKeyFile)]);
      createSecureContext({ cert: nextCert, key: nextKey }); // throws on a mismatched or half-written pair
      [cert, key] = [nextCert, nextKey];
      applySecureContext();
      log.info({ servingCert: servingCertFile }, 'reloaded the serving certificate');
    } catch (err) {
      log.warn({ servingCert: servingCertFile, reason: (err as Error).message }, 'serving certificate changed but cannot be used yet; keeping the current one');
    }
  });
  const authorizer = await createAuthorization(authorizationOptionsFromFlags(opts), {
    accessReviewer: authzKc && new ReviewClient(authzKc),
  });

  const mainCluster: MainCluster | undefined = standalone ? undefined : ClientNodeMainCluster.fromKubeconfig(opts.kubeconfig);
  const admissionDeps: AdmissionDeps = standalone
    ? localAdmissionDeps(registry, { restoreStorageClass: opts.restoreStorageClass })
    : clusterAdmissionDeps(registry, mainCluster!, opts);

  const metrics = new PromRegistry();
  collectDefaultMetrics({ register: metrics });

  const health = new HealthChecks();
  let shuttingDown = false;
  let worker: Worker | undefined;
  health.addReadinessCheck('store', () => store.ready());
  health.addReadinessCheck('shutdown', () => !shuttingDown);

  const clientCaPems = auth.tlsClientCaPems();
  const app = await buildServer({
    tls: {
      cert,
      key,
      clientCaPems: admissionClientCaPem ? [...clientCaPems, admissionClientCaPem] : clientCaPems,
      minVersion,
    },
    authenticator: auth.authenticator,
    authorizer,
    alwaysAllowPaths: ['/healthz', '/livez', '/readyz', '/version'],
    unauthenticatedPaths: [MUTATE_PATH, VALIDATE_PATH],
    stripIdentityHeaders: (req) => auth.stripIdentityHeaders(req),
    health,
    logLevel: opts.logLevel,
    metrics,
    maxInFlight: { maxRequestsInflight: opts.maxRequestsInflight, maxMutatingRequestsInflight: opts.maxMutatingRequestsInflight },
    mount: async (app) => {
      await app.register(apiPlugin, { registry });
      await app.register(admissionRoutes, { deps: { ...admissionDeps, log: (entry) => app.log.info(entry, 'admission review') }, clientCaPem: admissionClientCaPem });
    },
  });
  late.app = app;
  auth.setLogger(app.log);

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
  const frontProxy = auth.requestHeaderConfig();
  app.log.info(
    {
      clientCaFile: clientCaFile ?? 'from kube-system/extension-apiserver-authentication',
      requestheaderClientCaFile: opts.requestheaderClientCaFile ?? (standalone ? files.frontProxyCaCert : 'from kube-system/extension-apiserver-authentication'),
      requestheaderAllowedNames: frontProxy?.allowedNames,
      authorization: standalone ? (opts.authorizationPolicyFile ?? 'built-in policy') : 'SubjectAccessReview',
      admissionClientCaFile: opts.admissionClientCaFile,
      generated: pki.generated,
    },
    `trusting client certificates signed by ${clientCaFile ?? 'the cluster client CA'}`,
  );
  app.log.info({ storage: opts.storage, path: opts.storage === 'sqlite' ? storePath : undefined }, `storing objects in ${storeDescription}`);

  if (local) await local.start();

  let closeCloud: (() => Promise<void>) | undefined;
  if (opts.worker) {
    const cloud = await createCloudProvider({
      provider: opts.cloudProvider,
      clusterId: opts.clusterId,
      awsRegion: opts.awsRegion,
      awsEndpoint: opts.awsEndpoint,
      gceProject: opts.gceProject,
      gceEndpoint: opts.gceEndpoint,
      dataDir: opts.dataDir,
      qps: opts.cloudQps,
      burst: opts.cloudBurst,
    });
    // Standalone, the worker reaches the local cluster over HTTPS with the admin kubeconfig, as it would a real one.
    const cluster = mainCluster ?? ClientNodeMainCluster.fromKubeconfig(kubeconfigPath);
    worker = createWorker({
      registry,
      cluster,
      cloud,
      leaderElection: opts.leaderElect
        ? {
            namespace: opts.leaderElectResourceNamespace,
            name: opts.leaderElectResourceName,
            leaseDurationMs: opts.leaderElectLeaseDurationSeconds * 1000,
            renewDeadlineMs: opts.leaderElectRenewDeadlineSeconds * 1000,
            retryPeriodMs: opts.leaderElectRetryPeriodSeconds * 1000,
          }
        : undefined,
      workerThreads: opts.workerThreads,
      resyncPeriodMs: opts.resyncPeriodSeconds * 1000,
      log,
      metrics,
    });
    await worker.start();
    closeCloud = () => cloud.close();
  }

  app.log.info(
    { localCluster: standalone, cloudProvider: opts.cloudProvider, worker: opts.worker, leaderElect: opts.leaderElect, kubeconfig: kubeconfigPath },
    standalone ? 'standalone mode: serving a local cluster' : 'cluster mode',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      const deadline = setTimeout(() => app.server.closeAllConnections(), opts.shutdownTimeoutSeconds * 1000);
      deadline.unref();
      try {
        await worker?.stop();
        await local?.stop();
        await app.close();
      } finally {
        clearTimeout(deadline);
        stopWatchingCert();
        await closeCloud?.();
        await auth.close();
        await store.close();
      }
    })());

  return { app, store, registry, port, kubeconfigPath, viewerKubeconfigPath, close };
}
