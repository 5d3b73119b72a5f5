// Faults against the real server process: kill -9 in the middle of a create storm loses no acknowledged write and
// never reuses a resourceVersion; the worker's hostpath "cloud" turned unusable gives the snapshot an Error condition
// that says why, and the snapshot becomes Ready once the directory is usable again; a full disk under the data dir
// refuses writes with a clear 503 while reads go on, corrupts nothing, and writes resume when space returns.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { startServer, type TestServer } from '../helpers/test-server.js';
import { GV, loadCredentials, makeClient, SNAPSHOTS, snapshotBody, sleep, type Client, type StoredObject } from './harness.js';

const ROUNDS = 2;
const LOOPS = 8;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

t.test('kill -9 during a create storm: every acknowledged create survives the restart', async (t) => {
  let server: TestServer = await startServer({ args: ['--worker=false'] });
  t.teardown(() => server.kill9());
  const { certDir, dataDir } = server;
  const acked = new Map<string, { uid: string; rv: number }>();
  let unanswered = 0;
  let maxRv = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const client = makeClient(server, await loadCredentials(certDir));
    let stop = false;
    const loops = Array.from({ length: LOOPS }, async (_, loop) => {
      for (let i = 0; !stop; i++) {
        const name = `storm-${round}-${loop}-${i}`;
        try {
          const res = await client.json<StoredObject>('POST', SNAPSHOTS, snapshotBody(name));
          if (res.status === 201) {
            const rv = Number(res.body.metadata.resourceVersion);
            acked.set(name, { uid: res.body.metadata.uid, rv });
            maxRv = Math.max(maxRv, rv);
          } else if (res.status >= 500) {
            throw new Error(`${name}: ${res.status}`);
          }
        } catch (err) {
          if (!stop) throw err;
          unanswered++;
          return;
        }
      }
    });
    const before = acked.size;
    await until('creates to pile up', async () => (acked.size - before >= 40 ? true : undefined));
    stop = true;
    await server.kill9();
    await Promise.all(loops);
    t.pass(`round ${round}: killed after ${acked.size - before} acknowledged creates`);

    server = await startServer({ certDir, dataDir, args: ['--worker=false'] });
    const after = makeClient(server, await loadCredentials(certDir));
    const list = await after.json<{ items: StoredObject[] }>('GET', `${GV}/volumesnapshots`);
    t.equal(list.status, 200);
    const stored = new Map(list.body.items.map((o) => [o.metadata.name, o]));
    const lost = [...acked].filter(([name, a]) => stored.get(name)?.metadata.uid !== a.uid).map(([n]) => n);
    t.same(lost, [], `round ${round}: all ${acked.size} acknowledged creates are there after the restart`);

    // The store's resourceVersion goes on from where it was: no version is handed out twice.
    const next = await after.json<StoredObject>('POST', SNAPSHOTS, snapshotBody(`after-kill-${round}`));
    t.equal(next.status, 201);
    t.ok(Number(next.body.metadata.resourceVersion) > maxRv, `new resourceVersion ${next.body.metadata.resourceVersion} > ${maxRv}`);
    maxRv = Number(next.body.metadata.resourceVersion);
    t.equal((await after.request({ path: '/readyz' })).body, 'ok', 'ready after the restart');
  }
  t.comment(`${acked.size} acknowledged creates over ${ROUNDS} kill -9 restarts, ${unanswered} cut off unanswered, none lost`);
  await server.stop();
});

async function condition(client: Client, name: string, type: string) {
  const res = await client.json<{ status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } }>(
    'GET',
    `${SNAPSHOTS}/${name}`,
  );
  return res.body.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

