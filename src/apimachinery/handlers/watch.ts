// GET …?watch=true (and the legacy …/watch/… paths): a chunked 200 stream of newline-framed {"type","object"} JSON
// (k8s.io/apiserver/pkg/endpoints/handlers/watch.go). Errors after the stream started — a too-old resourceVersion
// included — are an ERROR event carrying a Status. Table-formatted events send columnDefinitions only once.

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

  let closed = false;
  const timer = setTimeout(() => finish(), (timeoutSeconds && timeoutSeconds > 0 ? timeoutSeconds : defaultTimeoutSeconds()) * 1000);
  const finish = () => {
    if (closed) return;
    closed = true;
    options.active?.delete(finish);
    clearTimeout(timer);
    watch?.stop();
    if (!res.writableEnded) res.end();
  };
  options.active?.add(finish);
  // The client went away: stop the storage watch at once.
  ctx.request.raw.on('close', finish);
  res.on('close', finish);

  const write = async (event: { type: string; object: unknown }): Promise<void> => {
    if (closed) return;
    if (!res.write(encodeJson(event))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  };

  if (startError) {
    await write({ type: 'ERROR', object: startError.toStatus() });
    finish();
    return;
  }

  let first = true;
  const render = (e: RegistryWatchEvent): unknown => {
    if (e.type === 'BOOKMARK') return e.object;
    if (negotiated.transform === 'Table') {
      const table = buildTable(ctx.def, [e.object], {
        includeObject,
        now: ctx.clock(),
        version: negotiated.transformVersion,
        resourceVersion: e.object.metadata.resourceVersion as string | undefined,
        omitColumns: !first,
      });
      first = false;
      return table;
    }
    if (negotiated.transform === 'PartialObjectMetadata') return partialObjectMetadata(e.object, negotiated.transformVersion);
    return e.object;
  };

  try {
    for await (const e of watch!) {
      if (closed) break;
      await write({ type: e.type, object: render(e) });
    }
  } catch (err) {
    const status = toStatusError(err);
    if (status.code >= 500) ctx.request.log.error({ err }, 'watch failed');
    await write({ type: 'ERROR', object: status.toStatus() });
  } finally {
    finish();
  }
}
