// DELETE …/<plural>/<name>: an optional DeleteOptions body (JSON or YAML) or query parameters; preconditions
// honoured; 200 with the object (deleted, or marked for deletion while finalizers remain).
import { StatusError, fieldErrors } from '../status-error.js';
import { decodeBody } from '../request-body.js';
import { contentTypeOf, dryRunOf, intParam, namespaceOf, rawBody, respondObject, type HandlerContext } from './common.js';

export interface DeleteOptionsBody {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  gracePeriodSeconds?: number;
  dryRun?: string[];
  orphanDependents?: boolean;
}

const POLICIES = ['Orphan', 'Background', 'Foreground'];

export function deleteOptionsOf(ctx: HandlerContext): DeleteOptionsBody {
  const raw = rawBody(ctx.request).trim();
  let opts: DeleteOptionsBody = {};
  if (raw) {
    const type = contentTypeOf(ctx.request);
    let value: unknown;
    try {
      value = decodeBody(raw, type === 'application/yaml' ? 'yaml' : 'json').value;
    } catch (err) {
      throw StatusError.badRequest(`the body of the request could not be decoded: ${(err as Error).message}`);
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) opts = value as DeleteOptionsBody;
  }
  const q = ctx.query;
  const policy = q.get('propagationPolicy');
  if (policy) opts.propagationPolicy = policy;
  const grace = intParam(q, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  const errs = [];
  if (opts.propagationPolicy !== undefined && !POLICIES.includes(opts.propagationPolicy)) {
    errs.push(fieldErrors.notSupported('propagationPolicy', opts.propagationPolicy, POLICIES));
  }
  if (opts.dryRun?.some((v) => v !== 'All')) errs.push(fieldErrors.notSupported('dryRun', opts.dryRun, ['All']));
  if (errs.length) throw StatusError.invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', errs);
  return opts;
}

export async function handleDelete(ctx: HandlerContext): Promise<void> {
  const opts = deleteOptionsOf(ctx);
  const dryRun = dryRunOf(ctx.query, 'DeleteOptions') || (opts.dryRun?.includes('All') ?? false);
  const obj = await ctx.registry.delete(ctx.def, {
    namespace: namespaceOf(ctx),
    name: ctx.info.name,
    preconditions: opts.preconditions,
    propagationPolicy: opts.propagationPolicy,
    gracePeriodSeconds: opts.gracePeriodSeconds,
    dryRun,
    user: ctx.request.user,
  });
  respondObject(ctx, 200, obj);
}
