// GET …?watch=true (and the legacy …/watch/… paths): a chunked 200 stream of newline-framed {"type","object"} JSON
// (k8s.io/apiserver/pkg/endpoints/handlers/watch.go). Errors after the stream started — a too-old resourceVersion
// included — are an ERROR event carrying a Status. Table-formatted events send columnDefinitions only once.

import type { ServerResponse } from 'node:http';
import { StatusError } from '../status-error.js';
import { encodeJson } from '../json-encoding.js';
import { buildTable, parseIncludeObject, partialObjectMetadata } from '../table.js';
import { negotiate } from '../content-negotiation.js';
import type { RegistryWatch, RegistryWatchEvent } from '../registry.js';
import { toStatusError } from '../status-response.js';
import { escapeFieldValue } from '../field-selector.js';
import { intParam, namespaceOf, queryBool, type HandlerContext } from './common.js';

/** Upstream's default for watches without timeoutSeconds: MinRequestTimeout (1800 s) × [1, 2). */
function defaultTimeoutSeconds(): number {
  return Math.floor(1800 * (1 + Math.random()));
}

/**
 * The open watch streams, so that a graceful shutdown can end them (clients re-watch elsewhere) instead of waiting
 * for their timeouts: call `endAll()` before closing the server.
 */
export class OpenWatches {
  private readonly enders = new Set<() => void>();
  private dirty: Flushable[] = [];
  private flushing: NodeJS.Immediate | undefined;

  /** Flushes `writer` at the end of this turn of the event loop, with every other watch that has lines waiting:
   *  one timer per turn for all the watches an event reached, not one each. */
  flushSoon(writer: Flushable): void {
    this.dirty.push(writer);
    this.flushing ??= setImmediate(() => {
      this.flushing = undefined;
      const writers = this.dirty;
      this.dirty = [];
      for (const w of writers) w.flush();
    });
  }

  add(end: () => void): void {
    this.enders.add(end);
  }

  delete(end: () => void): void {
    this.enders.delete(end);
  }

  get size(): number {
    return this.enders.size;
  }

  endAll(): void {
    for (const end of [...this.enders]) end();
  }
}

interface Flushable {
  flush(): void;
}

export interface WatchHandlerOptions {
  bookmarkIntervalMs?: number;
  active?: OpenWatches;
}

export async function handleWatch(ctx: HandlerContext, options: WatchHandlerOptions = {}): Promise<void> {
  const q = ctx.query;
  const accept = ctx.request.headers.accept;
  const negotiated = negotiate(typeof accept === 'string' ? accept : undefined, {
    transforms: ['Table', 'PartialObjectMetadata'],
    yaml: false,
  });
  const includeObject = negotiated.transform === 'Table' ? parseIncludeObject(q.get('includeObject') ?? undefined) : 'Metadata';
  const timeoutSeconds = intParam(q, 'timeoutSeconds');
  let fieldSelector = q.get('fieldSelector') ?? undefined;
  // Legacy /watch/…/<name>: the name becomes a field selector, as upstream's handler does.
  if (ctx.info.name) {
    const term = `metadata.name=${escapeFieldValue(ctx.info.name)}`;
    fieldSelector = fieldSelector ? `${fieldSelector},${term}` : term;
  }
  const sendInitialEventsParam = q.get('sendInitialEvents');
  await ctx.registry.assertResourceVersionReached(ctx.def, q.get('resourceVersion') ?? undefined);
  let watch: RegistryWatch | undefined;
  let startError: StatusError | undefined;
  try {
    watch = ctx.registry.watch(ctx.def, {
      namespace: namespaceOf(ctx),
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      resourceVersionMatch: q.get('resourceVersionMatch') || undefined,
      sendInitialEvents: sendInitialEventsParam === null ? undefined : queryBool(q, 'sendInitialEvents'),
      allowWatchBookmarks: queryBool(q, 'allowWatchBookmarks') ?? false,
      bookmarkIntervalMs: options.bookmarkIntervalMs,
      user: ctx.request.user,
    });
  } catch (err) {
    const status = toStatusError(err);
    // A resourceVersion out of the history window is reported in-stream, as upstream's cacher does.
    if (status.code !== 410) throw err;
    startError = status;
  }

  const reply = ctx.reply;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  res.flushHeaders();

  const out = new EventWriter(res, options.active);
  let closed = false;
  const timer = setTimeout(() => finish(), (timeoutSeconds && timeoutSeconds > 0 ? timeoutSeconds : defaultTimeoutSeconds()) * 1000);
  const finish = () => {
    if (closed) return;
    closed = true;
    options.active?.delete(finish);
    clearTimeout(timer);
    watch?.stop();
    if (!res.writableEnded && !res.destroyed) {
      out.flush();
      res.end();
    }
    out.close();
  };
  options.active?.add(finish);
  // The client went away: stop the storage watch at once.
  ctx.request.raw.on('close', finish);
  res.on('close', finish);

  if (startError) {
    out.push(Buffer.from(encodeJson({ type: 'ERROR', object: startError.toStatus() }), 'utf8'));
    finish();
    return;
  }

  let first = true;
  const line = (e: RegistryWatchEvent): Buffer => {
    if (e.type === 'BOOKMARK') return Buffer.from(encodeJson({ type: e.type, object: e.object }), 'utf8');
    if (negotiated.transform === 'Table') {
      const table = buildTable(ctx.def, [e.object], {
        includeObject,
        now: ctx.clock(),
        version: negotiated.transformVersion,
        resourceVersion: e.object.metadata.resourceVersion as string | undefined,
        omitColumns: !first,
      });
      first = false;
      return Buffer.from(encodeJson({ type: e.type, object: table }), 'utf8');
    }
    if (negotiated.transform === 'PartialObjectMetadata') {
      const version = negotiated.transformVersion;
      return sharedEventLine(e.type, e.object, `PartialObjectMetadata/${version}`, () => partialObjectMetadata(e.object, version));
    }
    return sharedEventLine(e.type, e.object, '', () => e.object);
  };

  try {
    for await (const e of watch!) {
      if (closed) break;
      out.push(line(e));
      const blocked = out.blocked();
      if (blocked) await blocked;
    }
  } catch (err) {
    const status = toStatusError(err);
    if (status.code >= 500) ctx.request.log.error({ err }, 'watch failed');
    out.push(Buffer.from(encodeJson({ type: 'ERROR', object: status.toStatus() }), 'utf8'));
  } finally {
    finish();
  }
}

