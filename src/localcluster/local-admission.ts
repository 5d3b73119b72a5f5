// The admission chain of the local cluster, for the Registry's admission hook (apimachinery/admission-hook.ts):
// NamespaceLifecycle for every request, then the project's PVC webhooks for PVC creates and updates — mutating
// before the strategy runs, validating after it, as kube-apiserver orders them
// (k8s.io/apiserver/pkg/endpoints/handlers/create.go: admit, then BeforeCreate, then the validating admission).

import type { Registry } from '../apimachinery/registry.js';
import type { KubeObject } from '../apimachinery/resource-definition.js';
import type { AdmissionAttributes, AdmissionPlugin } from '../apimachinery/admission-hook.js';
import type { UserInfo } from '../apimachinery/user-info.js';
import type { AdmissionDeps } from '../admission/admission-review.js';
import { checkNamespaceLifecycle } from './namespace-lifecycle.js';
import { mutatePersistentVolumeClaim, validatePersistentVolumeClaimAdmission, type PvcAdmissionInput } from './pvc-admission.js';

export type { AdmissionAttributes, AdmissionPlugin };

const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

function isPvcWrite(attrs: AdmissionAttributes): attrs is AdmissionAttributes & { object: KubeObject; operation: 'CREATE' | 'UPDATE' } {
  return (
    attrs.def.group === '' &&
    attrs.def.plural === 'persistentvolumeclaims' &&
    !attrs.subresource &&
    (attrs.operation === 'CREATE' || attrs.operation === 'UPDATE') &&
    !!attrs.object
  );
}

function pvcInput(attrs: AdmissionAttributes & { object: KubeObject; operation: 'CREATE' | 'UPDATE' }): PvcAdmissionInput {
  const input: PvcAdmissionInput = {
    operation: attrs.operation,
    object: attrs.object,
    user: attrs.user ?? ANONYMOUS,
    dryRun: attrs.dryRun,
    namespace: attrs.namespace ?? attrs.object.metadata.namespace ?? '',
    name: attrs.name,
  };
  if (attrs.oldObject) input.oldObject = attrs.oldObject;
  if (attrs.fieldManager) input.fieldManager = attrs.fieldManager;
  if (attrs.warnings) input.warnings = attrs.warnings;
  return input;
}

export function createLocalAdmission(registry: Registry, deps: AdmissionDeps): AdmissionPlugin {
  return {
    async mutate(attrs) {
      if (isPvcWrite(attrs)) return mutatePersistentVolumeClaim(pvcInput(attrs), deps);
      return undefined;
    },
    async validate(attrs) {
      await checkNamespaceLifecycle(registry, { operation: attrs.operation, resource: attrs.def, namespace: attrs.namespace, name: attrs.name });
      if (isPvcWrite(attrs)) await validatePersistentVolumeClaimAdmission(pvcInput(attrs), deps);
    },
  };
}
