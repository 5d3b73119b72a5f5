#!/usr/bin/env node
// Migration from the original (external-storage's CRDs) to this server: `export` reads every VolumeSnapshotData and
// VolumeSnapshot the CRDs hold in the main cluster into a file; `import` writes them into this server's store with
// their names, uids, creation times, labels, annotations and status. A cluster cannot serve a group both from CRDs
// and from an APIService, so the CRDs are deleted between the two steps (see manifests/README.md, "Migration").
//
// The import runs in-process on the data dir while the server is stopped: the API would give every object a new
// uid (metadata.uid is set by the server on create, as upstream's rest.BeforeCreate does), and PVs, PVCs and events
// refer to snapshots by uid. It still goes through the Registry, so every object passes the same defaulting and
// validation as one created over the API.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { Registry } from '../apimachinery/registry.js';
import { StatusError } from '../apimachinery/status-error.js';
import { GROUP, VERSION } from '../apis/volumesnapshot/v1/types.js';
import { volumeSnapshotDataDefinition, volumeSnapshotDefinition, volumeSnapshotDefinitions } from '../apis/volumesnapshot/v1/index.js';
import { SqliteStore } from '../storage/sqlite-store.js';
import type { Store } from '../storage/store.js';

export interface ExportedObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

/** The export file: a v1 List, VolumeSnapshotData first (snapshots name them). */
export interface ExportFile {
  apiVersion: 'v1';
  kind: 'List';
  items: ExportedObject[];
}

export type ImportOutcome = 'imported' | 'unchanged' | 'conflict' | 'invalid';

export interface ImportResult {
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
  outcome: ImportOutcome;
  message?: string;
}

/** Reads both kinds from the CRDs of the main cluster (any server that serves the group's paths will do). */
export async function exportCrdObjects(kc: KubeConfig): Promise<ExportFile> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const datas = (await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'volumesnapshotdatas' })) as { items: ExportedObject[] };
  const snapshots = (await api.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, plural: 'volumesnapshots' })) as { items: ExportedObject[] };
  const tag = (kind: string) => (o: ExportedObject) => ({ ...o, apiVersion: `${GROUP}/${VERSION}`, kind });
  return { apiVersion: 'v1', kind: 'List', items: [...datas.items.map(tag('VolumeSnapshotData')), ...snapshots.items.map(tag('VolumeSnapshot'))] };
}

/**
 * Go's encoders wrote unset pointers as null (`lastTransitionTime: null`, `creationTimestamp: null` in the seed's
 * output); our schemas, like kube-apiserver's for built-in types, read null as absent.
 */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => withoutNulls(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
    return out as T;
  }
  return value;
}

