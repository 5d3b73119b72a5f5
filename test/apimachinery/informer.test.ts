// An @kubernetes/client-node informer (ListWatch) against the API plugin: adds, updates and deletes arrive in order,
// it resumes from its resourceVersion across a server restart within the history window, and re-lists after a 410.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, KubeConfig, makeInformer, type KubernetesObject } from '@kubernetes/client-node';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { Registry } from '../../src/apimachinery/registry.js';
import { volumeSnapshotDefinitions } from '../../src/apis/volumesnapshot/v1/index.js';
import { adminApiApp } from '../helpers/admin-api-app.js';

const G = 'volumesnapshot.external-storage.k8s.io';
const VS = `volumesnapshots.${G}`;
const snap = (name: string) => ({ apiVersion: `${G}/v1`, kind: 'VolumeSnapshot', metadata: { name }, spec: { persistentVolumeClaimName: 'p' } });

interface Running {
  app: FastifyInstance;
  store: SqliteStore;
  registry: Registry;
  stop(): Promise<void>;
}

async function serve(file: string, port: number, historyMaxEvents?: number): Promise<Running> {
  const store = SqliteStore.open({ path: file, historyMaxEvents });
  const registry = new Registry({ store, definitions: volumeSnapshotDefinitions });
  const app = await adminApiApp({ registry }, { fastify: { forceCloseConnections: true } });
  await app.listen({ port, host: '127.0.0.1' });
  return {
    app,
    store,
    registry,
    stop: async () => {
      await app.close();
      await store.close();
    },
  };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('informer: ordered events, restart within the window, re-list after 410', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'informer-'));
  const file = path.join(dir, 'store.db');
  let server = await serve(file, 0);
  const port = (server.app.server.address() as { port: number }).port;
  t.teardown(async () => {
    await server.stop().catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  });

  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const api = kc.makeApiClient(CustomObjectsApi);
  let lists = 0;
  const informer = makeInformer<KubernetesObject>(kc, `/apis/${G}/v1/namespaces/default/volumesnapshots`, () => {
    lists++;
    return api.listNamespacedCustomObject({ group: G, version: 'v1', namespace: 'default', plural: 'volumesnapshots' });
  });
  const events: string[] = [];
  informer.on('add', (o) => events.push(`add ${o.metadata?.name}`));
  informer.on('update', (o) => events.push(`update ${o.metadata?.name} ${JSON.stringify(o.metadata?.labels ?? {})}`));
  informer.on('delete', (o) => events.push(`delete ${o.metadata?.name}`));
  let stopped = false;
  // client-node leaves restarting after a connection error to the caller, as controllers do.
  informer.on('error', () => {
    if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 300);
  });
  t.teardown(async () => {
    stopped = true;
    await informer.stop();
  });

  await server.registry.create(VS, snap('a'), { namespace: 'default' });
  await informer.start();
  await until(() => events.includes('add a'), 'add a');
  await server.registry.patch(VS, { namespace: 'default', name: 'a', patchType: 'merge', patch: { metadata: { labels: { x: '1' } } } });
  await server.registry.create(VS, snap('b'), { namespace: 'default' });
  await server.registry.delete(VS, { namespace: 'default', name: 'a' });
  await until(() => events.length >= 4, 'four events');
  t.same(events, ['add a', 'update a {"x":"1"}', 'add b', 'delete a']);

  // Restart on the same file; a write lands before the informer reconnects and is replayed from the history.
  await server.stop();
  server = await serve(file, port);
  await server.registry.create(VS, snap('c'), { namespace: 'default' });
  await until(() => events.includes('add c'), 'add c after restart');
  t.same(events.slice(4), ['add c']);
  t.equal(lists, 1, 'resumed by watch, no re-list');

  // Restart with a tiny history and many writes: the informer's revision is gone, the watch answers 410, it re-lists.
  // The writes land while the server is not listening, so the informer cannot resume before they push its revision
  // out of the history (with the server up, a fast reconnect would race the writes and legitimately need no 410).
  await server.stop();
  const offline = SqliteStore.open({ path: file, historyMaxEvents: 3 });
  const offlineRegistry = new Registry({ store: offline, definitions: volumeSnapshotDefinitions });
  for (let i = 0; i < 20; i++) await offlineRegistry.create(VS, snap(`n${i}`), { namespace: 'default' });
  await offlineRegistry.delete(VS, { namespace: 'default', name: 'b' });
  await offline.close();
  server = await serve(file, port, 3);
  await until(() => events.includes('add n19') && events.includes('delete b'), 're-list after 410');
  t.equal(lists, 2, 'the 410 made it list again');
  t.equal(informer.list('default').length, 21, 'the cache equals the server state');
  t.same(informer.list('default').map((o) => o.metadata?.name).sort(), ['c', ...Array.from({ length: 20 }, (_, i) => `n${i}`)].sort());
});
