// Child-process entry of the API benchmarks: `real` runs the server as `serve` does (src/serve.ts, options parsed
// from the same flags), `bare` a fastify HTTPS server with the same certificate and TLS settings whose routes do
// nothing but answer fixed bytes (GET) or echo the body (POST) — the limit the real server is compared with.
// Each server lives in its own process so that the load generator does not share its event loop, and so that its
// RSS can be read from /proc. It reports `{ port }` over IPC once it listens, then waits to be killed.
// `host` keeps one process and starts/closes real servers on command (time to ready without the module loading).
// `seed <data-dir> <count> small|large` fills a store before a server starts on it (bench/seed-store.ts).
import { promises as fs } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import { parseFlags, serveFlags, type ServeOptions } from '../src/config.js';
import { pkiFiles } from '../src/server/pki.js';
import { placements, seed } from './seed-store.js';

// src/serve.js is imported only where a real server runs: with the cloud SDKs it takes seconds to load, which the
// bare server and the seeders should not pay.
async function startReal(argv: string[]): Promise<number> {
  const { serve } = await import('../src/serve.js');
  const opts = parseFlags<ServeOptions>(serveFlags, argv);
  // --secure-port refuses 0; the benchmark wants a free port chosen by the kernel.
  const server = await serve({ ...opts, securePort: 0 });
  process.on('SIGTERM', () => void server.close().finally(() => process.exit(0)));
  return server.port;
}

async function startBare(certDir: string): Promise<number> {
  const files = pkiFiles(certDir);
  const [cert, key, ca] = await Promise.all([
    fs.readFile(files.servingCert),
    fs.readFile(files.servingKey),
    fs.readFile(files.caCert),
  ]);
  // The same TLS options as src/server/app.ts: optional client certificates verified against the cluster CA.
  const app = Fastify({
    logger: false,
    https: { cert, key, ca: [ca], requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
  });
  let body = Buffer.from('{}');
  process.on('message', (m: { body?: string }) => {
    if (typeof m.body === 'string') {
      body = Buffer.from(m.body);
      process.send!({ bodySet: true });
    }
  });
  app.get('/bare', async (_request, reply) => reply.type('application/json').send(body));
  app.post('/echo', async (request) => request.body);
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.on('SIGTERM', () => void app.close().finally(() => process.exit(0)));
  return (app.server.address() as AddressInfo).port;
}

/** `host`: modules loaded once, then servers started and closed on command — restarts without the process start. */
async function host(): Promise<void> {
  const { serve } = await import('../src/serve.js');
  let current: Awaited<ReturnType<typeof serve>> | undefined;
  process.on('message', (m: { serve?: string[]; close?: boolean }) => {
    void (async () => {
      try {
        if (m.serve) {
          const started = performance.now();
          current = await serve({ ...parseFlags<ServeOptions>(serveFlags, m.serve), securePort: 0 });
          process.send!({ port: current.port, serveMs: performance.now() - started });
        } else if (m.close) {
          await current?.close();
          current = undefined;
          process.send!({ closed: true });
        }
      } catch (err) {
        process.send!({ error: (err as Error).stack ?? String(err) });
      }
    })();
  });
  process.on('SIGTERM', () => void (current?.close() ?? Promise.resolve()).finally(() => process.exit(0)));
  process.send!({ hostReady: true });
}

// A benchmark killed over its time budget must not leave its servers behind: they go when the parent does.
process.on('disconnect', () => process.exit(0));

const [kind, ...rest] = process.argv.slice(2);
if (kind === 'host') {
  await host();
} else if (kind === 'seed') {
  const [dataDir, count, placement] = rest as [string, string, keyof typeof placements];
  process.send!({ seedMs: await seed(dataDir, Number(count), placements[placement]) }, () => process.exit(0));
} else {
  const port = kind === 'bare' ? await startBare(rest[0]!) : await startReal(rest);
  process.send!({ port });
}
