// Several replicas on one etcd: a write on one is seen by a watcher on another, compare-and-swap holds across them,
// exactly one runs the worker, and when it dies another takes over and finishes the work without a duplicate.
import t from 'tap';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { startEtcd } from '../helpers/etcd.js';
import { httpsRequest } from '../helpers/https-client.js';
import { startServer, type TestServer } from '../helpers/test-server.js';
import { makeKubectl } from '../helpers/kubectl.js';

const VS = '/apis/volumesnapshot.external-storage.k8s.io/v1/namespaces/default/volumesnapshots';

async function admin(server: TestServer) {
  const read = (f: string) => fs.readFile(path.join(server.certDir, f), 'utf8');
  return { ca: await read('ca.crt'), cert: await read('admin.crt'), key: await read('admin.key') };
}

async function isLeader(server: TestServer): Promise<boolean> {
  const r = await httpsRequest({ url: `${server.url}/metrics`, ...(await admin(server)) });
  return /^snapshot_controller_leader 1$/m.test(r.body);
}

t.test('three replicas on one etcd', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.cleanup());
  // Every replica shares one PKI (as Deployment replicas share one Secret) and one data dir (the hostpath provider's
  // snapshots, as a shared volume would be).
  const first = await startServer({
    args: ['--storage=etcd', `--etcd-servers=${etcd.endpoint}`, '--leader-elect', '--leader-elect-lease-duration=4s', '--leader-elect-renew-deadline=3s', '--leader-elect-retry-period=1s'],
  });
  const replicaArgs = first.proc.spawnargs.slice(first.proc.spawnargs.indexOf('--local-cluster'));
  const others = await Promise.all(
    [0, 1].map(() => startServer({ certDir: first.certDir, dataDir: first.dataDir, args: replicaArgs.filter((a) => a !== '--local-cluster') })),
  );
  const replicas = [first, ...others];
  t.teardown(() => Promise.all(replicas.map((r) => r.stop())));
  const creds = await admin(first);

  // A watcher on replica 2 sees a write made on replica 0.
  const list = await httpsRequest({ url: `${replicas[2].url}${VS}`, ...creds });
  const rv = list.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
  const watch = httpsRequest({ url: `${replicas[2].url}${VS}?watch=true&resourceVersion=${rv}&timeoutSeconds=5`, ...creds });
  const body = JSON.stringify({ apiVersion: 'volumesnapshot.external-storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: 'cross' }, spec: { persistentVolumeClaimName: 'nope' } });
  const created = await httpsRequest({ url: `${replicas[0].url}${VS}`, method: 'POST', headers: { 'content-type': 'application/json' }, body, ...creds });
  t.equal(created.status, 201);
  const events = (await watch).body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
  t.ok(events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'cross'), 'replica 2 watched the create made on replica 0');

  // Compare-and-swap across replicas: two updates from the same resourceVersion, one wins, one gets 409.
  const current = await httpsRequest({ url: `${replicas[1].url}${VS}/cross`, ...creds });
  const obj = current.json<Record<string, { labels?: Record<string, string> }>>();
  const put = (r: TestServer, value: string) =>
    httpsRequest({
      url: `${r.url}${VS}/cross`,
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...obj, metadata: { ...obj.metadata, labels: { who: value } } }),
      ...creds,
    });
  const codes = (await Promise.all([put(replicas[0], 'a'), put(replicas[1], 'b')])).map((r) => r.status).sort();
  t.same(codes, [200, 409], 'exactly one of two concurrent updates wins');

  // Exactly one leader runs the worker.
  let leaders: boolean[] = [];
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    leaders = await Promise.all(replicas.map(isLeader));
    if (leaders.filter(Boolean).length === 1) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  t.equal(leaders.filter(Boolean).length, 1, 'one leader');
  const leader = replicas[leaders.indexOf(true)];
  const survivors = replicas.filter((r) => r !== leader);

  // kill -9 the leader; another replica takes over and makes a snapshot Ready (hostpath, so no cloud involved).
  await leader.kill9();
  const dir = path.join(first.dataDir, 'volume');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'data.txt'), 'hello');
  const kubectl = await makeKubectl(survivors[0].kubeconfig);
  const manifest = `
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-ha}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  hostPath: {path: ${dir}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: pvc-ha, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  resources: {requests: {storage: 1Gi}}
---
apiVersion: volumesnapshot.external-storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: snap-ha, namespace: default}
spec: {persistentVolumeClaimName: pvc-ha}
`;
  const applied = await kubectl.run(['apply', '-f', '-'], { input: manifest });
  t.equal(applied.code, 0, applied.stderr);
  const waited = await kubectl.run(['wait', '--for=condition=Ready', 'volumesnapshot/snap-ha', '--timeout=60s'], { timeoutMs: 70_000 });
  t.equal(waited.code, 0, `a survivor took over the worker: ${waited.stderr}`);
  const now = await Promise.all(survivors.map(isLeader));
  t.equal(now.filter(Boolean).length, 1, 'exactly one new leader');
  const snapshots = await fs.readdir(path.join(first.dataDir, 'snapshots')).catch(() => [] as string[]);
  t.equal(snapshots.filter((d) => !d.startsWith('.')).length, 1, 'one snapshot directory: no duplicate');
});

t.test('etcd down: 503 with Retry-After and /readyz failing, then service resumes by itself', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.cleanup());
  const server = await startServer({ args: ['--storage=etcd', `--etcd-servers=${etcd.endpoint}`, '--worker=false'] });
  t.teardown(() => server.stop());
  const creds = await admin(server);
  const body = (name: string) =>
    JSON.stringify({ apiVersion: 'volumesnapshot.external-storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name }, spec: { persistentVolumeClaimName: 'c' } });
  const create = (name: string) =>
    httpsRequest({ url: `${server.url}${VS}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: body(name), ...creds });
  t.equal((await create('before')).status, 201);

  await etcd.stop();
  const down = await create('during');
  t.equal(down.status, 503, 'a write while etcd is down is refused with 503');
  t.equal(down.headers['retry-after'], '1');
  t.match(down.json(), { kind: 'Status', reason: 'ServiceUnavailable' });
  let ready = await httpsRequest({ url: `${server.url}/readyz`, ...creds });
  for (const deadline = Date.now() + 15_000; ready.status === 200 && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 500));
    ready = await httpsRequest({ url: `${server.url}/readyz`, ...creds });
  }
  t.equal(ready.status, 500, '/readyz fails while etcd is unreachable');
  t.equal((await httpsRequest({ url: `${server.url}/livez`, ...creds })).status, 200, 'but the process is alive');

  await etcd.restart();
  let after = await create('after');
  for (const deadline = Date.now() + 30_000; after.status !== 201 && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 500));
    after = await create('after');
  }
  t.equal(after.status, 201, 'writes resume by themselves');
  const names = (await httpsRequest({ url: `${server.url}${VS}`, ...creds })).json<{ items: { metadata: { name: string } }[] }>().items.map((i) => i.metadata.name);
  t.ok(names.includes('before') && names.includes('after'), 'the acknowledged writes are there');
  t.notOk(names.includes('during'), 'the refused one is not');
});
