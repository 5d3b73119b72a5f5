// core/v1 pods, served only so that `kubectl describe pvc` works: it lists the claim's namespace's pods to show
// "Used By" and fails outright when the list does. Nothing runs pods here; the schema keeps spec and status as given.

import type { KubeObject, ResourceDefinition } from '../apimachinery/resource-definition.js';
import { ageColumn, textOrEmpty } from '../apimachinery/table-cells.js';
import { objectSchema } from './schema-parts.js';

export const podDefinition: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  listKind: 'PodList',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  schema: objectSchema('Pod is a collection of containers that can run on a host. The local cluster stores pods but runs none.', {
    spec: { type: 'object', description: 'Specification of the desired behavior of the pod.', 'x-kubernetes-preserve-unknown-fields': true },
    status: { type: 'object', description: 'Most recently observed status of the pod.', 'x-kubernetes-preserve-unknown-fields': true },
  }),
  subresources: { status: true },
  strategy: {},
  columns: [
    {
      name: 'Status',
      type: 'string',
      description: 'The phase of the pod.',
      priority: 0,
      cell: (o: KubeObject) => textOrEmpty((o as { status?: { phase?: string } }).status?.phase) || 'Pending',
    },
    ageColumn,
  ],
};
