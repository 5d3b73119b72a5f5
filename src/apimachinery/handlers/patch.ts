// PATCH …/<plural>/<name>[/status]: application/json-patch+json and application/merge-patch+json. Strategic merge
// and server-side apply are refused with 415, as kube-apiserver refuses them for custom resources without SSA.
import { StatusError } from '../status-error.js';
import type { PatchType } from '../registry.js';
import { decodeBody } from '../request-body.js';
import {
  contentTypeOf,
  dryRunOf,
  fieldManagerOf,
  fieldValidationOf,
  namespaceOf,
  rawBody,
  respondObject,
  userAgentOf,
  type HandlerContext,
} from './common.js';

export const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
};

export const SUPPORTED_PATCH_MEDIA_TYPES = Object.keys(PATCH_TYPES);

export async function handlePatch(ctx: HandlerContext): Promise<void> {
  const patchType = PATCH_TYPES[contentTypeOf(ctx.request)];
  if (!patchType) throw StatusError.unsupportedMediaType(SUPPORTED_PATCH_MEDIA_TYPES);
  const dryRun = dryRunOf(ctx.query, 'PatchOptions');
  const fieldValidation = fieldValidationOf(ctx.query, 'PatchOptions');
  const fieldManager = fieldManagerOf(ctx.query, 'PatchOptions');
  let patch: unknown;
  try {
    patch = decodeBody(rawBody(ctx.request), 'json').value;
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw StatusError.badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  if (patchType === 'json' && !Array.isArray(patch)) {
    throw StatusError.badRequest('the server rejected our request due to an error in our request');
  }
  if (patchType === 'merge' && (patch === null || typeof patch !== 'object' || Array.isArray(patch))) {
    throw StatusError.badRequest('the server rejected our request due to an error in our request');
  }
  const warnings: string[] = [];
  const patched = await ctx.registry.patch(ctx.def, {
    namespace: namespaceOf(ctx),
    name: ctx.info.name,
    subresource: ctx.info.subresource || undefined,
    patchType,
    patch,
    dryRun,
    fieldManager,
    fieldValidation,
    warnings,
    userAgent: userAgentOf(ctx.request),
    user: ctx.request.user,
  });
  respondObject(ctx, 200, patched, warnings);
}
