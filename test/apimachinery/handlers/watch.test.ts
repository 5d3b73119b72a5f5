// The watch stream's wire form under fan-out: lines shared between watches are byte for byte what encodeJson writes
// for each form (plain, PartialObjectMetadata, selector-filtered, Table), events of one burst leave in fewer HTTP
// chunks than events, and a client that stops reading is ended as too slow instead of buffered without bound.
import t from 'tap';
import net from 'node:net';
import Fastify from 'fastify';
import { SqliteStore } from '../../../src/storage/sqlite-store.js';
import { Registry } from '../../../src/apimachinery/registry.js';
import { apiPlugin, OpenWatches } from '../../../src/apimachinery/api-plugin.js';
import { encodeJson } from '../../../src/apimachinery/json-encoding.js';
import { volumeSnapshotDefinitions } from '../../../src/apis/volumesnapshot/v1/index.js';
import type { Store } from '../../../src/storage/store.js';

const G = 'volumesnapshot.external-storage.k8s.io';
const PATH = `/apis/${G}/v1/namespaces/default/volumesnapshots`;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function start(t: { teardown(fn: () => unknown): void }, maxQueuedEvents?: number) {
  const store = SqliteStore.open({ path: ':memory:' });
  // The registry does not choose a watch's queue bound; a small one makes "too slow" reachable in a test.
  const bounded = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'watch' && maxQueuedEvents) {
        return (resource: string, opts: Parameters<Store['watch']>[1]) => target.watch(resource, { ...opts, maxQueuedEvents });
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const registry = new Registry({ store: bounded, definitions: volumeSnapshotDefinitions });
  const openWatches = new OpenWatches();
  const app = Fastify({ forceCloseConnections: true });
  app.addHook('onRequest', async (req) => {
    req.user = { username: 'admin', groups: ['system:masters'] };
  });
  await app.register(apiPlugin, { registry, openWatches });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as net.AddressInfo).port;
  t.teardown(async () => {
    openWatches.endAll();
    await app.close();
    await store.close();
  });
  return { port, registry };
}

/** A watch read off a raw socket: the chunk sizes as sent and the newline-framed lines they carry. */
function rawWatch(port: number, query: string, accept = 'application/json') {
  const socket = net.connect(port, '127.0.0.1');
  socket.write(`GET ${PATH}?${query} HTTP/1.1\r\nhost: x\r\naccept: ${accept}\r\n\r\n`);
  const got = { status: 0, chunks: [] as number[], lines: [] as string[], ended: false, socket };
  let buf = Buffer.alloc(0);
  let headersDone = false;
  let body = '';
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (!headersDone) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      got.status = Number(/^HTTP\/1\.1 (\d+)/.exec(buf.subarray(0, end).toString('latin1'))?.[1]);
      buf = buf.subarray(end + 4);
      headersDone = true;
    }
    for (;;) {
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const size = parseInt(buf.subarray(0, eol).toString('latin1'), 16);
      if (buf.length < eol + 2 + size + 2) return;
      if (size === 0) {
        got.ended = true;
        return;
      }
      got.chunks.push(size);
      body += buf.subarray(eol + 2, eol + 2 + size).toString('utf8');
      buf = buf.subarray(eol + 2 + size + 2);
      const parts = body.split('\n');
      body = parts.pop()!;
      got.lines.push(...parts.map((l) => `${l}\n`));
    }
  });
  return got;
}

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const snap = (i: number, extra: Json = {}) => ({
  apiVersion: `${G}/v1`,
  kind: 'VolumeSnapshot',
  // `<&>` must leave as Go escapes (\u003c…) in every form.
  metadata: { name: `s-${i}`, labels: { app: i % 2 ? 'odd' : 'even' }, annotations: { note: `<a&b> ${i}` }, ...extra },
  spec: { persistentVolumeClaimName: 'pvc' },
});

