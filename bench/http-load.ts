// Load on loopback HTTPS with the admin client certificate: autocannon for throughput and latency under load, and a
// keep-alive sequential client for large answers (lists) where per-request time and bytes are the figures.
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { ClientTls } from './server-process.js';

export interface LoadOptions {
  port: number;
  tls: ClientTls;
  method?: 'GET' | 'POST';
  /** One path, or several taken in turn (autocannon `requests`, one per request). */
  path: string | string[];
  body?: string;
  /** Replace `[<id>]` in the body with a fresh id per request (unique names for creates). autocannon's own
   *  idReplacement sends nothing at all in autocannon 8 here, so this is done with setupRequest. */
  idReplacement?: boolean;
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  /** Requests per second across all connections; undefined = as fast as possible. */
  rate?: number;
}

let ids = 0;
const run = Date.now().toString(36);
const nextId = () => `${run}-${(ids++).toString(36)}`;

export async function load(o: LoadOptions): Promise<autocannon.Result> {
  const paths = Array.isArray(o.path) ? o.path : [o.path];
  const result = await autocannon({
    url: `https://127.0.0.1:${o.port}`,
    method: o.method ?? 'GET',
    headers: { accept: 'application/json', ...(o.body ? { 'content-type': 'application/json' } : {}), ...o.headers },
    ...(o.body ? { body: o.body } : {}),
    requests: paths.map((path) => ({
      path,
      ...(o.idReplacement && o.body ? { setupRequest: (req: autocannon.Request) => ({ ...req, body: o.body!.replace('[<id>]', nextId()) }) } : {}),
    })),
    connections: o.connections,
    duration: o.seconds,
    // autocannon's coordinated-omission correction assumes one request per millisecond per connection whatever the
    // rate; report what was measured.
    ...(o.rate ? { overallRate: o.rate, ignoreCoordinatedOmission: true } : {}),
    tlsOptions: { key: o.tls.key, cert: o.tls.cert, ca: o.tls.ca },
  });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`${o.method ?? 'GET'} ${paths[0]}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  return result;
}

export interface Answer {
  status: number;
  body: Buffer;
  ms: number;
}

/** One request; resolves when the whole answer is read. */
export function request(
  agent: https.Agent,
  port: number,
  path: string,
  opts: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        agent,
        headers: { accept: 'application/json', ...(opts.body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: performance.now() - started }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function clientAgent(tls: ClientTls, maxSockets = 16): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets, key: tls.key, cert: tls.cert, ca: tls.ca });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)]!;
}
