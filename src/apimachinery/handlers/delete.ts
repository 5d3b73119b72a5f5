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
    opts = checkDeleteOptionsShape(value);
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
  // ValidateDeleteOptions (k8s.io/apimachinery/pkg/apis/meta/v1/validation).
  if (opts.orphanDependents !== undefined && opts.propagationPolicy !== undefined) {
    errs.push(fieldErrors.invalid('orphanDependents', opts.orphanDependents, 'Cannot set both OrphanDependents and PropagationPolicy'));
  }
  if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < 0) {
    errs.push(fieldErrors.invalid('gracePeriodSeconds', opts.gracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  if (errs.length) throw StatusError.invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', errs);
  return opts;
}

const optionFields: Record<string, (v: unknown) => boolean> = {
  kind: (v) => typeof v === 'string',
  apiVersion: (v) => typeof v === 'string',
  preconditions: (v) =>
    isPlainObject(v) && Object.entries(v).every(([k, x]) => (k === 'uid' || k === 'resourceVersion') && (typeof x === 'string' || x === null)),
  propagationPolicy: (v) => typeof v === 'string',
  gracePeriodSeconds: (v) => Number.isInteger(v),
  orphanDependents: (v) => typeof v === 'boolean',
  dryRun: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  ignoreStoreReadErrorWithClusterBreakingPotential: (v) => typeof v === 'boolean',
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The body must decode as a meta.k8s.io DeleteOptions: an object of that kind (or none), with fields of the right
 * types. Upstream answers 400 otherwise — and, above all, deletes nothing.
 */
function checkDeleteOptionsShape(value: unknown): DeleteOptionsBody {
  if (!isPlainObject(value)) throw StatusError.badRequest('the body of the request must be a DeleteOptions object');
  if (value.kind !== undefined && value.kind !== 'DeleteOptions') {
    throw StatusError.badRequest(`the body of the request is a ${String(value.kind)}, not a DeleteOptions`);
  }
  for (const [k, v] of Object.entries(value)) {
    const ok = optionFields[k];
    if (ok && v !== null && !ok(v)) {
      throw StatusError.badRequest(`the body of the request could not be decoded as DeleteOptions: field ${k} has the wrong type`);
    }
  }
  return value as DeleteOptionsBody;
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
