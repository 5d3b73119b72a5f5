// The fastify plugin that serves every ResourceDefinition of a Registry: discovery (legacy and aggregated), OpenAPI
// v2/v3, and the resource routes for namespaced, cluster-scoped and core-group (/api/v1) resources, dispatched on
// k8s.io/apiserver's RequestInfo. Errors are thrown as StatusError; the server's error handler renders them.

import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from './registry.js';
import { parseRequestInfo, type RequestInfo } from './request-info.js';
import { StatusError } from './status-error.js';
import { encodeJson } from './json-encoding.js';
import {
  aggregatedDiscoveryDoc,
  apiGroupDoc,
  apiGroupListDoc,
  apiResourceListDoc,
  apiVersionsDoc,
  etagOf,
  negotiateDiscovery,
} from './discovery.js';
import { OPENAPI_V2_PROTOBUF, hashOfDoc, openApiV2Doc, openApiV2ProtobufHeader, openApiV3Doc, openApiV3Index } from './openapi.js';
import { acceptsJson, parseAccept } from './content-negotiation.js';
import { queryOf, type HandlerContext } from './handlers/common.js';
import { handleGet } from './handlers/get.js';
import { handleList } from './handlers/list.js';
import { handleCreate } from './handlers/create.js';
import { handleUpdate } from './handlers/update.js';
import { handlePatch, SUPPORTED_PATCH_MEDIA_TYPES } from './handlers/patch.js';
import { handleDelete } from './handlers/delete.js';
import { handleDeleteCollection } from './handlers/deletecollection.js';
import { handleWatch, OpenWatches } from './handlers/watch.js';

export { OpenWatches };

export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface ApiPluginOptions {
  registry: Registry;
  /** Request bodies above this are refused with 413 (kube-apiserver: 3 MiB). */
  maxBodyBytes?: number;
  /** Clock for Table ages (defaults to the wall clock). */
  clock?: () => Date;
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK (default 60 s, as upstream). */
  watchBookmarkIntervalMs?: number;
  /** Pass one to end every open watch on shutdown (`openWatches.endAll()` before `app.close()`). */
  openWatches?: OpenWatches;
}

