// core/v1 events for the local cluster: what the binder (and the worker) record and what `kubectl describe` lists
// with a field selector on involvedObject.*. Validation is upstream's legacyValidateEvent for core/v1 requests;
// selectable fields are the events strategy's ToSelectableFields; columns those of `kubectl get events`.

import type { KubeObject, ResourceDefinition } from '../apimachinery/resource-definition.js';
import { textOrEmpty } from '../apimachinery/table-cells.js';
import { fieldErrors, type FieldError } from '../apimachinery/status-error.js';
import { isDNS1123Subdomain, isQualifiedName } from '../apimachinery/object-meta-validation.js';
import { objectReference, objectSchema } from './schema-parts.js';
import { assertMicroTimes } from './micro-time.js';
import { isObject } from './core-validation.js';

export interface EventShape {
  metadata: KubeObject['metadata'];
  involvedObject?: { kind?: string; namespace?: string; name?: string; uid?: string; apiVersion?: string; resourceVersion?: string; fieldPath?: string };
  reason?: string;
  message?: string;
  source?: { component?: string; host?: string };
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  count?: number;
  type?: string;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string };
  action?: string;
  related?: unknown;
  reportingComponent?: string;
  reportingInstance?: string;
}

function view(o: KubeObject): EventShape {
  return o as unknown as EventShape;
}

const s = (description: string) => ({ type: 'string', description });
const time = (description: string) => ({ type: 'string', format: 'date-time', nullable: true, description });