t.test('watches of one resource: each form byte for byte as encodeJson writes it, bursts in fewer chunks', async (t) => {
  const { port, registry } = await start(t);
  const plainA = rawWatch(port, 'watch=true');
  const plainB = rawWatch(port, 'watch=true');
  const meta = rawWatch(port, 'watch=true', 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io');
  const odd = rawWatch(port, 'watch=true&labelSelector=app%3Dodd');
  const table = rawWatch(port, 'watch=true', 'application/json;as=Table;v=v1;g=meta.k8s.io');
  const all = [plainA, plainB, meta, odd, table];
  await until(() => all.every((w) => w.status === 200));
  // Watches are subscribed once their headers are out; give the last one a moment to be registered.
  await new Promise((r) => setTimeout(r, 50));

  const n = 12;
  const created = await Promise.all(Array.from({ length: n }, (_, i) => registry.create('volumesnapshots.' + G, snap(i), { namespace: 'default' })));
  await until(() => plainA.lines.length === n && plainB.lines.length === n && meta.lines.length === n && odd.lines.length === n / 2 && table.lines.length === n);

  const byName = new Map(created.map((o) => [o.metadata.name, o]));
  for (const [i, line] of plainA.lines.entries()) {
    const event = JSON.parse(line) as Json;
    t.equal(line, encodeJson({ type: 'ADDED', object: byName.get(event.object.metadata.name) }), `plain line ${i}`);
    t.match(line, /\\u003ca\\u0026b\\u003e/);
  }
  t.same(plainB.lines, plainA.lines, 'two plain watches get the same bytes');
  for (const line of meta.lines) {
    const event = JSON.parse(line) as Json;
    const obj = byName.get(event.object.metadata.name)!;
    t.equal(line, encodeJson({ type: 'ADDED', object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata } }));
  }
  t.same(
    odd.lines.map((l) => (JSON.parse(l) as Json).object.metadata.labels.app),
    Array(n / 2).fill('odd'),
    'the selector-filtered watch gets only its events',
  );
  for (const line of odd.lines) t.ok(plainA.lines.includes(line), 'a filtered ADDED is the same line as unfiltered');
  const tables = table.lines.map((l) => JSON.parse(l) as Json);
  t.ok(tables[0].object.columnDefinitions.length > 0, 'the first Table event carries the columns');
  t.ok(tables.slice(1).every((e) => !e.object.columnDefinitions?.length), 'later ones do not');
  t.same(tables.map((e) => e.object.rows[0].cells[0]).sort(), [...byName.keys()].sort());
  t.ok(plainA.chunks.length < n, `a burst of ${n} events left in ${plainA.chunks.length} chunks`);

  await registry.delete('volumesnapshots.' + G, { namespace: 'default', name: 's-1' });
  await until(() => plainA.lines.length === n + 1 && odd.lines.length === n / 2 + 1);
  t.equal(JSON.parse(plainA.lines[n]).type, 'DELETED');
  t.equal(odd.lines[n / 2], plainA.lines[n], 'DELETED is shared too');
  t.equal(JSON.parse(plainA.lines[n]).object.metadata.name, 's-1');
  for (const w of all) w.socket.destroy();
});

t.test('a client that stops reading is ended as too slow: its events are not buffered without bound', async (t) => {
  const { port, registry } = await start(t, 8);
  const w = rawWatch(port, 'watch=true');
  await until(() => w.status === 200);
  await new Promise((r) => setTimeout(r, 50));
  w.socket.pause();
  // Enough bytes to fill the kernel's socket buffers, so that the server's writes stop being taken.
  const big = 'x'.repeat(200_000);
  let made = 0;
  for (; made < 300; made++) {
    await registry.create('volumesnapshots.' + G, snap(made, { annotations: { big } }), { namespace: 'default' });
    if (made % 20 === 19) await new Promise((r) => setImmediate(r));
  }
  w.socket.resume();
  await until(() => w.ended, 20_000);
  const events = w.lines.map((l) => JSON.parse(l) as Json);
  const last = events.at(-1)!;
  t.equal(last.type, 'ERROR', 'the stream ends with an ERROR event');
  t.equal(last.object.code, 410);
  t.match(last.object.message, /fell more than 8 events behind/);
  const added = events.filter((e) => e.type === 'ADDED');
  t.ok(added.length < made, `${added.length} of ${made} events were sent before the watch was dropped`);
  t.same(
    added.map((e) => e.object.metadata.name),
    added.map((_, i) => `s-${i}`),
    'what was sent came in order, nothing skipped',
  );
  w.socket.destroy();
});