/** What the API server owns and the import sets itself (uid and time) or leaves to the store (resourceVersion). */
const SERVER_OWNED = ['resourceVersion', 'selfLink', 'generation', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/** Imports into the store through a Registry whose uid and clock are those of the object being imported. */
export async function importObjects(store: Store, file: ExportFile, options: { dryRun?: boolean } = {}): Promise<ImportResult[]> {
  let uid = '';
  let created = new Date();
  const registry = new Registry({ store, definitions: volumeSnapshotDefinitions, uid: () => uid, clock: () => created });
  const order = (o: ExportedObject) => (o.kind === 'VolumeSnapshotData' ? 0 : 1);
  const results: ImportResult[] = [];
  for (const raw of [...file.items].sort((a, b) => order(a) - order(b))) {
    const def = raw.kind === 'VolumeSnapshotData' ? volumeSnapshotDataDefinition : raw.kind === 'VolumeSnapshot' ? volumeSnapshotDefinition : undefined;
    const item = withoutNulls(raw);
    const result: ImportResult = { kind: String(raw.kind), name: item.metadata?.name, uid: String(item.metadata?.uid ?? ''), outcome: 'invalid' };
    results.push(result);
    if (!def) {
      result.message = `unknown kind ${String(raw.kind)}`;
      continue;
    }
    if (def.namespaced) result.namespace = item.metadata.namespace;
    if (!item.metadata?.name || !item.metadata.uid) {
      result.message = 'metadata.name and metadata.uid are required';
      continue;
    }
    const target = { name: item.metadata.name, ...(def.namespaced ? { namespace: item.metadata.namespace } : {}) };
    const existing = await registry.get(def, target).catch((err: unknown) => {
      if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
      throw err;
    });
    if (existing) {
      const same = existing.metadata.uid === item.metadata.uid;
      result.outcome = same ? 'unchanged' : 'conflict';
      if (!same) result.message = `exists with uid ${String(existing.metadata.uid)}`;
      continue;
    }
    const metadata: Record<string, unknown> = { ...item.metadata };
    for (const f of [...SERVER_OWNED, 'uid', 'creationTimestamp']) delete metadata[f];
    uid = item.metadata.uid;
    const parsed = item.metadata.creationTimestamp ? Date.parse(item.metadata.creationTimestamp) : NaN;
    created = Number.isNaN(parsed) ? new Date() : new Date(parsed);
    try {
      const body = { apiVersion: `${GROUP}/${VERSION}`, kind: def.kind, metadata, spec: item.spec };
      let obj = await registry.create(def, body, { namespace: item.metadata.namespace, dryRun: options.dryRun });
      if (item.status && Object.keys(item.status).length > 0 && !options.dryRun) {
        obj = await registry.updateStatus(def, { ...obj, status: item.status }, target);
      }
      result.outcome = 'imported';
    } catch (err) {
      result.message = err instanceof Error ? err.message : String(err);
    }
  }
  return results;
}

const USAGE = `Usage:
  node dist/src/migrate/import-crd-objects.js export [--kubeconfig FILE] --output FILE
      Read every VolumeSnapshotData and VolumeSnapshot from the original CRDs of ${GROUP} into FILE (a v1 List).
      --kubeconfig: the main cluster (default: KUBECONFIG, ~/.kube/config, then the in-cluster configuration).
  node dist/src/migrate/import-crd-objects.js import --data-dir DIR --input FILE [--dry-run]
      Write them into the SQLite store DIR/store.db with their names, uids, creation times and status. The server
      must be stopped. Existing objects with the same uid are left alone; with another uid they are reported.
`;

function flag(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = argv[i];
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'export') {
    const output = flag(rest, 'output');
    if (!output) {
      out.write(USAGE);
      return 2;
    }
    const kc = new KubeConfig();
    const file = flag(rest, 'kubeconfig');
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
    const exported = await exportCrdObjects(kc);
    await fs.writeFile(output, JSON.stringify(exported, null, 2) + '\n');
    const count = (k: string) => exported.items.filter((o) => o.kind === k).length;
    out.write(`exported ${count('VolumeSnapshotData')} volumesnapshotdatas and ${count('VolumeSnapshot')} volumesnapshots to ${output}\n`);
    return 0;
  }
  if (command === 'import') {
    const dataDir = flag(rest, 'data-dir');
    const input = flag(rest, 'input');
    if (!dataDir || !input) {
      out.write(USAGE);
      return 2;
    }
    const file = JSON.parse(await fs.readFile(input, 'utf8')) as ExportFile;
    if (file.kind !== 'List' || !Array.isArray(file.items)) throw new Error(`${input} is not a List written by export`);
    await fs.mkdir(dataDir, { recursive: true });
    const store = SqliteStore.open({ path: path.join(dataDir, 'store.db') });
    try {
      const results = await importObjects(store, file, { dryRun: rest.includes('--dry-run') });
      for (const r of results) {
        out.write(`${r.outcome}\t${r.kind}\t${r.namespace ? `${r.namespace}/` : ''}${r.name}\t${r.uid}${r.message ? `\t${r.message}` : ''}\n`);
      }
      return results.some((r) => r.outcome === 'conflict' || r.outcome === 'invalid') ? 1 : 0;
    } finally {
      await store.close();
    }
  }
  out.write(USAGE);
  return command === '--help' || command === '-h' ? 0 : 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
