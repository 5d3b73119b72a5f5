// PATCH …/<plural>/<name>[/status]: application/json-patch+json, application/merge-patch+json,
// application/strategic-merge-patch+json (driven by the kind's schema, as a native aggregated server accepts it for
// its own types; see strategic-merge-patch.ts) and server-side apply (application/apply-patch+yaml). The order is
// upstream's supportedTypes (handlers/patch.go), which the 415 message and OpenAPI's consumes list.
import { StatusError, fieldErrors } from '../status-error.js';
import type { PatchType } from '../registry.js';
import { decodeBody } from '../request-body.js';
import {
  contentTypeOf,
  namespaceOf,
  rawBody,
  queryBool,
  respondObject,
  writeOptionsOf,
  type HandlerContext,
  type WriteRequestOptions,
} from './common.js';

export const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

export const APPLY_PATCH_TYPE = 'application/apply-patch+yaml';

export const SUPPORTED_PATCH_MEDIA_TYPES = [...Object.keys(PATCH_TYPES), APPLY_PATCH_TYPE];

export async function handlePatch(ctx: HandlerContext): Promise<void> {
  const mediaType = contentTypeOf(ctx.request);
  const patchType = PATCH_TYPES[mediaType];
  if (!patchType && mediaType !== APPLY_PATCH_TYPE) throw StatusError.unsupportedMediaType(SUPPORTED_PATCH_MEDIA_TYPES);
  const options = writeOptionsOf(ctx, 'PatchOptions');
  const { fieldValidation, warnings } = options;
  const force = queryBool(ctx.query, 'force');
  if (!patchType) return handleApply(ctx, options, force ?? false);
  if (force !== undefined) {
    throw StatusError.invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [
      fieldErrors.forbidden('force', 'may not be specified for non-apply patch'),
    ]);
  }
  let patch: unknown;
  let patchStrictErrors: string[] = [];
  try {
    const decoded = decodeBody(rawBody(ctx.request), 'json');
    patch = decoded.value;
    // patch.go applyJSPatch: the patch document itself is decoded strictly when fieldValidation asks for it.
    const prefix = patchType === 'json' ? 'json patch ' : '';
    if (fieldValidation !== 'Ignore') patchStrictErrors = decoded.duplicateFields.map((f) => `${prefix}duplicate field "${f}"`);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw StatusError.badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  const patched = await ctx.registry.patch(ctx.def, {
    ...options,
    namespace: namespaceOf(ctx),
    name: ctx.info.name,
    subresource: ctx.info.subresource || undefined,
    patchType,
    patch,
    patchStrictErrors,
  });
  respondObject(ctx, 200, patched, warnings);
}

async function handleApply(ctx: HandlerContext, opts: WriteRequestOptions, force: boolean): Promise<void> {
  let config: unknown;
  const { warnings } = opts;
  try {
    const decoded = decodeBody(rawBody(ctx.request), 'yaml');
    config = decoded.value;
    const dupes = decoded.duplicateFields.map((f) => `duplicate field "${f}"`);
    if (dupes.length && opts.fieldValidation === 'Strict') throw StatusError.badRequest(`error decoding patch: ${dupes.join(', ')}`);
    if (opts.fieldValidation === 'Warn') warnings.push(...dupes);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw StatusError.badRequest(`error decoding YAML: ${(err as Error).message}`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw StatusError.badRequest('error decoding YAML: the apply configuration must be an object');
  }
  const { object, created } = await ctx.registry.apply(ctx.def, {
    ...opts,
    namespace: namespaceOf(ctx),
    name: ctx.info.name,
    subresource: ctx.info.subresource || undefined,
    config,
    force,
  });
  respondObject(ctx, created ? 201 : 200, object, warnings);
}
