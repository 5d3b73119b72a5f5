// What every hardening suite needs: the real server process, a client per identity (admin, viewer, anonymous,
// front-proxy), and a dump of everything the store holds so a suite can prove nothing was lost or written by accident.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { httpsRequest, type HttpsRequest, type HttpsResponse } from '../helpers/https-client.js';
import type { TestServer } from '../helpers/test-server.js';

export const GROUP = 'volumesnapshot.external-storage.k8s.io';
export const GV = `/apis/${GROUP}/v1`;
export const SNAPSHOTS = `${GV}/namespaces/default/volumesnapshots`;
export const API_VERSION = `${GROUP}/v1`;

export type Identity = 'admin' | 'viewer' | 'anonymous' | 'front-proxy-client';

export interface Credentials {
  ca: Buffer;
  certs: Record<Identity, { cert?: Buffer; key?: Buffer }>;
}

export async function loadCredentials(certDir: string): Promise<Credentials> {
  const read = (f: string) => fs.readFile(path.join(certDir, f));
  const pair = async (name: string) => ({ cert: await read(`${name}.crt`), key: await read(`${name}.key`) });
  return {
    ca: await read('ca.crt'),
    certs: {
      admin: await pair('admin'),
      viewer: await pair('viewer'),
      anonymous: {},
      'front-proxy-client': await pair('front-proxy-client'),
    },
  };
}

export interface Client {
  request(r: Omit<HttpsRequest, 'url' | 'ca' | 'cert' | 'key'> & { path: string; as?: Identity }): Promise<HttpsResponse>;
  json<T = Record<string, unknown>>(method: string, p: string, body?: unknown, as?: Identity): Promise<{ status: number; body: T }>;
}

export function makeClient(server: Pick<TestServer, 'url'>, creds: Credentials): Client {
  const request: Client['request'] = (r) => {
    const id = creds.certs[r.as ?? 'admin'];
    // Node sends a DELETE body with neither Content-Length nor chunking unless told the length.
    const headers = { ...r.headers };
    if (r.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(Buffer.byteLength(r.body));
    }
    return httpsRequest({ ...r, headers, url: server.url + r.path, ca: creds.ca, cert: id.cert, key: id.key });
  };
  return {
    request,
    async json(method, p, body, as) {
      const res = await request({
        path: p,
        method,
        as,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.body);
      } catch {
        parsed = { raw: res.body };
      }
      return { status: res.status, body: parsed as never };
    },
  };
}

/** Every collection the standalone server stores, listed across namespaces. */
export const ALL_COLLECTIONS = [
  `${GV}/volumesnapshots`,
  `${GV}/volumesnapshotdatas`,
  '/api/v1/namespaces',
  '/api/v1/persistentvolumeclaims',
  '/api/v1/persistentvolumes',
  '/api/v1/events',
  '/api/v1/pods',
  '/apis/storage.k8s.io/v1/storageclasses',
  '/apis/coordination.k8s.io/v1/leases',
];

export interface StoredObject {
  metadata: { name: string; namespace?: string; uid: string; resourceVersion: string };
  [k: string]: unknown;
}

/** collection → "namespace/name" → object, for every collection the server stores. */
export async function dumpStore(client: Client): Promise<Record<string, Record<string, StoredObject>>> {
  const out: Record<string, Record<string, StoredObject>> = {};
  for (const c of ALL_COLLECTIONS) {
    const res = await client.json<{ items: StoredObject[] }>('GET', c);
    if (res.status !== 200) throw new Error(`listing ${c}: ${res.status} ${JSON.stringify(res.body)}`);
    out[c] = {};
    for (const item of res.body.items) out[c][`${item.metadata.namespace ?? ''}/${item.metadata.name}`] = item;
  }
  return out;
}

export function snapshotBody(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: 'VolumeSnapshot',
    metadata: { name, ...((extra.metadata as object) ?? {}) },
    spec: { persistentVolumeClaimName: 'claim', ...((extra.spec as object) ?? {}) },
  };
}

/** The server's own process statistics, read from /proc (Linux). */
export async function processStats(pid: number): Promise<{ rssBytes: number; fds: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  const fds = (await fs.readdir(`/proc/${pid}/fd`)).length;
  return { rssBytes: rss ? Number(rss[1]) * 1024 : 0, fds };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
