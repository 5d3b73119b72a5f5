// What every resource handler shares: the request context, query options as upstream decodes them (CreateOptions,
// UpdateOptions, PatchOptions, DeleteOptions, ListOptions), body decoding with fieldValidation, response writing
// with content negotiation and Warning headers.

import type { FastifyReply, FastifyRequest } from 'fastify';
import YAML from 'yaml';
import type { Registry, FieldValidation } from '../registry.js';
import { strictDecodingMessage } from '../registry.js';
import type { KubeObject, ResourceDefinition } from '../resource-definition.js';
import type { RequestInfo } from '../request-info.js';
import { StatusError, fieldErrors, type FieldError } from '../status-error.js';
import { encodeJson } from '../json-encoding.js';
import { decodeBody } from '../request-body.js';
import { negotiate, type Negotiated, type Transform } from '../content-negotiation.js';
import { buildTable, parseIncludeObject, partialObjectMetadata } from '../table.js';
import { decodeProtobufObject, PROTOBUF_MEDIA_TYPE } from '../protobuf-body.js';

export interface HandlerContext {
  request: FastifyRequest;
  reply: FastifyReply;
  registry: Registry;
  def: ResourceDefinition;
  info: RequestInfo;
  query: URLSearchParams;
  clock: () => Date;
}

export type Handler = (ctx: HandlerContext) => Promise<void>;

export function queryOf(url: string): URLSearchParams {
  const q = url.indexOf('?');
  return new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
}

