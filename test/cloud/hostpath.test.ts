import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { CloudError } from '../../src/cloud/cloud-error.js';
import { HostPathProvider, hostPathSnapshotName } from '../../src/cloud/hostpath.js';
import { GiB } from '../../src/cloud/provider.js';

async function setup(t: Test): Promise<{ root: string; provider: HostPathProvider; volume: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'hostpath-test-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const volume = path.join(root, 'pv', 'vol-a');
  await mkdir(path.join(volume, 'nested', 'deeper'), { recursive: true });
  await mkdir(path.join(volume, 'empty-dir'));
  await writeFile(path.join(volume, 'top.txt'), 'hello\n');
  await writeFile(path.join(volume, 'nested', 'deeper', 'blob.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256)));
  await writeFile(path.join(volume, 'nested', 'script.sh'), '#!/bin/sh\necho hi\n');
  await chmod(path.join(volume, 'nested', 'script.sh'), 0o750);
  await symlink('nested/deeper/blob.bin', path.join(volume, 'link-to-blob'));
  await utimes(path.join(volume, 'top.txt'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  return { root, provider: new HostPathProvider({ dataDir: path.join(root, 'data') }), volume };
}

/** path → description of every entry under dir (type, mode, size, content hash or link target, mtime for files). */
async function tree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    const p = path.join(dir, name);
    const rel = path.join(prefix, name);
    const st = await lstat(p);
    if (st.isSymbolicLink()) out[rel] = `link→${await readlink(p)}`;
    else if (st.isDirectory()) {
      out[rel] = `dir ${(st.mode & 0o777).toString(8)}`;
      Object.assign(out, await tree(p, rel));
    } else out[rel] = `file ${(st.mode & 0o777).toString(8)} ${st.size} ${(await readFile(p)).toString('base64')} ${Math.floor(st.mtimeMs / 1000)}`;
  }
  return out;
}

const tags = { namespace: 'ns', name: 'snap', uid: '6b8e2d0c-7f1a-4e2b-9c3d-1a2b3c4d5e6f' };

t.test('snapshot and restore copy files, nested and empty dirs, modes, symlinks and mtimes exactly', async (t) => {
  const { root, provider, volume } = await setup(t);
  const snap = await provider.createSnapshot({ volume: { type: 'hostpath', path: volume }, tags });
  t.equal(snap.id, path.join(root, 'data', 'snapshots', hostPathSnapshotName(tags.uid)));
  t.match(snap, { state: 'ready', progress: 100 });
  t.equal(snap.sizeBytes, 6 + 4096 + 18);

  // The snapshot is a point-in-time copy: later writes to the volume do not change it.
  const original = await tree(volume);
  await writeFile(path.join(volume, 'top.txt'), 'changed after the snapshot\n');

  const vol = await provider.createVolume({ snapshotId: snap.id, name: 'pvc-123', sizeBytes: 1, parameters: {} });
  t.same(vol, { kind: 'hostPath', volumeId: path.join(root, 'data', 'volumes', 'pvc-123'), sizeBytes: GiB, state: 'available' });
  t.same(await tree(vol.volumeId), original, 'restored tree is identical to the volume at snapshot time');
  t.equal((await stat(vol.volumeId)).isDirectory(), true);
});

t.test('idempotent by uid and by PV name; deletes are idempotent', async (t) => {
  const { root, provider, volume } = await setup(t);
  const a = await provider.createSnapshot({ volume: { type: 'hostpath', path: volume }, tags });
  const b = await provider.createSnapshot({ volume: { type: 'hostpath', path: volume }, tags });
  t.equal(a.id, b.id);
  t.equal((await provider.findSnapshotByUid(tags.uid))?.id, a.id);
  t.equal(await provider.findSnapshotByUid('other'), undefined);
  t.same(await readdir(path.join(root, 'data', 'snapshots')), [hostPathSnapshotName(tags.uid)]);

  const v1 = await provider.createVolume({ snapshotId: a.id, name: 'pvc-1', sizeBytes: 3 * GiB, parameters: { fsType: 'ext4' } });
  await writeFile(path.join(v1.volumeId, 'written-by-pod'), 'x');
  const v2 = await provider.createVolume({ snapshotId: a.id, name: 'pvc-1', sizeBytes: 3 * GiB, parameters: {} });
  t.equal(v2.volumeId, v1.volumeId);
  t.equal(v2.sizeBytes, 3 * GiB);
  t.ok((await readdir(v1.volumeId)).includes('written-by-pod'), 'an existing volume is not overwritten');
  t.match(await provider.getVolume({ volumeId: v1.volumeId }), { state: 'available', kind: 'hostPath' });

  await provider.deleteVolume({ volumeId: v1.volumeId });
  await provider.deleteVolume({ volumeId: v1.volumeId });
  await t.rejects(provider.getVolume({ volumeId: v1.volumeId }), { notFound: true, name: 'CloudError' });
  await provider.deleteSnapshot(a.id);
  await provider.deleteSnapshot(a.id);
  await t.rejects(provider.getSnapshot(a.id), { notFound: true, name: 'CloudError' });
  t.equal(await provider.findSnapshotByUid(tags.uid), undefined);
  t.same(await readdir(path.join(root, 'data', 'snapshots')), []);
});

t.test('a half-written snapshot from a crash is neither found nor kept', async (t) => {
  const { root, provider, volume } = await setup(t);
  const snapshots = path.join(root, 'data', 'snapshots');
  const leftover = path.join(snapshots, `.tmp-${hostPathSnapshotName(tags.uid)}-deadbeef`);
  await mkdir(path.join(leftover, 'data'), { recursive: true });
  await writeFile(path.join(leftover, 'data', 'partial'), 'half');
  t.equal(await provider.findSnapshotByUid(tags.uid), undefined);
  const snap = await provider.createSnapshot({ volume: { type: 'hostpath', path: volume }, tags });
  t.same(await readdir(snapshots), [hostPathSnapshotName(tags.uid)], 'leftover removed');
  t.notOk((await readdir(path.join(snap.id, 'data'))).includes('partial'));
  // A snapshot directory without its metadata file (crash between copy and rename cannot produce one, but a
  // hand-made one can) does not count as a snapshot.
  await mkdir(path.join(snapshots, hostPathSnapshotName('no-meta')));
  t.equal(await provider.findSnapshotByUid('no-meta'), undefined);
});

t.test('errors: not a directory, foreign paths, unknown parameters, other volume types', async (t) => {
  const { root, provider, volume } = await setup(t);
  await t.rejects(provider.createSnapshot({ volume: { type: 'hostpath', path: path.join(root, 'missing') }, tags }), {
    code: 'VolumeNotFound',
    retryable: false,
  });
  await t.rejects(provider.createSnapshot({ volume: { type: 'hostpath', path: path.join(volume, 'top.txt') }, tags }), { code: 'VolumeNotFound' });
  await t.rejects(provider.createSnapshot({ volume: { type: 'aws-ebs', volumeId: 'vol-1' }, tags }), { code: 'UnsupportedVolumeSource' });
  for (const id of ['/etc', path.join(root, 'data', 'snapshots', '..', 'x'), '../../etc', path.join(root, 'data', 'snapshots', '.tmp-x')]) {
    await t.rejects(provider.getSnapshot(id), { code: 'InvalidId' }, id);
    await t.rejects(provider.deleteSnapshot(id), { code: 'InvalidId' }, id);
    await t.rejects(provider.deleteVolume({ volumeId: id }), { code: 'InvalidId' }, id);
  }
  const snap = await provider.createSnapshot({ volume: { type: 'hostpath', path: volume }, tags });
  const err = await provider.createVolume({ snapshotId: snap.id, name: 'pvc-x', sizeBytes: GiB, parameters: { type: 'ssd' } }).catch((e: unknown) => e);
  t.ok(err instanceof CloudError && err.code === 'InvalidParameter');
  t.match((err as Error).message, /unknown StorageClass parameter "type" for hostpath/);
  await t.rejects(provider.createVolume({ snapshotId: path.join(root, 'data', 'snapshots', 'nope'), name: 'pvc-x', sizeBytes: GiB, parameters: {} }), {
    notFound: true,
    name: 'CloudError',
  });
  const odd = await provider.createVolume({ snapshotId: snap.id, name: '../Escape', sizeBytes: GiB, parameters: {} });
  t.equal(path.dirname(odd.volumeId), path.join(root, 'data', 'volumes'), 'odd names stay inside the volumes directory');
});
