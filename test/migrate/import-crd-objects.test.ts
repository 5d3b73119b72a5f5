// Migration: objects exported from the original's CRDs (the seed's own output, nulls and all) are imported into a
// stopped server's store with their names, uids, creation times and status; a second import changes nothing; an
// object of the same name with another uid is reported, not overwritten. Export reads the group's paths.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import t from 'tap';
import { Registry } from '../../src/apimachinery/registry.js';
import { volumeSnapshotDefinitions } from '../../src/apis/volumesnapshot/v1/index.js';
import { GROUP } from '../../src/apis/volumesnapshot/v1/types.js';
import { importObjects, main, type ExportFile } from '../../src/migrate/import-crd-objects.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { makeKubectl } from '../helpers/kubectl.js';
import { repoRoot } from '../helpers/paths.js';
import { startServer } from '../helpers/test-server.js';

const run = promisify(execFile);
const migrateJs = path.join(repoRoot, 'dist', 'src', 'migrate', 'import-crd-objects.js');

/** The command in-process (its main()), as the script runs it, with the output it writes. */
async function migrateInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  const out = new Writable({ write: (chunk: Buffer, _enc, done) => ((stdout += chunk.toString()), done()) });
  const code = await main(args, out);
  return { code, stdout, stderr: '' };
}

/** The script as a child process (once per test: it must run standalone with node). */
async function migrate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // Without tap's NODE_OPTIONS (its loaders would instrument the child and slow every run several-fold).
    const r = await run(process.execPath, [migrateJs, ...args], { env: { ...process.env, NODE_OPTIONS: '' } });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// As `oc get -o json` showed them from the original's CRDs (seed, "Creating a snapshot").
const SEED_EXPORT: ExportFile = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    {
      apiVersion: `${GROUP}/v1`,
      kind: 'VolumeSnapshot',
      metadata: {
        creationTimestamp: '2017-09-19T13:58:28Z',
        generation: 0,
        labels: { Timestamp: '1505829508178510973' },
        name: 'snapshot-demo',
        namespace: 'default',
        resourceVersion: '780',
        selfLink: `/apis/${GROUP}/v1/namespaces/default/volumesnapshots/snapshot-demo`,
        uid: '9cc5da57-9d42-11e7-9b25-90b11c132b3f',
      },
      spec: { persistentVolumeClaimName: 'ebs-pvc', snapshotDataName: 'k8s-volume-snapshot-9cc8813e-9d42-11e7-8bed-90b11c132b3f' },
      status: {
        conditions: [{ lastTransitionTime: '2017-09-19T13:58:35Z', message: 'Snapshot created successfully', reason: '', status: 'True', type: 'Ready' }],
        creationTimestamp: null,
      },
    },
    {
      apiVersion: `${GROUP}/v1`,
      kind: 'VolumeSnapshotData',
      metadata: {
        creationTimestamp: '2017-09-19T13:58:30Z',
        name: 'k8s-volume-snapshot-9cc8813e-9d42-11e7-8bed-90b11c132b3f',
        resourceVersion: '779',
        uid: '9cc8813e-9d42-11e7-8bed-90b11c132b3f',
      },
      spec: {
        awsElasticBlockStore: { snapshotId: 'snap-0123456789abcdef0' },
        persistentVolumeRef: { kind: 'PersistentVolume', name: 'pvc-1' },
        volumeSnapshotRef: { kind: 'VolumeSnapshot', name: 'default/snapshot-demo' },
      },
      status: { conditions: [{ lastTransitionTime: null, message: 'Snapshot created successfully', reason: '', status: 'True', type: 'Ready' }], creationTimestamp: null },
    },
  ],
};

