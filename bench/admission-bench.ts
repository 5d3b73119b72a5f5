// Admission webhook benchmarks over HTTPS with a client certificate (as the manifests configure kube-apiserver):
// validate and mutate latency at a fixed 1,000 reviews/s, and maximum throughput as a ratio to a bare fastify HTTPS
// POST echo route served by the same server in the same run. The server runs in a worker thread so that the load
// generator (autocannon) does not share its event loop.
// Alone: `node dist/bench/admission-bench.js [--quick]`.
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { generate } from 'selfsigned';
import { MUTATE_PATH, VALIDATE_PATH, admissionRoutes } from '../src/admission/admission-routes.js';
import type { AdmissionDeps } from '../src/admission/admission-review.js';
import { encodeJson } from '../src/apimachinery/json-encoding.js';
import { toStatusError } from '../src/apimachinery/status-response.js';
import {
  API_VERSION,
  PROMOTER_PROVISIONER,
  SNAPSHOT_ANNOTATION,
  type VolumeSnapshot,
  type VolumeSnapshotData,
} from '../src/apis/volumesnapshot/v1/types.js';
import { formatRows, type BenchRow } from './bench-row.js';

export type { BenchRow };

const ECHO_PATH = '/echo';
const SERVER_ROLE = 'admission-bench-server';

interface Pki {
  ca: string;
  server: { key: string; cert: string };
  client: { key: string; cert: string };
}

async function makePki(): Promise<Pki> {
  const opts = { keyType: 'ec' as const, algorithm: 'sha256' };
  const ca = await generate([{ name: 'commonName', value: 'admission-bench-ca' }], {
    ...opts,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const caPair = { key: ca.private, cert: ca.cert };
  const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    ...opts,
    ca: caPair,
    extensions: [
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const client = await generate([{ name: 'commonName', value: 'kube-apiserver-admission' }], {
    ...opts,
    ca: caPair,
    extensions: [{ name: 'extKeyUsage', clientAuth: true }],
  });
  return { ca: ca.cert, server: { key: server.private, cert: server.cert }, client: { key: client.private, cert: client.cert } };
}

// ---- the server (worker thread) ----

function benchDeps(): AdmissionDeps {
  const snapshot: VolumeSnapshot = {
    apiVersion: API_VERSION,
    kind: 'VolumeSnapshot',
    metadata: { name: 'snap1', namespace: 'default', uid: 'uid-of-snap1', resourceVersion: '5' },
    spec: { persistentVolumeClaimName: 'data', snapshotDataName: 'k8s-volume-snapshot-1' },
    status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }], restoreSize: '5Gi' },
  };
  const data: VolumeSnapshotData = {
    apiVersion: API_VERSION,
    kind: 'VolumeSnapshotData',
    metadata: { name: 'k8s-volume-snapshot-1' },
    spec: { awsElasticBlockStore: { snapshotId: 'snap-0123456789abcdef0' } },
  };
  // Lookups answer from memory, as the watch-cached store does: what is measured is the webhook, not a backend.
  return {
    restoreStorageClass: 'snapshot-promoter',
    getSnapshot: async (namespace, name) => (namespace === 'default' && name === 'snap1' ? snapshot : undefined),
    getSnapshotData: async (name) => (name === data.metadata.name ? data : undefined),
    getStorageClass: async (name) => (name === 'fast-restore' ? { metadata: { name }, provisioner: PROMOTER_PROVISIONER } : undefined),
  };
}

async function serve(pki: Pki): Promise<number> {
  const app = Fastify({
    logger: false,
    https: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca, requestCert: true, rejectUnauthorized: false },
  });
  app.setErrorHandler((err, _request, reply) => {
    const status = toStatusError(err);
    reply.code(status.code).type('application/json').send(encodeJson(status.toStatus()));
  });
  // The floor: fastify's own JSON parsing and serialization of the same body, nothing else.
  app.post(ECHO_PATH, async (request) => request.body);
  await app.register(admissionRoutes, { deps: benchDeps(), requireClientCert: true });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === SERVER_ROLE) {
  const port = await serve((workerData as { pki: Pki }).pki);
  parentPort!.postMessage({ port });
}

// ---- the load ----

function review(mutate: boolean): string {
  const object = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: 'restored',
      namespace: 'default',
      annotations: { [SNAPSHOT_ANNOTATION]: 'snap1' },
      ...(mutate ? {} : { uid: '8e5f1c8a-1b9a-4a51-9a3f-1c0e5d6b7a01', creationTimestamp: '2026-01-01T00:00:00Z' }),
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: mutate ? {} : { storage: '5Gi' } },
      ...(mutate ? {} : { storageClassName: 'fast-restore' }),
      volumeMode: 'Filesystem',
    },
    status: { phase: 'Pending' },
  };
  const gvk = { group: '', version: 'v1', kind: 'PersistentVolumeClaim' };
  const gvr = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
  return JSON.stringify({
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: 'restored',
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'alice', groups: ['system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-create' },
    },
  });
}

