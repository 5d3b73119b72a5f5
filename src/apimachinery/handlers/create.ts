// POST …/<plural>: 201 with the stored object (200 for a dry run, as upstream answers dry-run creates with 201 too).
// A virtual kind (the access reviews) answers 201 with what its computeCreate made of the body; nothing is stored.
import { decodeObjectRequest, namespaceOf, respondObject, writeOptionsOf, type HandlerContext } from './common.js';

export async function handleCreate(ctx: HandlerContext): Promise<void> {
  const options = writeOptionsOf(ctx, 'CreateOptions');
  const body = decodeObjectRequest(ctx, options.fieldValidation, options.warnings);
  if (ctx.def.computeCreate) {
    const answer = await ctx.registry.computeCreate(ctx.def, body, options);
    respondObject(ctx, 201, answer, options.warnings);
    return;
  }
  const created = await ctx.registry.create(ctx.def, body, { ...options, namespace: namespaceOf(ctx) });
  respondObject(ctx, 201, created, options.warnings);
}
