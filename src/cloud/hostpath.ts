// hostpath, for standalone mode: a snapshot is a copy of the volume's directory, a restore a copy back out.
// Layout under the data directory:
//   snapshots/<snapshot-name>/meta.json   who it is for (uid → idempotency), source, size, time
//   snapshots/<snapshot-name>/data/       the copy
//   volumes/<pv-name>/                    a restored volume
// Every copy is written under a `.tmp-…` name and renamed into place, so a crash never leaves a half copy that
// looks complete; leftovers of a crashed attempt are removed by the next one.

import { randomBytes, createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, rename, rm, stat, writeFile, lstat } from 'node:fs/promises';
import path from 'node:path';
import { CloudError } from './cloud-error.js';
import type {
  CloudProvider,
  CreateSnapshotInput,
  CreateVolumeInput,
  SnapshotInfo,
  SnapshotTags,
  VolumeInfo,
  VolumeRef,
  VolumeSource,
} from './provider.js';
import { GiB, roundUpToGiB } from './provider.js';
import { parseHostPathParameters } from './volume-parameters.js';

export interface HostPathProviderOptions {
  /** --data-dir: snapshots and restored volumes live under it. */
  dataDir: string;
}

interface SnapshotMeta {
  tags: SnapshotTags;
  source: string;
  sizeBytes: number;
  createdAt: string;
  description?: string;
}

const SAFE_NAME = /^[a-z0-9]([-a-z0-9.]{0,200}[a-z0-9])?$/;