const TRUE_TEXT = new Set(['', '1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_TEXT = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** A boolean query parameter as Go's strconv.ParseBool reads it; anything else is a 400, as upstream's decoder. */
export function queryBool(query: URLSearchParams, key: string): boolean | undefined {
  const v = query.get(key);
  if (v === null) return undefined;
  if (TRUE_TEXT.has(v)) return true;
  if (FALSE_TEXT.has(v)) return false;
  throw StatusError.badRequest(`${key}: Invalid value: "${v}": strconv.ParseBool: parsing "${v}": invalid syntax`);
}

function optionsInvalid(kind: string, errs: FieldError[]): StatusError {
  return StatusError.invalid({ group: 'meta.k8s.io', kind }, '', errs);
}

/** `dryRun=All` (repeatable); anything else is refused as upstream's ValidateDryRun does. */
export function dryRunOf(query: URLSearchParams, optionsKind: string): boolean {
  const values = query.getAll('dryRun');
  if (values.length === 0) return false;
  const bad = values.filter((v) => v !== 'All');
  if (bad.length) {
    throw optionsInvalid(optionsKind, [fieldErrors.notSupported('dryRun', bad, ['All'])]);
  }
  return true;
}

export function fieldValidationOf(query: URLSearchParams, optionsKind: string): FieldValidation {
  const v = query.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw optionsInvalid(optionsKind, [fieldErrors.notSupported('fieldValidation', v, ['Ignore', 'Strict', 'Warn'])]);
}

export function fieldManagerOf(query: URLSearchParams, optionsKind: string): string | undefined {
  const v = query.get('fieldManager');
  if (v === null || v === '') return undefined;
  if (v.length > 128) throw optionsInvalid(optionsKind, [fieldErrors.tooLong('fieldManager', 128)]);
  return v;
}

export function userAgentOf(request: FastifyRequest): string | undefined {
  const ua = request.headers['user-agent'];
  return typeof ua === 'string' ? ua : undefined;
}

/** What every create, update and patch carries: its query options (checked as upstream checks `optionsKind`), who asks. */
export interface WriteRequestOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
  fieldManager?: string;
  /** Filled by decoding and the registry; sent back as Warning headers. */
  warnings: string[];
  userAgent?: string;
  user: FastifyRequest['user'];
}

export function writeOptionsOf(ctx: HandlerContext, optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'): WriteRequestOptions {
  return {
    dryRun: dryRunOf(ctx.query, optionsKind),
    fieldValidation: fieldValidationOf(ctx.query, optionsKind),
    fieldManager: fieldManagerOf(ctx.query, optionsKind),
    warnings: [],
    userAgent: userAgentOf(ctx.request),
    user: ctx.request.user,
  };
}

/** The media type of the request body, lowercased, without parameters. */
export function contentTypeOf(request: FastifyRequest): string {
  const ct = request.headers['content-type'];
  return (typeof ct === 'string' ? ct : '').split(';')[0].trim().toLowerCase();
}

export const OBJECT_BODY_TYPES = ['application/json', 'application/yaml'];

export function rawBody(request: FastifyRequest): string {
  const body = request.body;
  if (body === undefined || body === null) return '';
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (typeof body === 'string') return body;
  return JSON.stringify(body);
}

/**
 * The decoded object body of a create/update: JSON or YAML; duplicate fields follow fieldValidation
 * (Strict → 400 strict decoding error; Warn → Warning). Unknown fields are left to the registry.
 */
export function decodeObjectRequest(ctx: HandlerContext, fieldValidation: FieldValidation, warnings: string[]): unknown {
  const type = contentTypeOf(ctx.request);
  if (type === PROTOBUF_MEDIA_TYPE && ctx.def.protobuf) {
    const body = ctx.request.body;
    return decodeProtobufObject(Buffer.isBuffer(body) ? body : Buffer.alloc(0), ctx.def.protobuf);
  }
  if (!OBJECT_BODY_TYPES.includes(type)) {
    throw StatusError.unsupportedMediaType([...OBJECT_BODY_TYPES, ...(ctx.def.protobuf ? [PROTOBUF_MEDIA_TYPE] : [])]);
  }
  const raw = rawBody(ctx.request);
  let decoded: { value: unknown; duplicateFields: string[] };
  try {
    decoded = decodeBody(raw, type === 'application/yaml' ? 'yaml' : 'json');
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw StatusError.badRequest(`the body of the request could not be decoded: ${(err as Error).message}`);
  }
  const dupes = decoded.duplicateFields.map((f) => `duplicate field "${f}"`);
  if (dupes.length && fieldValidation === 'Strict') throw StatusError.badRequest(strictDecodingMessage(ctx.def, dupes));
  if (dupes.length && fieldValidation === 'Warn') warnings.push(...dupes);
  if (decoded.value === null || typeof decoded.value !== 'object' || Array.isArray(decoded.value)) {
    throw StatusError.badRequest('the body of the request could not be decoded: expected a JSON object');
  }
  const obj = decoded.value as Record<string, unknown>;
  if (obj.kind === undefined || obj.kind === '') {
    throw StatusError.badRequest(`Object 'Kind' is missing in '${raw.trim()}'`);
  }
  return obj;
}

/** RFC 7234 Warning headers as kube-apiserver writes them: `299 - "<text>"`, one per problem. */
export function setWarnings(reply: FastifyReply, warnings: string[]): void {
  const unique = [...new Set(warnings)];
  if (unique.length === 0) return;
  reply.header(
    'warning',
    unique.map((w) => `299 - ${JSON.stringify(w)}`),
  );
}

export function send(reply: FastifyReply, code: number, negotiated: Negotiated, body: unknown): void {
  reply.code(code).header('content-type', negotiated.contentType);
  // A Buffer, so fastify leaves our Content-Type alone (for strings it re-formats it and appends a charset).
  const text = negotiated.format === 'yaml' ? YAML.stringify(body, { aliasDuplicateObjects: false }) : encodeJson(body);
  reply.send(Buffer.from(text, 'utf8'));
}

/** The negotiated form of one object: itself, a one-row Table, or its PartialObjectMetadata. */
export function renderObject(ctx: HandlerContext, obj: KubeObject, negotiated: Negotiated): unknown {
  switch (negotiated.transform) {
    case 'Table':
      return buildTable(ctx.def, [obj], {
        includeObject: parseIncludeObject(ctx.query.get('includeObject') ?? undefined),
        now: ctx.clock(),
        version: negotiated.transformVersion,
        resourceVersion: obj.metadata.resourceVersion as string | undefined,
      });
    case 'PartialObjectMetadata':
      return partialObjectMetadata(obj, negotiated.transformVersion);
    default:
      return obj;
  }
}

export function negotiateObject(ctx: HandlerContext, transforms: Transform[] = ['Table', 'PartialObjectMetadata']): Negotiated {
  const accept = ctx.request.headers.accept;
  return negotiate(typeof accept === 'string' ? accept : undefined, { transforms });
}

/** Object responses of writes (create/update/patch/delete) honour Accept as reads do. */
export function respondObject(ctx: HandlerContext, code: number, obj: KubeObject, warnings: string[] = []): void {
  const negotiated = negotiateObject(ctx);
  setWarnings(ctx.reply, warnings);
  send(ctx.reply, code, negotiated, renderObject(ctx, obj, negotiated));
}

export function namespaceOf(ctx: HandlerContext): string | undefined {
  return ctx.def.namespaced && ctx.info.namespace ? ctx.info.namespace : undefined;
}

export function intParam(query: URLSearchParams, key: string): number | undefined {
  const v = query.get(key);
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw StatusError.badRequest(`${key}: Invalid value: "${v}": must be an integer`);
  return Number(v);
}