t.test('the hostpath snapshot directory unusable: an Error that says why, then Ready once it is usable', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const client = makeClient(server, await loadCredentials(server.certDir));
  const volume = await fs.mkdtemp(path.join(os.tmpdir(), 'vsas-faults-vol-'));
  t.teardown(() => fs.rm(volume, { recursive: true, force: true }));
  await fs.writeFile(path.join(volume, 'hello.txt'), 'hello\n');

  t.equal(
    (
      await client.json('POST', '/api/v1/persistentvolumes', {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: 'pv-faults' },
        spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: volume } },
      })
    ).status,
    201,
  );
  t.equal(
    (
      await client.json('POST', '/api/v1/namespaces/default/persistentvolumeclaims', {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'claim' },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', resources: { requests: { storage: '1Gi' } } },
      })
    ).status,
    201,
  );
  await until('the claim to bind', async () => {
    const pvc = await client.json<{ status?: { phase?: string } }>('GET', '/api/v1/namespaces/default/persistentvolumeclaims/claim');
    return pvc.body.status?.phase === 'Bound' ? true : undefined;
  });

  // Running as root, permissions would not stop the worker: a file where its directory belongs does.
  const snapshotsDir = path.join(server.dataDir, 'snapshots');
  await fs.rm(snapshotsDir, { recursive: true, force: true });
  await fs.writeFile(snapshotsDir, 'not a directory\n');

  t.equal((await client.json('POST', SNAPSHOTS, snapshotBody('snap-faults'))).status, 201);
  const error = await until('an Error condition', () => condition(client, 'snap-faults', 'Error'));
  t.equal(error.reason, 'SnapshotCreationFailed');
  t.match(error.message ?? '', /snapshots/, `the message names the place: ${error.message}`);
  t.match(error.message ?? '', /EEXIST|ENOTDIR|not a directory|file already exists/, 'and the cause');
  const events = await client.json<{ items: { reason: string; type: string; message: string }[] }>('GET', '/api/v1/namespaces/default/events');
  t.ok(events.body.items.some((e) => e.reason === 'SnapshotCreationFailed' && e.type === 'Warning'), 'a Warning event says so too');
  t.notOk(await condition(client, 'snap-faults', 'Ready'), 'not Ready');
  t.equal((await client.request({ path: '/readyz' })).body, 'ok', 'the API keeps serving');

  // Usable again. A failure the worker judged final needs the documented nudge (the retry annotation).
  await fs.rm(snapshotsDir, { force: true });
  const patched = await client.request({
    method: 'PATCH',
    path: `${SNAPSHOTS}/snap-faults`,
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ metadata: { annotations: { 'volumesnapshot.external-storage.k8s.io/retry': '1' } } }),
  });
  t.equal(patched.status, 200);
  const ready = await until('Ready', () => condition(client, 'snap-faults', 'Ready'), 45_000);
  t.ok(ready, 'Ready after recovery');
  const copies = await fs.readdir(snapshotsDir);
  t.equal(copies.filter((d) => !d.startsWith('.')).length, 1, 'exactly one snapshot copy, no leftovers');
  t.equal(copies.filter((d) => d.startsWith('.tmp-')).length, 0, 'no temporary copy left behind');
});

// Needs a filesystem that can fill up: a small tmpfs, which only root can mount (as in this project's CI VM).
const canMount = process.getuid?.() === 0;
t.test('the disk under the data dir full: a clear 503, reads go on, no corruption, writes again once space returns', { skip: canMount ? false : 'mounting a small tmpfs needs root' }, async (t) => {
  const mnt = await fs.mkdtemp(path.join(os.tmpdir(), 'vsas-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
  t.teardown(async () => {
    execFileSync('umount', ['-l', mnt]);
    await fs.rm(mnt, { recursive: true, force: true });
  });
  const dataDir = path.join(mnt, 'data');
  let server = await startServer({ dataDir, args: ['--worker=false'] });
  t.teardown(() => server.kill9());
  let client = makeClient(server, await loadCredentials(server.certDir));
  const acked: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await client.json('POST', SNAPSHOTS, snapshotBody(`before-full-${i}`));
    t.equal(r.status, 201);
    acked.push(`before-full-${i}`);
  }

  const ballast = path.join(mnt, 'ballast');
  await fs.writeFile(ballast, Buffer.alloc(16 * 1024 * 1024)).catch((e: NodeJS.ErrnoException) => t.equal(e.code, 'ENOSPC', 'the disk is full'));
  const big = { metadata: { annotations: { a: 'x'.repeat(200_000) } } };
  const refused: number[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await client.json<{ reason?: string; message?: string }>('POST', SNAPSHOTS, snapshotBody(`while-full-${i}`, big));
    if (r.status === 201) acked.push(`while-full-${i}`);
    else {
      refused.push(r.status);
      t.match(r.body, { kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
      t.match(r.body.message ?? '', /disk is full/, `the message says why: ${r.body.message}`);
    }
  }
  t.ok(refused.length > 0, `${refused.length} of 10 writes refused while full`);
  t.equal((await client.json('GET', `${SNAPSHOTS}/before-full-1`)).status, 200, 'reads go on');
  t.equal((await client.request({ path: '/readyz' })).status, 200, 'ready: reads are served');

  await fs.rm(ballast);
  const after = await client.json('POST', SNAPSHOTS, snapshotBody('after-full', big));
  t.equal(after.status, 201, 'writes again once space returns');
  acked.push('after-full');

  await server.stop();
  const db = new Database(path.join(dataDir, 'store.db'), { readonly: true });
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'SQLite integrity check passes');
  db.close();
  server = await startServer({ dataDir, certDir: server.certDir, args: ['--worker=false'] });
  client = makeClient(server, await loadCredentials(server.certDir));
  const list = await client.json<{ items: StoredObject[] }>('GET', SNAPSHOTS);
  const names = new Set(list.body.items.map((o) => o.metadata.name));
  t.same(acked.filter((n) => !names.has(n)), [], `all ${acked.length} acknowledged creates are there after a restart`);
  t.notOk([...names].some((n) => n.startsWith('while-full-') && !acked.includes(n)), 'no refused write appears later');
  await server.stop();
});