function sendJson(reply: FastifyReply, code: number, doc: unknown, contentType = 'application/json'): void {
  // Buffers keep fastify from rewriting the Content-Type (it appends a charset to string bodies).
  reply.code(code).header('content-type', contentType).send(Buffer.from(encodeJson(doc), 'utf8'));
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  const p = q >= 0 ? url.slice(0, q) : url;
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

export const apiPlugin: FastifyPluginAsync<ApiPluginOptions> = async (app: FastifyInstance, opts) => {
  const { registry } = opts;
  const defs = registry.definitions;
  const clock = opts.clock ?? (() => new Date());
  const bodyLimit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  // Bodies arrive raw and are decoded per verb (request-body.ts): the verb decides which media types it accepts.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  // ---- discovery ----

  const discovery = (req: FastifyRequest, reply: FastifyReply, core: boolean) => {
    const format = negotiateDiscovery(req.headers.accept, true);
    reply.header('vary', 'Accept');
    if (format.kind === 'aggregated') {
      const body = encodeJson(aggregatedDiscoveryDoc(defs, core, format.version));
      const etag = etagOf(body);
      reply.header('etag', etag);
      if (req.headers['if-none-match'] === etag) {
        reply.code(304).send();
        return;
      }
      reply.code(200).header('content-type', format.contentType).send(Buffer.from(body, 'utf8'));
      return;
    }
    sendJson(reply, 200, core ? apiVersionsDoc(defs) : apiGroupListDoc(defs));
  };
  app.get('/api', async (req, reply) => discovery(req, reply, true));
  app.get('/apis', async (req, reply) => discovery(req, reply, false));

  // ---- OpenAPI ----

  const openApiOptions = { patchTypes: SUPPORTED_PATCH_MEDIA_TYPES };
  let v2Cache: { body: string; etag: string } | undefined;
  const v3Cache = new Map<string, { body: string; etag: string; hash: string }>();
  const v3For = (group: string, version: string) => {
    const key = `${group}/${version}`;
    let entry = v3Cache.get(key);
    if (!entry) {
      const doc = openApiV3Doc(defs, group, version, openApiOptions);
      if (!doc) return undefined;
      const body = encodeJson(doc);
      entry = { body, etag: etagOf(body), hash: hashOfDoc(doc) };
      v3Cache.set(key, entry);
    }
    return entry;
  };
  const sendCached = (req: FastifyRequest, reply: FastifyReply, entry: { body: string; etag: string }) => {
    reply.header('etag', entry.etag).header('vary', 'Accept');
    if (req.headers['if-none-match'] === entry.etag) {
      reply.code(304).send();
      return;
    }
    reply.code(200).header('content-type', 'application/json').send(Buffer.from(entry.body, 'utf8'));
  };
  app.get('/openapi/v2', async (req, reply) => {
    // kubectl asks for protobuf only; it gets the document header (see openApiV2ProtobufHeader), JSON clients all.
    const ranges = parseAccept(req.headers.accept);
    const first = ranges.find((r) => `${r.type}/${r.subtype}`.startsWith('application/com.github.proto-openapi.spec.v2') || acceptsJson(`${r.type}/${r.subtype}`));
    if (first && first.subtype.startsWith('com.github.proto-openapi.spec.v2')) {
      // Written raw, so fastify cannot rewrite the media type.
      const body = openApiV2ProtobufHeader();
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': OPENAPI_V2_PROTOBUF, 'content-length': String(body.length) });
      reply.raw.end(body);
      return;
    }
    if (!acceptsJson(req.headers.accept)) throw StatusError.notAcceptable(['application/json', OPENAPI_V2_PROTOBUF]);
    if (!v2Cache) {
      const body = encodeJson(openApiV2Doc(defs, openApiOptions));
      v2Cache = { body, etag: etagOf(body) };
    }
    sendCached(req, reply, v2Cache);
  });
  app.get('/openapi/v3', async (_req, reply) => {
    sendJson(reply, 200, openApiV3Index(defs, (g, v) => v3For(g, v)!.hash));
  });
  app.get('/openapi/v3/*', async (req, reply) => {
    const rest = pathOf(req.url).slice('/openapi/v3/'.length).split('/');
    let entry;
    if (rest[0] === 'apis' && rest.length === 3) entry = v3For(rest[1], rest[2]);
    else if (rest[0] === 'api' && rest.length === 2) entry = v3For('', rest[1]);
    if (!entry) throw StatusError.pathNotFound();
    if (!acceptsJson(req.headers.accept)) throw StatusError.notAcceptable(['application/json']);
    sendCached(req, reply, entry);
  });

  // ---- resources ----

  const activeWatches = opts.openWatches ?? new OpenWatches();
  // Shutdown ends open watches at once (clients see the stream end and re-list elsewhere) instead of holding the
  // server open until its deadline.
  app.addHook('preClose', async () => activeWatches.endAll());

  const dispatch = async (request: FastifyRequest, reply: FastifyReply) => {
    let info = parseRequestInfo(request.method, request.url);
    if (!info.isResourceRequest) return nonResource(request, reply, info);
    // requestinfo.go sets namespace = name for /api/v1/namespaces/<name>: there the namespace is the object itself.
    if (info.apiGroup === '' && info.resource === 'namespaces') info = { ...info, namespace: '' };
    const def = registry.lookup(info.apiGroup, info.resource, info.apiVersion);
    if (!def) throw StatusError.pathNotFound();
    if (info.subresource && !(info.subresource === 'status' && def.subresources.status)) throw StatusError.pathNotFound();
    if (info.parts.length > 3) throw StatusError.pathNotFound();
    // A kind serving only some verbs (the create-only reviews) has no route for the others: go-restful's bare 405,
    // which client-go words as below (errors.NewGenericServerResponse).
    if (def.verbs && !def.verbs.includes(info.verb)) {
      throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {
        group: def.group,
        kind: def.plural,
      });
    }
    const hasNamespace = info.namespace !== '';
    if (!def.namespaced && hasNamespace) throw StatusError.pathNotFound();
    // A namespaced resource is addressable without a namespace only as a collection read (list/watch).
    if (def.namespaced && !hasNamespace && !(info.verb === 'list' || info.verb === 'watch')) throw StatusError.pathNotFound();
    // A name or namespace nothing can have (a NUL byte, a decoded '/') is simply not there, as upstream's lookup
    // finds nothing.
    const impossible = (v: string) => v.includes('\u0000') || v.includes('/');
    if (impossible(info.namespace)) throw StatusError.notFound({ group: '', resource: 'namespaces' }, info.namespace);
    if (impossible(info.name) && info.verb !== 'create') {
      throw StatusError.notFound({ group: def.group, resource: def.plural }, info.name);
    }
    const ctx: HandlerContext = { request, reply, registry, def, info, query: queryOf(request.url), clock };
    const named = info.name !== '';
    switch (info.verb) {
      case 'get':
        return handleGet(ctx);
      case 'list':
        return handleList(ctx);
      case 'watch':
        if (named && info.subresource) throw StatusError.pathNotFound();
        return handleWatch(ctx, { bookmarkIntervalMs: opts.watchBookmarkIntervalMs, active: activeWatches });
      case 'create':
        if (named) throw StatusError.methodNotSupported({ group: def.group, resource: def.plural }, 'create');
        return handleCreate(ctx);
      case 'update':
        if (!named) throw StatusError.methodNotSupported({ group: def.group, resource: def.plural }, 'update');
        return handleUpdate(ctx);
      case 'patch':
        if (!named) throw StatusError.methodNotSupported({ group: def.group, resource: def.plural }, 'patch');
        return handlePatch(ctx);
      case 'delete':
        if (!named || info.subresource) throw StatusError.methodNotSupported({ group: def.group, resource: def.plural }, 'delete');
        return handleDelete(ctx);
      case 'deletecollection':
        return handleDeleteCollection(ctx);
      default:
        throw StatusError.methodNotSupported({ group: def.group, resource: def.plural }, request.method);
    }
  };

  const nonResource = async (request: FastifyRequest, reply: FastifyReply, info: RequestInfo) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') throw StatusError.pathNotFound();
    const parts = pathOf(info.path).split('/').filter(Boolean);
    if (parts[0] === 'api' && parts.length === 1) return discovery(request, reply, true);
    if (parts[0] === 'apis' && parts.length === 1) return discovery(request, reply, false);
    let doc: Record<string, unknown> | undefined;
    if (parts[0] === 'api' && parts.length === 2) doc = apiResourceListDoc(defs, '', parts[1]);
    else if (parts[0] === 'apis' && parts.length === 2) doc = apiGroupDoc(defs, parts[1]);
    else if (parts[0] === 'apis' && parts.length === 3) doc = apiResourceListDoc(defs, parts[1], parts[2]);
    if (!doc) throw StatusError.pathNotFound();
    if (!acceptsJson(request.headers.accept)) throw StatusError.notAcceptable(['application/json']);
    sendJson(reply, 200, doc);
  };

  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
  app.route({ method: [...methods], url: '/api/*', handler: dispatch });
  app.route({ method: [...methods], url: '/apis/*', handler: dispatch });
};

