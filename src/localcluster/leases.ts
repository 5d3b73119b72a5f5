// coordination.k8s.io/v1 leases, for the embedded worker's leader election (client-go's LeaseLock semantics:
// read + PUT guarded by resourceVersion). Validation of pkg/apis/coordination/validation; times are MicroTime.

import type { KubeObject, ResourceDefinition } from '../apimachinery/resource-definition.js';
import { ageColumn, textOrEmpty } from '../apimachinery/table-cells.js';
import { fieldErrors, type FieldError } from '../apimachinery/status-error.js';
import { objectSchema } from './schema-parts.js';
import { assertMicroTimes } from './micro-time.js';
import { isObject } from './core-validation.js';

export const COORDINATION_GROUP = 'coordination.k8s.io';

interface LeaseShape {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number | null;
    strategy?: string | null;
    preferredHolder?: string | null;
  };
}

function view(o: KubeObject): LeaseShape {
  return o as unknown as LeaseShape;
}

const microTime = (description: string) => ({ type: 'string', format: 'date-time', nullable: true, description });

export const leaseSchema = objectSchema('Lease defines a lease concept.', {
  spec: {
    type: 'object',
    description: 'spec contains the specification of the Lease.',
    properties: {
      holderIdentity: { type: 'string', nullable: true, description: 'holderIdentity contains the identity of the holder of a current lease.' },
      leaseDurationSeconds: {
        type: 'integer',
        format: 'int32',
        nullable: true,
        description: 'leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it.',
      },
      acquireTime: microTime('acquireTime is a time when the current lease was acquired.'),
      renewTime: microTime('renewTime is a time when the current holder of a lease has last updated the lease.'),
      leaseTransitions: { type: 'integer', format: 'int32', nullable: true, description: 'leaseTransitions is the number of transitions of a lease between holders.' },
      strategy: { type: 'string', nullable: true, description: 'Strategy indicates the strategy for picking the leader for coordinated leader election.' },
      preferredHolder: { type: 'string', nullable: true, description: 'PreferredHolder signals to a lease holder that the lease has a more optimal holder.' },
    },
  },
});

export function validateLease(o: KubeObject): FieldError[] {
  const spec = view(o).spec;
  if (!isObject(spec)) return [];
  const errs: FieldError[] = [];
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
    errs.push(fieldErrors.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
    errs.push(fieldErrors.invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  if (spec.preferredHolder && !spec.strategy) {
    errs.push(fieldErrors.forbidden('spec.preferredHolder', 'preferredHolder is only allowed if strategy is set'));
  }
  return errs;
}

function decodeCheck(o: KubeObject): void {
  const spec = view(o).spec;
  if (isObject(spec)) assertMicroTimes('Lease', [spec.acquireTime, spec.renewTime]);
}

export const leaseDefinition: ResourceDefinition = {
  group: COORDINATION_GROUP,
  version: 'v1',
  kind: 'Lease',
  listKind: 'LeaseList',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  categories: [],
  schema: leaseSchema,
  subresources: {},
  strategy: {
    prepareForCreate: decodeCheck,
    prepareForUpdate: decodeCheck,
    validate: validateLease,
  },
  columns: [
    { name: 'Holder', type: 'string', description: 'holderIdentity contains the identity of the holder of a current lease.', priority: 0, cell: (o) => textOrEmpty(view(o).spec?.holderIdentity) },
    ageColumn,
  ],
};