// One event reaches every watch of its resource as the same (frozen) object. Its line is encoded once per form and
// shared by all the watches that send it in that form: a thousand watches cost one JSON.stringify, not a thousand.
// The lines go when the object does (a WeakMap); Table lines (per-watch columns and ages), bookmarks and the
// per-watch objects of selector transitions are encoded by each watch.
const sharedLines = new WeakMap<object, Map<string, Buffer>>();

function sharedEventLine(type: string, source: object, form: string, render: () => unknown): Buffer {
  let lines = sharedLines.get(source);
  if (!lines) sharedLines.set(source, (lines = new Map()));
  const key = `${type} ${form}`;
  let line = lines.get(key);
  if (!line) {
    // Byte for byte what encodeJson({ type, object }) writes: the type is a plain word, nothing to escape.
    const object = encodeJson(render());
    line = Buffer.from(`{"type":${JSON.stringify(type)},"object":${object.slice(0, -1)}}\n`, 'utf8');
    lines.set(key, line);
  }
  return line;
}

/** Above this many bytes waiting, a watch writes at once instead of at the end of the tick. */
const FLUSH_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n', 'latin1');

// A line as one HTTP/1.1 chunk (size, CRLF, line, CRLF), built once per shared line like the line itself.
const framedLines = new WeakMap<Buffer, Buffer>();

function chunkOf(lines: Buffer[], bytes: number): Buffer {
  if (lines.length === 1) {
    const known = framedLines.get(lines[0]);
    if (known) return known;
  }
  const framed = Buffer.concat([Buffer.from(`${bytes.toString(16)}\r\n`, 'latin1'), ...lines, CRLF]);
  if (lines.length === 1) framedLines.set(lines[0], framed);
  return framed;
}

/**
 * The lines of one watch stream, written once per turn of the event loop: events that arrive together (a burst of
 * writes, or a watch catching up) leave in one chunk — one TLS record and one syscall — instead of one each.
 * The chunk goes straight to the socket, framed as HTTP/1.1 chunked encoding once per event for all the watches
 * that share its line (the response's own write would re-frame and re-queue it per socket); a response that is not
 * chunked, or not yet on its socket (pipelined behind another answer), is written through the response instead.
 * `blocked()` is the socket's backpressure: while it is full the watch stops taking events, which then queue in
 * the watch cache (and end the watch as too slow when they exceed its bound), as before.
 */
class EventWriter implements Flushable {
  private pending: Buffer[] = [];
  private bytes = 0;
  private queued = false;
  private own: NodeJS.Immediate | undefined;
  private waiting: Promise<void> | undefined;
  private closed = false;
  private readonly framed: boolean;

  constructor(
    private readonly res: ServerResponse,
    private readonly scheduler?: OpenWatches,
  ) {
    this.framed = res.chunkedEncoding && res.req.method !== 'HEAD';
  }

  push(line: Buffer): void {
    if (this.closed) return;
    this.pending.push(line);
    this.bytes += line.length;
    if (this.bytes >= FLUSH_BYTES) this.flush();
    else if (!this.queued) {
      this.queued = true;
      if (this.scheduler) this.scheduler.flushSoon(this);
      else this.own = setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.queued = false;
    if (this.own) clearImmediate(this.own);
    this.own = undefined;
    if (this.pending.length === 0 || this.closed) return;
    const lines = this.pending;
    const bytes = this.bytes;
    this.pending = [];
    this.bytes = 0;
    const socket = this.res.socket;
    if (this.framed && socket && !socket.destroyed) {
      if (!socket.write(chunkOf(lines, bytes))) this.waitFor(socket);
    } else if (!this.res.write(lines.length === 1 ? lines[0] : Buffer.concat(lines, bytes))) {
      this.waitFor(this.res);
    }
  }

  private waitFor(emitter: NodeJS.EventEmitter): void {
    if (this.waiting) return;
    this.waiting = new Promise<void>((resolve) => {
      const done = () => {
        emitter.off('drain', done);
        emitter.off('close', done);
        this.res.off('close', done);
        this.waiting = undefined;
        resolve();
      };
      emitter.on('drain', done);
      emitter.on('close', done);
      this.res.on('close', done);
    });
  }

  /** A promise while the socket is full (wait for it before taking more events), else undefined. */
  blocked(): Promise<void> | undefined {
    return this.waiting;
  }

  close(): void {
    this.closed = true;
    if (this.own) clearImmediate(this.own);
    this.own = undefined;
    this.pending = [];
    this.bytes = 0;
  }
}