t.test('import into a stopped server store keeps names, uids, times and status', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vsas-migrate-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const input = path.join(dir, 'export.json');
  await fs.writeFile(input, JSON.stringify(SEED_EXPORT));
  const dataDir = path.join(dir, 'data');

  const first = await migrate(['import', '--data-dir', dataDir, '--input', input]);
  t.equal(first.code, 0, first.stderr + first.stdout);
  t.same(
    first.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 2)),
    [
      ['imported', 'VolumeSnapshotData'],
      ['imported', 'VolumeSnapshot'],
    ],
  );

  const store = SqliteStore.open({ path: path.join(dataDir, 'store.db') });
  const registry = new Registry({ store, definitions: volumeSnapshotDefinitions });
  const snap = await registry.get(`volumesnapshots.${GROUP}`, { namespace: 'default', name: 'snapshot-demo' });
  t.match(snap, {
    metadata: { uid: '9cc5da57-9d42-11e7-9b25-90b11c132b3f', creationTimestamp: '2017-09-19T13:58:28Z', labels: { Timestamp: '1505829508178510973' } },
    spec: { persistentVolumeClaimName: 'ebs-pvc', snapshotDataName: 'k8s-volume-snapshot-9cc8813e-9d42-11e7-8bed-90b11c132b3f' },
    status: { conditions: [{ type: 'Ready', status: 'True', message: 'Snapshot created successfully', lastTransitionTime: '2017-09-19T13:58:35Z' }] },
  });
  t.not(snap.metadata.resourceVersion, '780', 'resourceVersion is the new store’s');
  const data = await registry.get(`volumesnapshotdatas.${GROUP}`, { name: 'k8s-volume-snapshot-9cc8813e-9d42-11e7-8bed-90b11c132b3f' });
  t.match(data, { metadata: { uid: '9cc8813e-9d42-11e7-8bed-90b11c132b3f' }, spec: { awsElasticBlockStore: { snapshotId: 'snap-0123456789abcdef0' } }, status: { conditions: [{ type: 'Ready' }] } });
  await store.close();

  const other = structuredClone(SEED_EXPORT);
  other.items[0].metadata.uid = '00000000-0000-0000-0000-000000000001';
  other.items.push({ ...other.items[1], metadata: { name: 'no-source', uid: 'u-1' }, spec: {} });
  await fs.writeFile(input, JSON.stringify(other));
  const failed = await migrateInProcess(['import', '--data-dir', dataDir, '--input', input]);
  t.equal(failed.code, 1, 'a conflict or an invalid object fails the run');
  t.match(failed.stdout, /^unchanged\tVolumeSnapshotData\tk8s-volume-snapshot-9cc8813e-9d42-11e7-8bed-90b11c132b3f\t/m, 'an object already imported (same uid) is left alone');
  t.match(failed.stdout, /^conflict\tVolumeSnapshot\tdefault\/snapshot-demo\t00000000-0000-0000-0000-000000000001\texists with uid 9cc5da57-9d42-11e7-9b25-90b11c132b3f$/m, 'a name taken by another uid is reported, not overwritten');
  t.match(failed.stdout, /^invalid\tVolumeSnapshotData\tno-source\tu-1\t.*must specify a snapshot source/m, 'validated like an API create');

  // --dry-run validates and writes nothing.
  const fresh = path.join(dir, 'dry');
  await fs.writeFile(input, JSON.stringify(SEED_EXPORT));
  const dry = await migrateInProcess(['import', '--data-dir', fresh, '--input', input, '--dry-run']);
  t.equal(dry.code, 0, dry.stderr + dry.stdout);
  const dryStore = SqliteStore.open({ path: path.join(fresh, 'store.db') });
  const dryRegistry = new Registry({ store: dryStore, definitions: volumeSnapshotDefinitions });
  t.same((await dryRegistry.list(`volumesnapshots.${GROUP}`)).items, [], 'nothing written');
  await dryStore.close();
});

t.test('export reads both kinds from the group paths, and they import elsewhere unchanged', async (t) => {
  const server = await startServer({ env: { NODE_OPTIONS: '' } });
  t.teardown(() => server.stop());
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vsas-migrate-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const kubectl = await makeKubectl(server.kubeconfig);
  const created = await kubectl.run(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: `${GROUP}/v1`, kind: 'VolumeSnapshotData', metadata: { name: 'data-1', labels: { a: 'b' } }, spec: { hostPath: { snapshot: '/nowhere/x.tgz' } } }),
  });
  t.equal(created.code, 0, created.stderr);
  const snap = await kubectl.run(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: `${GROUP}/v1`, kind: 'VolumeSnapshot', metadata: { name: 'snap-1', namespace: 'default' }, spec: { persistentVolumeClaimName: 'claim-1' } }),
  });
  t.equal(snap.code, 0, snap.stderr);

  const output = path.join(dir, 'export.json');
  const exported = await migrate(['export', '--kubeconfig', server.kubeconfig, '--output', output]);
  t.equal(exported.code, 0, exported.stderr);
  t.match(exported.stdout, /exported 1 volumesnapshotdatas and 1 volumesnapshots/);
  const file = JSON.parse(await fs.readFile(output, 'utf8')) as ExportFile;
  t.same(file.items.map((o) => [o.kind, o.metadata.name]), [
    ['VolumeSnapshotData', 'data-1'],
    ['VolumeSnapshot', 'snap-1'],
  ]);

  await fs.mkdir(path.join(dir, 'data'));
  const store = SqliteStore.open({ path: path.join(dir, 'data', 'store.db') });
  t.teardown(() => store.close());
  const results = await importObjects(store, file);
  t.same(results.map((r) => r.outcome), ['imported', 'imported']);
  const registry = new Registry({ store, definitions: volumeSnapshotDefinitions });
  for (const o of file.items) {
    const ref = o.kind === 'VolumeSnapshot' ? `volumesnapshots.${GROUP}` : `volumesnapshotdatas.${GROUP}`;
    const got = await registry.get(ref, { name: o.metadata.name, namespace: o.metadata.namespace });
    t.equal(got.metadata.uid, o.metadata.uid, `${o.kind} uid`);
    t.equal(got.metadata.creationTimestamp, o.metadata.creationTimestamp, `${o.kind} creationTimestamp`);
    t.same(got.status ?? null, o.status ?? null, `${o.kind} status`);
    t.same(got.metadata.labels ?? null, o.metadata.labels ?? null, `${o.kind} labels`);
  }
});
