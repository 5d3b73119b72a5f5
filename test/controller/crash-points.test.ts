// Crash points: the worker process is SIGKILLed right after the cloud CreateSnapshot, right after the
// VolumeSnapshotData is written, and in the middle of a deletion; a new process on the same SQLite file resumes.
// Exactly one cloud snapshot exists while the object lives, none after it is deleted.

import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Ec2Fake } from '../fakes/ec2-fake.js';
import { G, eventually, tempDir } from './bed.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'worker-child.js');
const BASE = `/apis/${G}/v1`;

interface Child {
  proc: ChildProcess;
  address: string;
}

async function startChild(t: Test, storePath: string, ec2Url: string, crashAt?: string): Promise<Child> {
  const proc = spawn(process.execPath, [CHILD, storePath, ec2Url, ...(crashAt ? [crashAt] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const lines = createInterface({ input: proc.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  return { proc, address: (JSON.parse(line) as { address: string }).address };
}

async function call(c: Child, method: string, p: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(c.address + p, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const exited = (c: Child) => (c.proc.exitCode !== null || c.proc.signalCode !== null ? Promise.resolve() : once(c.proc, 'exit').then(() => undefined));

async function setupClaim(c: Child, ec2: Ec2Fake, name: string): Promise<void> {
  const vol = ec2.addVolume({ zone: 'us-east-1a', sizeGiB: 4 });
  const pv = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `pv-${name}`, labels: { 'topology.kubernetes.io/zone': 'us-east-1a' } },
    spec: { capacity: { storage: '4Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', awsElasticBlockStore: { volumeID: `aws://us-east-1a/${vol.volumeId}`, fsType: 'ext4' } },
  };
  t.equal((await call(c, 'POST', '/api/v1/persistentvolumes', pv)).status, 201);
  const pvc = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'manual', resources: { requests: { storage: '4Gi' } } },
  };
  t.equal((await call(c, 'POST', '/api/v1/namespaces/default/persistentvolumeclaims', pvc)).status, 201);
  await eventually(async () => ((await call(c, 'GET', `/api/v1/namespaces/default/persistentvolumeclaims/${name}`)).json.status as { phase?: string })?.phase === 'Bound', 10_000, 'bound');
}

const snapshotsFor = (ec2: Ec2Fake, uid: string) => ec2.listSnapshots().filter((s) => Object.values(s.tags).includes(uid));

const isReadyJson = (json: Record<string, unknown>) =>
  ((json.status as { conditions?: { type: string; status: string }[] })?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

// One object through every crash point in turn (each worker process costs seconds to start on a loaded machine).
t.test('crash after the cloud create, after the data object, and mid-delete: resumed, no duplicate, no leak', async (t) => {
  const dir = await tempDir(t);
  const store = path.join(dir, 'store.db');
  const ec2 = new Ec2Fake({ snapshotCompletionMs: 200 });
  const { url } = await ec2.start();
  t.teardown(() => ec2.stop());

  const first = await startChild(t, store, url, 'after-cloud-create');
  await setupClaim(first, ec2, 'data');
  const created = await call(first, 'POST', `${BASE}/namespaces/default/volumesnapshots`, {
    apiVersion: `${G}/v1`,
    kind: 'VolumeSnapshot',
    metadata: { name: 's1' },
    spec: { persistentVolumeClaimName: 'data' },
  });
  t.equal(created.status, 201);
  const uid = (created.json.metadata as { uid: string }).uid;
  const dataName = `k8s-volume-snapshot-${uid}`;
  await exited(first);
  t.equal(first.proc.signalCode, 'SIGKILL', 'died right after CreateSnapshot');
  t.equal(snapshotsFor(ec2, uid).length, 1, 'the cloud snapshot exists, unrecorded');

  const second = await startChild(t, store, url, 'after-data');
  await exited(second);
  t.equal(second.proc.signalCode, 'SIGKILL', 'died right after writing the VolumeSnapshotData');
  t.equal(ec2.callCount('CreateSnapshot'), 1, 'the restarted worker found the snapshot by uid instead of making another');

  const third = await startChild(t, store, url, 'mid-delete');
  const ready = await eventually(async () => {
    const s = await call(third, 'GET', `${BASE}/namespaces/default/volumesnapshots/s1`);
    return isReadyJson(s.json) ? s.json : undefined;
  }, 15_000, 'Ready after two crashes');
  t.equal((ready.spec as { snapshotDataName: string }).snapshotDataName, dataName, 'bound to the data object the crashed worker wrote');
  t.equal(snapshotsFor(ec2, uid).length, 1, 'exactly one cloud snapshot while the object lives');
  t.equal(ec2.callCount('CreateSnapshot'), 1);
  const data = await call(third, 'GET', `${BASE}/volumesnapshotdatas/${dataName}`);
  t.equal((data.json.spec as { awsElasticBlockStore: { snapshotId: string } }).awsElasticBlockStore.snapshotId, snapshotsFor(ec2, uid)[0]!.snapshotId);

  t.equal((await call(third, 'DELETE', `${BASE}/namespaces/default/volumesnapshots/s1`)).status, 200);
  await exited(third);
  t.equal(third.proc.signalCode, 'SIGKILL', 'died after the cloud delete, before the cleanup');
  t.equal(snapshotsFor(ec2, uid).length, 0);

  const fourth = await startChild(t, store, url);
  const left = await call(fourth, 'GET', `${BASE}/namespaces/default/volumesnapshots/s1`);
  if (left.status === 200) t.ok((left.json.metadata as { deletionTimestamp?: string }).deletionTimestamp, 'held by its finalizer');
  await eventually(async () => (await call(fourth, 'GET', `${BASE}/namespaces/default/volumesnapshots/s1`)).status === 404, 10_000, 'deleted after restart');
  t.equal((await call(fourth, 'GET', `${BASE}/volumesnapshotdatas/${dataName}`)).status, 404, 'no data object left');
  t.equal(snapshotsFor(ec2, uid).length, 0, 'no cloud snapshot left');
  t.equal(ec2.callCount('CreateSnapshot'), 1);
  fourth.proc.kill('SIGTERM');
  await exited(fourth);
});
