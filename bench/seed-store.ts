// Seeding a standalone server's SQLite store before it starts: VolumeSnapshots written through the Registry
// (validation, defaulting, resourceVersions as the server does) with synchronous=NORMAL (no fsync per create: this
// is set-up, not the measure). Runs in the benchmark process or, to overlap with other work, in a child
// (bench/server-main.ts `seed`).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from '../src/apimachinery/registry.js';
import { volumeSnapshotDefinitions } from '../src/apis/volumesnapshot/v1/index.js';
import { localClusterDefinitions } from '../src/localcluster/definitions.js';
import { SqliteStore } from '../src/storage/sqlite-store.js';

export const GROUP = 'volumesnapshot.external-storage.k8s.io';
const VS = `volumesnapshots.${GROUP}`;
export const LIST_NS = 'bench-list';
export const LIST_SIZE = 10_000;

/** Where the i-th seeded snapshot lives. */
export type Placement = (i: number) => string;
export const placements = {
  /** All in `default`. */
  small: (() => 'default') as Placement,
  /** The first LIST_SIZE in LIST_NS (the list rows), the rest spread over ten namespaces. */
  large: ((i: number) => (i < LIST_SIZE ? LIST_NS : `bulk-${i % 10}`)) as Placement,
};

/** Writes `count` VolumeSnapshots into `<dataDir>/store.db`; returns the milliseconds it took. */
export async function seed(dataDir: string, count: number, namespaceOf: Placement): Promise<number> {
  const started = performance.now();
  mkdirSync(dataDir, { recursive: true });
  const store = SqliteStore.open({ path: join(dataDir, 'store.db'), synchronous: 'NORMAL' });
  try {
    const registry = new Registry({ store, definitions: [...volumeSnapshotDefinitions, ...localClusterDefinitions()] });
    const namespaces = new Set(Array.from({ length: Math.min(count, 100) }, (_, i) => namespaceOf(i)));
    for (let i = 0; i < count; i += 1000) namespaces.add(namespaceOf(i));
    namespaces.add('default');
    for (const name of namespaces) await registry.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    for (let i = 0; i < count; i++) {
      await registry.create(
        VS,
        {
          apiVersion: `${GROUP}/v1`,
          kind: 'VolumeSnapshot',
          metadata: { name: `s-${i}`, labels: { app: 'bench', shard: String(i % 16) } },
          spec: { persistentVolumeClaimName: `data-${i % 100}` },
        },
        { namespace: namespaceOf(i) },
      );
    }
  } finally {
    await store.close();
  }
  return performance.now() - started;
}