export const eventSchema = objectSchema(
  'Event is a report of an event somewhere in the cluster.',
  {
    involvedObject: objectReference('The object that this event is about.'),
    reason: s('This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
    message: s('A human-readable description of the status of this operation.'),
    source: {
      type: 'object',
      description: 'The component reporting this event. Should be a short machine understandable string.',
      properties: { component: s('Component from which the event is generated.'), host: s('Node name on which the event is generated.') },
    },
    firstTimestamp: time('The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)'),
    lastTimestamp: time('The time at which the most recent occurrence of this event was recorded.'),
    count: { type: 'integer', format: 'int32', description: 'The number of times this event has occurred.' },
    type: s('Type of this event (Normal, Warning), new types could be added in the future'),
    eventTime: time('Time when this Event was first observed.'),
    series: {
      type: 'object',
      description: 'Data about the Event series this event represents or nil if it\'s a singleton Event.',
      properties: { count: { type: 'integer', format: 'int32' }, lastObservedTime: { type: 'string', format: 'date-time' } },
    },
    action: s('What action was taken/failed regarding to the Regarding object.'),
    related: objectReference('Optional secondary object for more complex actions.'),
    reportingComponent: s('Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.'),
    reportingInstance: s('ID of the controller instance, e.g. `kubelet-xyzf`.'),
  },
  ['involvedObject'],
);

/** legacyValidateEvent (pkg/apis/core/validation/events.go) for a core/v1 request. */
export function validateEvent(o: KubeObject): FieldError[] {
  const e = view(o);
  const errs: FieldError[] = [];
  const ns = o.metadata.namespace ?? '';
  const involvedNs = e.involvedObject?.namespace ?? '';
  if (!e.eventTime) {
    if (involvedNs === '') {
      if (ns !== '' && ns !== 'default') errs.push(fieldErrors.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    } else if (ns !== involvedNs) {
      errs.push(fieldErrors.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    }
  } else {
    if (involvedNs === '' && ns !== 'default' && ns !== 'kube-system') {
      errs.push(fieldErrors.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    }
    if (!e.reportingComponent) errs.push(fieldErrors.required('reportingComponent'));
    else for (const msg of isQualifiedName(e.reportingComponent)) errs.push(fieldErrors.invalid('reportingComponent', e.reportingComponent, msg));
    if (!e.reportingInstance) errs.push(fieldErrors.required('reportingInstance'));
    else if (e.reportingInstance.length > 128) errs.push(fieldErrors.invalid('reportingInstance', '', 'can have at most 128 characters'));
    if (!e.action) errs.push(fieldErrors.required('action'));
    if (!e.reason) errs.push(fieldErrors.required('reason'));
    if ((e.message ?? '').length > 1024) errs.push(fieldErrors.invalid('message', '', 'can have at most 1024 characters'));
  }
  if (ns) for (const msg of isDNS1123Subdomain(ns)) errs.push(fieldErrors.invalid('namespace', ns, msg));
  return errs;
}

function prepare(o: KubeObject): void {
  const e = view(o);
  assertMicroTimes('Event', [e.eventTime, e.series?.lastObservedTime]);
  // The defaults kube's event recorders fill in, so that hand-written events print sensibly.
  if (!e.type) e.type = 'Normal';
  if (e.count === undefined && !e.series) e.count = 1;
  if (isObject(e.source) && e.source.component && !e.reportingComponent) e.reportingComponent = e.source.component;
  if (!e.reportingComponent) e.reportingComponent = '';
  if (!e.reportingInstance) e.reportingInstance = e.source?.host ?? '';
  if (!e.firstTimestamp && !e.eventTime) e.firstTimestamp = String(o.metadata.creationTimestamp ?? '') || null;
  if (!e.lastTimestamp && !e.eventTime) e.lastTimestamp = e.firstTimestamp ?? null;
}

function lastSeen(o: KubeObject): string {
  const e = view(o);
  return textOrEmpty(e.lastTimestamp) || textOrEmpty(e.series?.lastObservedTime) || textOrEmpty(e.eventTime) || textOrEmpty(o.metadata.creationTimestamp);
}

export const eventDefinition: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'Event',
  listKind: 'EventList',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  categories: [],
  schema: eventSchema,
  subresources: {},
  strategy: {
    prepareForCreate: prepare,
    prepareForUpdate: prepare,
    validate: validateEvent,
  },
  // printers.go AddHandlers(eventColumnDefinitions); the trailing wide Name column is the table builder's.
  nameColumnLastAndWide: true,
  columns: [
    { name: 'Last Seen', type: 'date', description: 'The time at which the most recent occurrence of this event was recorded.', priority: 0, cell: lastSeen },
    { name: 'Type', type: 'string', description: 'Type of this event (Normal, Warning), new types could be added in the future', priority: 0, cell: (o) => textOrEmpty(view(o).type) },
    { name: 'Reason', type: 'string', description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", priority: 0, cell: (o) => textOrEmpty(view(o).reason) },
    {
      name: 'Object',
      type: 'string',
      description: 'The object that this event is about.',
      priority: 0,
      cell: (o) => `${textOrEmpty(view(o).involvedObject?.kind).toLowerCase()}/${textOrEmpty(view(o).involvedObject?.name)}`,
    },
    { name: 'Subobject', type: 'string', description: 'If referring to a piece of an object instead of an entire object, a JSON path to it.', priority: 1, cell: (o) => textOrEmpty(view(o).involvedObject?.fieldPath) },
    {
      name: 'Source',
      type: 'string',
      description: 'The component reporting this event.',
      priority: 1,
      cell: (o) => {
        const src = view(o).source;
        const comp = textOrEmpty(src?.component) || textOrEmpty(view(o).reportingComponent);
        return src?.host ? `${comp}, ${src.host}` : comp;
      },
    },
    { name: 'Message', type: 'string', description: 'A human-readable description of the status of this operation.', priority: 0, cell: (o) => textOrEmpty(view(o).message) },
    { name: 'First Seen', type: 'date', description: 'The time at which the event was first recorded.', priority: 1, cell: (o) => textOrEmpty(view(o).firstTimestamp) || textOrEmpty(view(o).eventTime) },
    { name: 'Count', type: 'string', description: 'The number of times this event has occurred.', priority: 1, cell: (o) => String(view(o).series?.count ?? view(o).count ?? 1) },
  ],
  selectableFields: {
    'involvedObject.kind': (o) => textOrEmpty(view(o).involvedObject?.kind),
    'involvedObject.namespace': (o) => textOrEmpty(view(o).involvedObject?.namespace),
    'involvedObject.name': (o) => textOrEmpty(view(o).involvedObject?.name),
    'involvedObject.uid': (o) => textOrEmpty(view(o).involvedObject?.uid),
    'involvedObject.apiVersion': (o) => textOrEmpty(view(o).involvedObject?.apiVersion),
    'involvedObject.resourceVersion': (o) => textOrEmpty(view(o).involvedObject?.resourceVersion),
    'involvedObject.fieldPath': (o) => textOrEmpty(view(o).involvedObject?.fieldPath),
    reason: (o) => textOrEmpty(view(o).reason),
    reportingComponent: (o) => textOrEmpty(view(o).reportingComponent),
    source: (o) => textOrEmpty(view(o).source?.component) || textOrEmpty(view(o).reportingComponent),
    type: (o) => textOrEmpty(view(o).type),
  },
};
