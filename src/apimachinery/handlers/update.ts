// PUT …/<plural>/<name>[/status]: never creates; resourceVersion required (CRD semantics).
import { decodeObjectRequest, namespaceOf, respondObject, writeOptionsOf, type HandlerContext } from './common.js';

export async function handleUpdate(ctx: HandlerContext): Promise<void> {
  const options = writeOptionsOf(ctx, 'UpdateOptions');
  const body = decodeObjectRequest(ctx, options.fieldValidation, options.warnings);
  const updated = await ctx.registry.update(ctx.def, body, {
    ...options,
    namespace: namespaceOf(ctx),
    name: ctx.info.name,
    subresource: ctx.info.subresource || undefined,
  });
  respondObject(ctx, 200, updated, options.warnings);
}