interface Load {
  port: number;
  pki: Pki;
  path: string;
  body: string;
  seconds: number;
  /** Requests per second across all connections; undefined = as fast as possible. */
  rate?: number;
  connections: number;
}

async function load(l: Load): Promise<autocannon.Result> {
  const result = await autocannon({
    url: `https://127.0.0.1:${l.port}${l.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: l.body,
    connections: l.connections,
    duration: l.seconds,
    // autocannon's coordinated-omission correction assumes one request per millisecond per connection whatever the
    // rate (Math.ceil(1 / rate)), which turns one slow answer into a hundred synthetic ones; report what was measured.
    ...(l.rate ? { overallRate: l.rate, ignoreCoordinatedOmission: true } : {}),
    tlsOptions: { key: l.pki.client.key, cert: l.pki.client.cert, ca: l.pki.ca },
  });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`${l.path}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  return result;
}

export async function benchAdmission(opts: { quick: boolean }): Promise<BenchRow[]> {
  const pki = await makePki();
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { role: SERVER_ROLE, pki } });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', (m: { port: number }) => resolve(m.port));
      worker.once('error', reject);
    });
    const seconds = opts.quick ? 1.5 : 10;
    const validate = review(false);
    const mutate = review(true);
    const base = { port, pki, seconds, connections: 10 };

    // Warm up the JIT on every path before measuring.
    for (const [path, body] of [
      [VALIDATE_PATH, validate],
      [MUTATE_PATH, mutate],
      [ECHO_PATH, validate],
    ] as const) {
      await load({ ...base, path, body, seconds: opts.quick ? 0.3 : 2 });
    }

    const rows: BenchRow[] = [];
    for (const [name, path, body] of [
      ['validate', VALIDATE_PATH, validate],
      ['mutate', MUTATE_PATH, mutate],
    ] as const) {
      const r = await load({ ...base, path, body, rate: 1000 });
      const note = `achieved ${Math.round(r.requests.average)} reviews/s over ${r.duration.toFixed(1)} s, ${r.requests.total} reviews`;
      rows.push(
        { name: `admission ${name} latency p50 @ 1000 reviews/s`, value: r.latency.p50, unit: 'ms', goal: '< 5 ms', met: r.latency.p50 < 5, note },
        { name: `admission ${name} latency p99 @ 1000 reviews/s`, value: r.latency.p99, unit: 'ms', goal: '< 25 ms', met: r.latency.p99 < 25, note },
      );
    }

    // Maximum throughput. The three routes take turns in short rounds so that drift (CPU frequency, the other
    // thread, GC) hits them alike; each figure is total answers over total time.
    const max = { ...base, connections: 20, seconds: opts.quick ? 1.5 : 3 };
    const rounds = opts.quick ? 1 : 4;
    const totals = { validate: { n: 0, s: 0, p99: 0 }, mutate: { n: 0, s: 0, p99: 0 }, echo: { n: 0, s: 0, p99: 0 } };
    for (let round = 0; round < rounds; round++) {
      for (const [key, path, body] of [
        ['validate', VALIDATE_PATH, validate],
        ['echo', ECHO_PATH, validate],
        ['mutate', MUTATE_PATH, mutate],
      ] as const) {
        const r = await load({ ...max, path, body });
        totals[key].n += r.requests.total;
        totals[key].s += r.duration;
        totals[key].p99 = Math.max(totals[key].p99, r.latency.p99);
      }
    }
    const perSecond = (k: keyof typeof totals) => totals[k].n / totals[k].s;
    for (const name of ['validate', 'mutate'] as const) {
      const ratio = perSecond(name) / perSecond('echo');
      rows.push({
        name: `admission ${name} max throughput`,
        value: perSecond(name),
        unit: 'req/s',
        limitName: 'bare fastify HTTPS POST echo',
        limitValue: perSecond('echo'),
        ratio,
        goal: '≥ 0.7×',
        met: ratio >= 0.7,
        note: `worst round p99 ${totals[name].p99} ms at ${max.connections} connections; review body ${Buffer.byteLength(name === 'validate' ? validate : mutate)} bytes`,
      });
    }
    return rows;
  } finally {
    await worker.terminate();
  }
}

if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchAdmission({ quick: process.argv.includes('--quick') });
  process.stdout.write(formatRows(rows));
}
