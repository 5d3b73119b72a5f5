// DELETE …/<plural>: every object matching the selectors (namespace deletion relies on it); 200 with the list.
import { dryRunOf, namespaceOf, send, negotiateObject, type HandlerContext } from './common.js';
import { deleteOptionsOf } from './delete.js';

export async function handleDeleteCollection(ctx: HandlerContext): Promise<void> {
  const opts = deleteOptionsOf(ctx);
  const dryRun = dryRunOf(ctx.query, 'DeleteOptions') || (opts.dryRun?.includes('All') ?? false);
  const negotiated = negotiateObject(ctx, []);
  const list = await ctx.registry.deleteCollection(ctx.def, {
    namespace: namespaceOf(ctx),
    labelSelector: ctx.query.get('labelSelector') ?? undefined,
    fieldSelector: ctx.query.get('fieldSelector') ?? undefined,
    dryRun,
    user: ctx.request.user,
  });
  send(ctx.reply, 200, negotiated, list);
}