function safeName(prefix: string, key: string): string {
  const candidate = `${prefix}${key}`;
  return SAFE_NAME.test(candidate) && !candidate.includes('..')
    ? candidate
    : `${prefix}${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

/** Directory name of the snapshot made for a VolumeSnapshot uid. */
export function hostPathSnapshotName(uid: string): string {
  return safeName('snapshot-', uid);
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Total size of the regular files under `dir`. */
async function du(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await du(p);
    else if (entry.isFile()) total += (await stat(p)).size;
  }
  return total;
}

function ioError(err: unknown, what: string): CloudError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  // Out of space or too many open files may pass; a missing or unreadable source will not.
  const retryable = code === 'ENOSPC' || code === 'EMFILE' || code === 'ENFILE' || code === 'EBUSY' || code === 'EAGAIN';
  return new CloudError({ code, message: `${what}: ${(err as Error).message}`, retryable, cause: err });
}

/**
 * Deletes a snapshot or volume directory (gone already is fine). It is renamed to a hidden `.tmp-deleting-` name
 * first, so that a crash half-way through the removal leaves nothing that still looks whole (removeLeftovers clears it).
 */
async function removeWhole(dir: string): Promise<void> {
  const doomed = path.join(path.dirname(dir), `.tmp-deleting-${path.basename(dir)}-${randomBytes(4).toString('hex')}`);
  try {
    await rename(dir, doomed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError(err, `deleting ${dir}`);
  }
  await rm(doomed, { recursive: true, force: true });
}

export class HostPathProvider implements CloudProvider {
  readonly name = 'hostpath' as const;
  readonly snapshotsDir: string;
  readonly volumesDir: string;

  constructor(options: HostPathProviderOptions) {
    const root = path.resolve(options.dataDir);
    this.snapshotsDir = path.join(root, 'snapshots');
    this.volumesDir = path.join(root, 'volumes');
  }

  async createSnapshot(input: CreateSnapshotInput): Promise<SnapshotInfo> {
    if (input.volume.type !== 'hostpath') {
      throw CloudError.terminal('UnsupportedVolumeSource', `the hostpath provider cannot snapshot a ${input.volume.type} volume`);
    }
    const existing = await this.findSnapshotByUid(input.tags.uid);
    if (existing) return existing;
    const source = path.resolve(input.volume.path);
    const st = await stat(source).catch(() => undefined);
    if (!st?.isDirectory()) throw CloudError.terminal('VolumeNotFound', `hostPath volume "${source}" is not a directory`);
    const name = hostPathSnapshotName(input.tags.uid);
    const final = path.join(this.snapshotsDir, name);
    await mkdir(this.snapshotsDir, { recursive: true });
    await this.removeLeftovers(this.snapshotsDir, name);
    const tmp = path.join(this.snapshotsDir, `.tmp-${name}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(tmp);
      await cp(source, path.join(tmp, 'data'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      const meta: SnapshotMeta = {
        tags: input.tags,
        source,
        sizeBytes: await du(path.join(tmp, 'data')),
        createdAt: new Date().toISOString(),
      };
      if (input.description) meta.description = input.description;
      await writeFile(path.join(tmp, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      // Another caller finished the same snapshot first: theirs is as good as ours.
      const raced = await this.findSnapshotByUid(input.tags.uid);
      if (raced) return raced;
      throw ioError(err, `copying ${source}`);
    }
    return this.getSnapshot(final);
  }

  async findSnapshotByUid(uid: string, _volume?: VolumeSource): Promise<SnapshotInfo | undefined> {
    const dir = path.join(this.snapshotsDir, hostPathSnapshotName(uid));
    const meta = await this.readMeta(dir);
    return meta && meta.tags.uid === uid ? this.infoOf(dir, meta) : undefined;
  }

  async getSnapshot(id: string): Promise<SnapshotInfo> {
    const dir = this.inside(this.snapshotsDir, id, 'snapshot');
    const meta = await this.readMeta(dir);
    if (!meta) throw CloudError.notFound('SnapshotNotFound', `hostpath snapshot "${id}" not found`);
    return this.infoOf(dir, meta);
  }

  async deleteSnapshot(id: string): Promise<void> {
    await removeWhole(this.inside(this.snapshotsDir, id, 'snapshot'));
  }

  async createVolume(input: CreateVolumeInput): Promise<VolumeInfo> {
    parseHostPathParameters(input.parameters);
    const snapshot = await this.getSnapshot(input.snapshotId);
    const sizeBytes = roundUpToGiB(Math.max(input.sizeBytes, snapshot.sizeBytes ?? 0)) * GiB;
    const name = safeName('', input.name);
    const final = path.join(this.volumesDir, name);
    if (await exists(final)) return this.volumeInfoOf(final, sizeBytes);
    await mkdir(this.volumesDir, { recursive: true });
    await this.removeLeftovers(this.volumesDir, name);
    const tmp = path.join(this.volumesDir, `.tmp-${name}-${randomBytes(4).toString('hex')}`);
    try {
      await cp(path.join(snapshot.id, 'data'), tmp, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (await exists(final)) return this.volumeInfoOf(final, sizeBytes);
      throw ioError(err, `restoring ${snapshot.id}`);
    }
    return this.volumeInfoOf(final, sizeBytes);
  }

  async getVolume(ref: VolumeRef): Promise<VolumeInfo> {
    const dir = this.inside(this.volumesDir, ref.volumeId, 'volume');
    if (!(await exists(dir))) throw CloudError.notFound('VolumeNotFound', `hostpath volume "${ref.volumeId}" not found`);
    return this.volumeInfoOf(dir, roundUpToGiB(await du(dir)) * GiB);
  }

  async deleteVolume(ref: VolumeRef): Promise<void> {
    await removeWhole(this.inside(this.volumesDir, ref.volumeId, 'volume'));
  }

  async close(): Promise<void> {}

  private volumeInfoOf(dir: string, sizeBytes: number): VolumeInfo {
    return { kind: 'hostPath', volumeId: dir, sizeBytes, state: 'available' };
  }

  private infoOf(dir: string, meta: SnapshotMeta): SnapshotInfo {
    return { id: dir, state: 'ready', progress: 100, sizeBytes: meta.sizeBytes, createdAt: new Date(meta.createdAt) };
  }

  private async readMeta(dir: string): Promise<SnapshotMeta | undefined> {
    try {
      return JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as SnapshotMeta;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw ioError(err, `reading ${dir}`);
    }
  }

  /** An id must name a direct child of our own directory: never a path elsewhere on the host. */
  private inside(root: string, id: string, what: string): string {
    const resolved = path.resolve(root, id);
    if (path.dirname(resolved) !== root || path.basename(resolved).startsWith('.')) {
      throw CloudError.terminal('InvalidId', `"${id}" is not a hostpath ${what} of this server`);
    }
    return resolved;
  }

  private async removeLeftovers(root: string, name: string): Promise<void> {
    for (const entry of await readdir(root)) {
      if (entry.startsWith(`.tmp-${name}-`) || entry.startsWith(`.tmp-deleting-${name}-`)) await rm(path.join(root, entry), { recursive: true, force: true });
    }
  }
}
