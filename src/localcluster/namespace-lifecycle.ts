// kube-apiserver's NamespaceLifecycle admission plugin (plugin/pkg/admission/namespace/lifecycle), which a local
// cluster needs as much as a real one: no objects in a namespace that does not exist or is terminating, and the
// system namespaces cannot be deleted.

import type { Registry } from '../apimachinery/registry.js';
import type { ResourceDefinition } from '../apimachinery/resource-definition.js';
import { StatusError } from '../apimachinery/status-error.js';
import { NAMESPACES } from './definitions.js';

export const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

export interface LifecycleAttributes {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  resource: Pick<ResourceDefinition, 'group' | 'plural' | 'namespaced'>;
  namespace?: string;
  name: string;
}

/** Throws kube-apiserver's error when the request may not proceed. */
export async function checkNamespaceLifecycle(registry: Registry, attrs: LifecycleAttributes): Promise<void> {
  const gr = { group: attrs.resource.group, resource: attrs.resource.plural };
  if (attrs.resource.group === '' && attrs.resource.plural === NAMESPACES) {
    if (attrs.operation === 'DELETE' && IMMORTAL_NAMESPACES.includes(attrs.name)) {
      throw StatusError.forbidden(gr, attrs.name, 'this namespace may not be deleted');
    }
    return;
  }
  if (!attrs.resource.namespaced || attrs.operation !== 'CREATE' || !attrs.namespace) return;
  let ns;
  try {
    ns = await registry.get(NAMESPACES, { name: attrs.namespace });
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'NotFound') throw StatusError.notFound({ group: '', resource: NAMESPACES }, attrs.namespace);
    throw err;
  }
  if ((ns as { status?: { phase?: string } }).status?.phase === 'Terminating' || ns.metadata.deletionTimestamp) {
    throw StatusError.forbidden(gr, attrs.name, `unable to create new content in namespace ${attrs.namespace} because it is being terminated`);
  }
}
