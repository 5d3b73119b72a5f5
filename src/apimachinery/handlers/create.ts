// POST …/<plural>: 201 with the stored object (200 for a dry run, as upstream answers dry-run creates with 201 too).
// A virtual kind (the access reviews) answers 201 with what its computeCreate made of the body; nothing is stored.
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

export async function handleCreate(ctx: HandlerContext): Promise<void> {
  const dryRun = dryRunOf(ctx.query, 'CreateOptions');
  const fieldValidation = fieldValidationOf(ctx.query, 'CreateOptions');
  const fieldManager = fieldManagerOf(ctx.query, 'CreateOptions');
  const warnings: string[] = [];
  const body = decodeObjectRequest(ctx, fieldValidation, warnings);
  if (ctx.def.computeCreate) {
    const answer = await ctx.registry.computeCreate(ctx.def, body, { fieldValidation, warnings, user: ctx.request.user });
    respondObject(ctx, 201, answer, warnings);
    return;
  }
  const created = await ctx.registry.create(ctx.def, body, {
    namespace: namespaceOf(ctx),
    dryRun,
    fieldManager,
    fieldValidation,
    warnings,
    userAgent: userAgentOf(ctx.request),
    user: ctx.request.user,
  });
  respondObject(ctx, 201, created, warnings);
}
