// GET …/<plural> (not a watch): labelSelector, fieldSelector, limit/continue, resourceVersion[Match]; JSON, YAML,
// Table or PartialObjectMetadataList.
import { StatusError, fieldErrors } from '../status-error.js';
import { buildTable, parseIncludeObject, partialObjectMetadata } from '../table.js';
import { intParam, namespaceOf, negotiateObject, send, type HandlerContext } from './common.js';

export function resourceVersionMatchOf(query: URLSearchParams): 'Exact' | 'NotOlderThan' | undefined {
  const v = query.get('resourceVersionMatch');
  if (v === null || v === '') return undefined;
  if (v === 'Exact' || v === 'NotOlderThan') return v;
  throw StatusError.invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [
    fieldErrors.notSupported('resourceVersionMatch', v, ['Exact', 'NotOlderThan']),
  ]);
}

export async function handleList(ctx: HandlerContext): Promise<void> {
  const negotiated = negotiateObject(ctx, ['Table', 'PartialObjectMetadataList']);
  const q = ctx.query;
  const limit = intParam(q, 'limit');
  const rvMatch = resourceVersionMatchOf(q);
  const rv = q.get('resourceVersion') ?? undefined;
  intParam(q, 'timeoutSeconds'); // decoded (and refused when malformed) as upstream's ListOptions, unused by a list
  if (q.get('continue') && rv && rv !== '0') {
    throw StatusError.badRequest('specifying resource version is not allowed when using continue');
  }
  if (q.get('sendInitialEvents') !== null) {
    throw StatusError.invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [
      fieldErrors.forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'),
    ]);
  }
  if (rvMatch && !rv) {
    throw StatusError.invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [
      fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'),
    ]);
  }
  const list = await ctx.registry.list(ctx.def, {
    namespace: namespaceOf(ctx),
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit: limit && limit > 0 ? limit : undefined,
    continue: q.get('continue') || undefined,
    resourceVersion: rv,
    resourceVersionMatch: rvMatch,
    user: ctx.request.user,
  });
  let body: unknown = list;
  if (negotiated.transform === 'Table') {
    body = buildTable(ctx.def, list.items, {
      includeObject: parseIncludeObject(q.get('includeObject') ?? undefined),
      now: ctx.clock(),
      version: negotiated.transformVersion,
      resourceVersion: list.metadata.resourceVersion,
      continue: list.metadata.continue,
      remainingItemCount: list.metadata.remainingItemCount,
    });
  } else if (negotiated.transform === 'PartialObjectMetadataList') {
    body = {
      kind: 'PartialObjectMetadataList',
      apiVersion: `meta.k8s.io/${negotiated.transformVersion}`,
      metadata: list.metadata,
      items: list.items.map((o) => partialObjectMetadata(o, negotiated.transformVersion)),
    };
  }
  send(ctx.reply, 200, negotiated, body);
}
