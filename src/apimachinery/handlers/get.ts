// GET …/<plural>/<name>[/status]
import { negotiateObject, namespaceOf, renderObject, send, type HandlerContext } from './common.js';

export async function handleGet(ctx: HandlerContext): Promise<void> {
  const negotiated = negotiateObject(ctx);
  const obj = await ctx.registry.get(ctx.def, { namespace: namespaceOf(ctx), name: ctx.info.name, user: ctx.request.user });
  send(ctx.reply, 200, negotiated, renderObject(ctx, obj, negotiated));
}
