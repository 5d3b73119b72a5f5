import t from 'tap';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { LazyChildLogger } from '../../src/server/lazy-child-logger.js';
import { buildServer, certificateAuthenticator } from '../../src/server/app.js';
import { HealthChecks } from '../../src/server/health.js';
import { ensurePki } from '../../src/server/pki.js';
import { X509Authenticator, parsePemBundle } from '../../src/server/x509-authenticator.js';
import { httpsRequest } from '../helpers/https-client.js';

type Line = Record<string, unknown>;

function capturedLogger(level: string) {
  const lines: Line[] = [];
  const app = Fastify({ logger: { level, stream: { write: (l: string) => void lines.push(JSON.parse(l) as Line) } } });
  return { log: app.log, lines };
}

t.test('the child is made on the first line logged through it, once, and logs what a child would', async (t) => {
  const { log, lines } = capturedLogger('info');
  let made = 0;
  const counting = new Proxy(log, {
    get(target, prop, receiver) {
      if (prop === 'child') {
        return (...args: Parameters<FastifyBaseLogger['child']>) => {
          made++;
          return target.child(...args);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const lazy = new LazyChildLogger(counting, { reqId: 'req-7' }, {});
  t.equal(lazy.level, 'info', 'the level is the parent level until a child exists');
  lazy.debug('below the level');
  t.equal(made, 1, 'a call makes the child (pino decides what is written)');
  lazy.info({ a: 1 }, 'first');
  lazy.warn('second');
  t.equal(made, 1, 'only once');
  log.child({ reqId: 'req-7' }).info({ a: 1 }, 'first');
  const strip = ({ time: _time, ...rest }: Line) => rest;
  t.same(lines.map(strip), [
    { level: 30, pid: process.pid, hostname: os.hostname(), reqId: 'req-7', a: 1, msg: 'first' },
    { level: 40, pid: process.pid, hostname: os.hostname(), reqId: 'req-7', msg: 'second' },
    { level: 30, pid: process.pid, hostname: os.hostname(), reqId: 'req-7', a: 1, msg: 'first' },
  ]);
  t.same(strip(lines[0]), strip(lines[2]), 'the same line as a pino child writes');

  const untouched = new LazyChildLogger(counting, { reqId: 'req-8' }, {});
  t.equal(untouched.level, 'info');
  t.equal(made, 1, 'no child for a logger nothing was logged through');
});

t.test('the request line carries the request id, and a line logged by a handler the same id', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lazy-log-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const { files } = await ensurePki({ certDir: dir, serviceName: 's', serviceNamespace: 'n' });
  const read = (f: string) => fs.readFile(f, 'utf8');
  const ca = await read(files.caCert);
  const lines: Line[] = [];
  const app = await buildServer({
    tls: { cert: await read(files.servingCert), key: await read(files.servingKey), clientCaPems: [ca], minVersion: 'TLSv1.2' },
    authenticator: certificateAuthenticator(new X509Authenticator(parsePemBundle(ca))),
    health: new HealthChecks(),
    logLevel: 'info',
    logStream: { write: (l: string) => void lines.push(JSON.parse(l) as Line) },
    mount: async (app) => {
      app.get('/quiet', async () => ({ ok: true }));
      app.get('/chatty', async (req) => {
        req.log.warn({ detail: 'x' }, 'handler says');
        return { ok: true };
      });
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const admin = { ca, cert: await read(files.adminCert), key: await read(files.adminKey) };
  t.equal((await httpsRequest({ url: `${url}/quiet?x=1`, ...admin })).status, 200);
  t.equal((await httpsRequest({ url: `${url}/chatty`, ...admin })).status, 200);
  const requests = lines.filter((l) => l.msg === 'request');
  t.equal(requests.length, 2);
  t.match(requests[0], { level: 30, reqId: String, user: 'admin', verb: 'GET', path: '/quiet?x=1', code: 200, latencyMs: Number });
  const said = lines.find((l) => l.msg === 'handler says');
  t.match(said, { level: 40, detail: 'x', reqId: String });
  t.equal(said!.reqId, requests[1].reqId, 'the handler line and the request line name the same request');
  t.not(requests[0].reqId, requests[1].reqId);
});
