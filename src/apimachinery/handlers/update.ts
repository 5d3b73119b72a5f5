// PUT …/<plural>/<name>[/status]: never creates; resourceVersion required (CRD semantics).
import {
  decodeObjectRequest,
  dryRunOf,
  fieldManagerOf,
  fieldValidationOf,
  namespaceOf,
  respondObject,
  userAgentOf,
  type HandlerContext,
} from './common.js';

export async function handleUpdate(ctx: HandlerContext): Promise<void> {
  const dryRun = dryRunOf(ctx.query, 'UpdateOptions');
  const fieldValidation = fieldValidationOf(ctx.query, 'UpdateOptions');
  const fieldManager = fieldManagerOf(ctx.query, 'UpdateOptions');
  const warnings: string[] = [];
  const body = decodeObjectRequest(ctx, fieldValidation, warnings);
  const updated = await ctx.registry.update(ctx.def, body, {
    namespace: namespaceOf(ctx),
    name: ctx.info.name,
    subresource: ctx.info.subresource || undefined,
    dryRun,
    fieldManager,
    fieldValidation,
    warnings,
    userAgent: userAgentOf(ctx.request),
    user: ctx.request.user,
  });
  respondObject(ctx, 200, updated, warnings);
}
