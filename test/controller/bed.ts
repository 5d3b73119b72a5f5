// The worker's test bed: a real Registry over SQLite serving our API and the local cluster's core/v1 kinds, mounted
// with the real API plugin on 127.0.0.1 (plain HTTP), and the client-node MainCluster talking to it over the wire —
// the same path the worker takes to a real cluster. The local cluster's binder binds claims and volumes.

import type { FastifyInstance } from 'fastify';
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { Registry } from '../../src/apimachinery/registry.js';
import type { KubeObject } from '../../src/apimachinery/resource-definition.js';
import { volumeSnapshotDefinitions } from '../../src/apis/volumesnapshot/v1/index.js';
import { createLocalCluster, type LocalCluster } from '../../src/localcluster/local-cluster.js';
import { adminApiApp } from '../helpers/admin-api-app.js';
import { ClientNodeMainCluster } from '../../src/cluster/main-cluster.js';
import type { Store } from '../../src/storage/store.js';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export const quietLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => quietLog,
};

export interface Bed {
  registry: Registry;
  store: Store;
  cluster: ClientNodeMainCluster;
  kc: KubeConfig;
  local: LocalCluster;
  app: FastifyInstance;
  address: string;
}

export interface BedOptions {
  /** An existing SQLite file (restart tests); default in memory. */
  storePath?: string;
}

export async function startBed(t: Teardown, options: BedOptions = {}): Promise<Bed> {
  const store = SqliteStore.open({ path: options.storePath ?? ':memory:' });
  const holder: { registry?: Registry } = {};
  const local = createLocalCluster(() => holder.registry!, { log: quietLog, resyncMs: 300 });
  const registry = new Registry({ store, definitions: [...volumeSnapshotDefinitions, ...local.definitions] });
  holder.registry = registry;
  await local.start();
  const app = await adminApiApp({ registry });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: address, skipTLSVerify: true }],
    users: [{ name: 'admin' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'admin' }],
    currentContext: 'local',
  });
  const cluster = new ClientNodeMainCluster(kc, { informerRestartMs: 200 });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await local.stop();
    await app.close();
    await store.close();
  };
  t.teardown(close);
  return { registry, store, cluster, kc, local, app, address, close } as Bed & { close(): Promise<void> };
}

export async function tempDir(t: Teardown, prefix = 'vs-worker-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Polls `fn` until it returns a truthy value (or throws after `ms`). */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const G = 'volumesnapshot.external-storage.k8s.io';
export const VS = `volumesnapshots.${G}`;
export const VSD = `volumesnapshotdatas.${G}`;

/** A PV (statically provisioned, Available) and a claim that binds to it. */
export async function createBoundClaim(
  registry: Registry,
  name: string,
  source: Record<string, unknown>,
  o: { namespace?: string; capacity?: string; labels?: Record<string, string> } = {},
): Promise<void> {
  const pv: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `pv-${name}`, ...(o.labels ? { labels: o.labels } : {}) },
    spec: { capacity: { storage: o.capacity ?? '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', ...source },
  };
  await registry.create('persistentvolumes', pv);
  await registry.create(
    'persistentvolumeclaims',
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'manual', resources: { requests: { storage: o.capacity ?? '1Gi' } } },
    },
    { namespace: o.namespace ?? 'default' },
  );
}

export async function waitBound(registry: Registry, name: string, namespace = 'default'): Promise<KubeObject> {
  return eventually(async () => {
    const pvc = await registry.get('persistentvolumeclaims', { namespace, name });
    return (pvc as { status?: { phase?: string } }).status?.phase === 'Bound' ? pvc : undefined;
  }, 10_000, `claim ${name} Bound`);
}

export function snapshotBody(name: string, claim: string): Record<string, unknown> {
  return { apiVersion: `${G}/v1`, kind: 'VolumeSnapshot', metadata: { name }, spec: { persistentVolumeClaimName: claim } };
}

export interface Cond {
  type: string;
  status: string;
  message?: string;
  reason?: string;
  lastTransitionTime?: string;
}

export function conditionsOf(obj: unknown): Cond[] {
  return ((obj as { status?: { conditions?: Cond[] } }).status?.conditions ?? []) as Cond[];
}

export function isReady(obj: unknown): boolean {
  return conditionsOf(obj).some((c) => c.type === 'Ready' && c.status === 'True');
}
