// The API plugin served in-process on plain HTTP (kubectl accepts an http:// server) to an admin, with a kubeconfig
// that points kubectl at it: how the kubectl suites drive the API machinery without the rest of the server's wiring.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from '../../src/apimachinery/registry.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { volumeSnapshotDefinitions } from '../../src/apis/volumesnapshot/v1/index.js';
import { createLocalCluster, type LocalCluster } from '../../src/localcluster/local-cluster.js';
import { encodeJson } from '../../src/apimachinery/json-encoding.js';
import { adminApiApp } from './admin-api-app.js';

export interface ApiForKubectl {
  kubeconfig: string;
  /** A temporary directory (holding the kubeconfig) for the test's own files; removed at teardown. */
  dir: string;
  /** `METHOD url` of every request received, in order. */
  urls: string[];
}

/** Serves `registry` until the test's teardown. */
export async function serveApiForKubectl(t: { teardown(fn: () => unknown): void }, registry: Registry): Promise<ApiForKubectl> {
  const urls: string[] = [];
  const app = await adminApiApp({ registry }, { onRequest: (req) => urls.push(`${req.method} ${req.url}`) });
  app.get('/version', async (_req, reply) => {
    reply.header('content-type', 'application/json').send(encodeJson({ major: '1', minor: '35', gitVersion: 'v1.35.0' }));
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kubectl-api-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  await fs.writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "${address}"}
users:
- name: admin
  user: {}
contexts:
- name: local
  context: {cluster: local, user: admin, namespace: default}
current-context: local
`,
  );
  t.teardown(async () => {
    await app.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { kubeconfig, dir, urls };
}

/** The standalone API in-process: VolumeSnapshot kinds plus the local cluster (binder, admission) on a fresh store. */
export async function serveLocalClusterForKubectl(
  t: { teardown(fn: () => unknown): void },
): Promise<ApiForKubectl & { cluster: LocalCluster; registry: Registry }> {
  const store = SqliteStore.open({ path: ':memory:' });
  const cluster = createLocalCluster(() => registry, { log: { info: () => {}, warn: () => {} }, resyncMs: 60_000 });
  const registry = new Registry({ store, definitions: [...volumeSnapshotDefinitions, ...cluster.definitions], admission: cluster.admission });
  await cluster.start();
  t.teardown(async () => {
    await cluster.stop();
    await store.close();
  });
  return { ...(await serveApiForKubectl(t, registry)), cluster, registry };
}
