// OpenAPI documents built from the definitions' JSON Schemas, shaped like kube-apiserver's (kube-openapi builder +
// the CRD builder of apiextensions-apiserver): every path and operation with x-kubernetes-action and
// x-kubernetes-group-version-kind, the query parameters kubectl looks for (a PATCH with `fieldValidation` is what
// makes `kubectl create` send fieldValidation=Strict), and component schemas so `kubectl explain` works.

import { createHash } from 'node:crypto';
import { groupVersionPath, type ResourceDefinition } from './resource-definition.js';
import { openApiPatchExtensions } from './strategic-merge-patch.js';

type Json = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** `widgets.example.com` → `com.example.widgets` (the CRD builder's naming: the group reversed). */
export function schemaPrefix(group: string, version: string): string {
  const reversed = group ? group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${reversed}.${version}`;
}

export function schemaNameOf(def: Pick<ResourceDefinition, 'group' | 'version' | 'kind'>): string {
  return `${schemaPrefix(def.group, def.version)}.${def.kind}`;
}

function gvk(def: ResourceDefinition, kind = def.kind): Json {
  return { group: def.group, kind, version: def.version };
}

interface Param {
  name: string;
  in: 'query' | 'path';
  description: string;
  type: 'string' | 'boolean' | 'integer';
  required?: boolean;
}

const P: Record<string, Param> = {
  pretty: { name: 'pretty', in: 'query', type: 'string', description: "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)." },
  dryRun: { name: 'dryRun', in: 'query', type: 'string', description: 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed' },
  fieldManager: { name: 'fieldManager', in: 'query', type: 'string', description: 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.' },
  fieldValidation: { name: 'fieldValidation', in: 'query', type: 'string', description: 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.' },
  force: { name: 'force', in: 'query', type: 'boolean', description: 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.' },
  labelSelector: { name: 'labelSelector', in: 'query', type: 'string', description: 'A selector to restrict the list of returned objects by their labels. Defaults to everything.' },
  fieldSelector: { name: 'fieldSelector', in: 'query', type: 'string', description: 'A selector to restrict the list of returned objects by their fields. Defaults to everything.' },
  limit: { name: 'limit', in: 'query', type: 'integer', description: 'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.' },
  continue: { name: 'continue', in: 'query', type: 'string', description: 'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue).' },
  resourceVersion: { name: 'resourceVersion', in: 'query', type: 'string', description: 'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details. Defaults to unset' },
  resourceVersionMatch: { name: 'resourceVersionMatch', in: 'query', type: 'string', description: 'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set. Defaults to unset' },
  watch: { name: 'watch', in: 'query', type: 'boolean', description: 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.' },
  allowWatchBookmarks: { name: 'allowWatchBookmarks', in: 'query', type: 'boolean', description: 'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion.' },
  sendInitialEvents: { name: 'sendInitialEvents', in: 'query', type: 'boolean', description: '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic "Bookmark" event will be sent. The bookmark will report the ResourceVersion (RV) corresponding to the set of objects, and be marked with `"k8s.io/initial-events-end": "true"` annotation.' },
  timeoutSeconds: { name: 'timeoutSeconds', in: 'query', type: 'integer', description: 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.' },
  gracePeriodSeconds: { name: 'gracePeriodSeconds', in: 'query', type: 'integer', description: 'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately.' },
  propagationPolicy: { name: 'propagationPolicy', in: 'query', type: 'string', description: "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'." },
  namespace: { name: 'namespace', in: 'path', type: 'string', required: true, description: 'object name and auth scope, such as for teams and projects' },
  name: { name: 'name', in: 'path', type: 'string', required: true, description: 'name of the resource' },
};

const LIST_PARAMS = ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'];
const CREATE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation'];
const PATCH_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force'];
const DELETE_PARAMS = ['dryRun', 'gracePeriodSeconds', 'propagationPolicy'];
const DELETECOLLECTION_PARAMS = [...DELETE_PARAMS, 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds'];
const GET_PARAMS = ['resourceVersion'];

export interface OpenApiOptions {
  /** Patch media types the server accepts (listed as PATCH's consumes/requestBody). */
  patchTypes: string[];
}

interface Operation {
  method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  action: string;
  id: string;
  description: string;
  params: string[];
  body?: 'object' | 'patch' | 'deleteOptions';
  response: string; // schema name
  created?: boolean;
  kind?: string;
}

interface PathSpec {
  path: string;
  pathParams: string[];
  ops: Operation[];
}

function opName(verb: string, def: ResourceDefinition, suffix = ''): string {
  const group = def.group
    .split('.')
    .map((p, i) => (i === 0 ? p : p[0].toUpperCase() + p.slice(1)))
    .join('');
  const gv = `${group.replace(/-./g, (m) => m[1].toUpperCase())}${def.version[0].toUpperCase()}${def.version.slice(1)}`;
  return `${verb}${gv[0]?.toUpperCase() ?? ''}${gv.slice(1)}${suffix}`;
}

function pathsOf(def: ResourceDefinition): PathSpec[] {
  const base = groupVersionPath(def);
  const nsPart = def.namespaced ? '/namespaces/{namespace}' : '';
  const nsParams = def.namespaced ? ['namespace'] : [];
  const kindName = schemaNameOf(def);
  const listName = `${schemaPrefix(def.group, def.version)}.${def.listKind}`;
  const scoped = def.namespaced ? 'Namespaced' : '';
  const out: PathSpec[] = [];
  out.push({
    path: `${base}${nsPart}/${def.plural}`,
    pathParams: nsParams,
    ops: [
      { method: 'get', action: 'list', id: opName('list', def, `${scoped}${def.kind}`), description: `list or watch objects of kind ${def.kind}`, params: LIST_PARAMS, response: listName, kind: def.kind },
      { method: 'post', action: 'post', id: opName('create', def, `${scoped}${def.kind}`), description: `create a ${def.kind}`, params: CREATE_PARAMS, body: 'object', response: kindName, created: true },
      { method: 'delete', action: 'deletecollection', id: opName('deletecollection', def, `${scoped}${def.kind}`), description: `delete collection of ${def.kind}`, params: DELETECOLLECTION_PARAMS, body: 'deleteOptions', response: `${META}.Status` },
    ],
  });
  out.push({
    path: `${base}${nsPart}/${def.plural}/{name}`,
    pathParams: ['name', ...nsParams],
    ops: [
      { method: 'get', action: 'get', id: opName('read', def, `${scoped}${def.kind}`), description: `read the specified ${def.kind}`, params: GET_PARAMS, response: kindName },
      { method: 'put', action: 'put', id: opName('replace', def, `${scoped}${def.kind}`), description: `replace the specified ${def.kind}`, params: CREATE_PARAMS, body: 'object', response: kindName, created: true },
      { method: 'delete', action: 'delete', id: opName('delete', def, `${scoped}${def.kind}`), description: `delete a ${def.kind}`, params: DELETE_PARAMS, body: 'deleteOptions', response: `${META}.Status` },
      { method: 'patch', action: 'patch', id: opName('patch', def, `${scoped}${def.kind}`), description: `partially update the specified ${def.kind}`, params: PATCH_PARAMS, body: 'patch', response: kindName },
    ],
  });
  if (def.subresources.status) {
    out.push({
      path: `${base}${nsPart}/${def.plural}/{name}/status`,
      pathParams: ['name', ...nsParams],
      ops: [
        { method: 'get', action: 'get', id: opName('read', def, `${scoped}${def.kind}Status`), description: `read status of the specified ${def.kind}`, params: GET_PARAMS, response: kindName },
        { method: 'put', action: 'put', id: opName('replace', def, `${scoped}${def.kind}Status`), description: `replace status of the specified ${def.kind}`, params: CREATE_PARAMS, body: 'object', response: kindName, created: true },
        { method: 'patch', action: 'patch', id: opName('patch', def, `${scoped}${def.kind}Status`), description: `partially update status of the specified ${def.kind}`, params: PATCH_PARAMS, body: 'patch', response: kindName },
      ],
    });
  }
  if (def.namespaced) {
    out.push({
      path: `${base}/${def.plural}`,
      pathParams: [],
      ops: [
        { method: 'get', action: 'list', id: opName('list', def, `${def.kind}ForAllNamespaces`), description: `list or watch objects of kind ${def.kind}`, params: LIST_PARAMS, response: listName },
      ],
    });
  }
  // A kind serving only some verbs (the create-only reviews) publishes only those operations.
  const verbs = def.verbs;
  if (!verbs) return out;
  const verbOf: Record<string, string> = { post: 'create', put: 'update' };
  return out
    .map((p) => ({ ...p, ops: p.ops.filter((op) => verbs.includes(verbOf[op.action] ?? op.action)) }))
    .filter((p) => p.ops.length > 0);
}

function tagOf(def: ResourceDefinition): string {
  const group = def.group ? def.group.split('.')[0] : 'core';
  return `${group}_${def.version}`;
}

// ---- component schemas ----

function describeMetadata(ref: (name: string) => string, description: string): Json {
  return { description, allOf: [{ $ref: ref(`${META}.ObjectMeta`) }] };
}

function kindSchema(def: ResourceDefinition, ref: (name: string) => string, v2: boolean): Json {
  // Lists the server merges in a strategic merge patch carry x-kubernetes-patch-strategy/-merge-key, which is what
  // kubectl's client-side apply reads to build its patch: both sides then treat every list alike.
  const schema = structuredClone(openApiPatchExtensions(def.schema)) as Json;
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const metaDesc = (props.metadata?.description as string | undefined) ?? "Standard object's metadata.";
  props.metadata = v2 ? { $ref: ref(`${META}.ObjectMeta`), description: metaDesc } : describeMetadata(ref, metaDesc);
  schema.properties = props;
  schema['x-kubernetes-group-version-kind'] = [gvk(def)];
  return v2 ? stripNullable(schema) : schema;
}

/** Swagger 2.0 has no `nullable`; the keyword goes, as kube-openapi's v2 conversion drops it. */
function stripNullable(s: unknown): Json {
  if (Array.isArray(s)) return s.map(stripNullable) as unknown as Json;
  if (s === null || typeof s !== 'object') return s as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) if (k !== 'nullable') out[k] = stripNullable(v);
  return out;
}

function listSchema(def: ResourceDefinition, ref: (name: string) => string): Json {
  return {
    description: `${def.listKind} is a list of ${def.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      items: { type: 'array', description: `List of ${def.plural}.`, items: { $ref: ref(schemaNameOf(def)) } },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { $ref: ref(`${META}.ListMeta`), description: 'Standard list metadata.' },
    },
    'x-kubernetes-group-version-kind': [gvk(def, def.listKind)],
  };
}

function metaSchemas(ref: (name: string) => string): Record<string, Json> {
  const str = (description: string): Json => ({ type: 'string', description });
  return {
    [`${META}.ObjectMeta`]: {
      description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
      type: 'object',
      properties: {
        annotations: { type: 'object', additionalProperties: { type: 'string' }, description: 'Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata.' },
        creationTimestamp: { ...str('CreationTimestamp is a timestamp representing the server time when this object was created.'), format: 'date-time' },
        deletionGracePeriodSeconds: { type: 'integer', format: 'int64', description: 'Number of seconds allowed for this object to gracefully terminate before it will be removed from the system.' },
        deletionTimestamp: { ...str('DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted.'), format: 'date-time' },
        finalizers: { type: 'array', items: { type: 'string' }, description: 'Must be empty before the object is deleted from the registry.', 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
        generateName: str('GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided.'),
        generation: { type: 'integer', format: 'int64', description: 'A sequence number representing a specific generation of the desired state.' },
        labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Map of string keys and values that can be used to organize and categorize (scope and select) objects.' },
        managedFields: { type: 'array', items: { $ref: ref(`${META}.ManagedFieldsEntry`) }, description: 'ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow.' },
        name: str('Name must be unique within a namespace.'),
        namespace: str('Namespace defines the space within which each name must be unique.'),
        ownerReferences: { type: 'array', items: { $ref: ref(`${META}.OwnerReference`) }, description: 'List of objects depended by this object.', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['uid'], 'x-kubernetes-patch-merge-key': 'uid', 'x-kubernetes-patch-strategy': 'merge' },
        resourceVersion: str('An opaque value that represents the internal version of this object.'),
        selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
        uid: str('UID is the unique in time and space value for this object.'),
      },
    },
    [`${META}.OwnerReference`]: {
      description: 'OwnerReference contains enough information to let you identify an owning object.',
      type: 'object',
      required: ['apiVersion', 'kind', 'name', 'uid'],
      properties: {
        apiVersion: str('API version of the referent.'),
        blockOwnerDeletion: { type: 'boolean', description: 'If true, AND if the owner has the "foregroundDeletion" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed.' },
        controller: { type: 'boolean', description: 'If true, this reference points to the managing controller.' },
        kind: str('Kind of the referent.'),
        name: str('Name of the referent.'),
        uid: str('UID of the referent.'),
      },
      'x-kubernetes-map-type': 'atomic',
    },
    [`${META}.ManagedFieldsEntry`]: {
      description: 'ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.',
      type: 'object',
      properties: {
        apiVersion: str('APIVersion defines the version of this resource that this field set applies to.'),
        fieldsType: str('FieldsType is the discriminator for the different fields format and version.'),
        fieldsV1: { type: 'object', description: 'FieldsV1 holds the first JSON version format as described in the "FieldsV1" type.' },
        manager: str('Manager is an identifier of the workflow managing these fields.'),
        operation: str('Operation is the type of operation which lead to this ManagedFieldsEntry being created.'),
        subresource: str('Subresource is the name of the subresource used to update that object.'),
        time: { ...str('Time is the timestamp of when the ManagedFields entry was added.'), format: 'date-time' },
      },
    },
    [`${META}.ListMeta`]: {
      description: 'ListMeta describes metadata that synthetic resources must have, including lists and various status objects.',
      type: 'object',
      properties: {
        continue: str('continue may be set if the user set a limit on the number of items returned.'),
        remainingItemCount: { type: 'integer', format: 'int64', description: 'remainingItemCount is the number of subsequent items in the list which are not included in this list response.' },
        resourceVersion: str("String that identifies the server's internal version of this object."),
        selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
      },
    },
    [`${META}.Status`]: {
      description: 'Status is a return value for calls that don\'t return other objects.',
      type: 'object',
      properties: {
        apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
        code: { type: 'integer', format: 'int32', description: 'Suggested HTTP return code for this status, 0 if not set.' },
        details: { type: 'object', description: 'Extended data associated with the reason.' },
        kind: str('Kind is a string value representing the REST resource this object represents.'),
        message: str('A human-readable description of the status of this operation.'),
        metadata: { $ref: ref(`${META}.ListMeta`), description: 'Standard list metadata.' },
        reason: str('A machine-readable description of why this operation is in the "Failure" status.'),
        status: str('Status of the operation. One of: "Success" or "Failure".'),
      },
      'x-kubernetes-group-version-kind': [{ group: '', kind: 'Status', version: 'v1' }],
    },
    [`${META}.Preconditions`]: {
      description: 'Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.',
      type: 'object',
      properties: { resourceVersion: str('Specifies the target ResourceVersion'), uid: str('Specifies the target UID.') },
    },
    [`${META}.DeleteOptions`]: {
      description: 'DeleteOptions may be provided when deleting an API object.',
      type: 'object',
      properties: {
        apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
        dryRun: { type: 'array', items: { type: 'string' }, description: 'When present, indicates that modifications should not be persisted.' },
        gracePeriodSeconds: { type: 'integer', format: 'int64', description: 'The duration in seconds before the object should be deleted.' },
        kind: str('Kind is a string value representing the REST resource this object represents.'),
        orphanDependents: { type: 'boolean', description: 'Deprecated: please use the PropagationPolicy.' },
        preconditions: { $ref: ref(`${META}.Preconditions`), description: 'Must be fulfilled before a deletion is carried out.' },
        propagationPolicy: str("Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
      },
    },
    [`${META}.Patch`]: {
      description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
      type: 'object',
    },
    [`${META}.WatchEvent`]: {
      description: 'Event represents a single event to a watched resource.',
      type: 'object',
      required: ['type', 'object'],
      properties: {
        object: { type: 'object', description: 'Object is: * If Type is Added or Modified: the new state of the object. * If Type is Deleted: the state of the object immediately before deletion. * If Type is Error: *Status is recommended; other types may make sense depending on context.' },
        type: { type: 'string' },
      },
    },
  };
}

// ---- v3 ----

function v3Param(name: string): Json {
  const p = P[name];
  const out: Json = { name: p.name, in: p.in, description: p.description, schema: { type: p.type, uniqueItems: true } };
  if (p.required) out.required = true;
  return out;
}

const RESPONSE_TYPES = ['application/json', 'application/yaml'];
const WATCH_TYPES = ['application/json;stream=watch'];

function v3Content(schemaRef: string, types: string[]): Json {
  const content: Json = {};
  for (const t of types) content[t] = { schema: { $ref: schemaRef } };
  return content;
}

export function openApiV3Doc(defs: readonly ResourceDefinition[], group: string, version: string, options: OpenApiOptions): Json | undefined {
  const mine = defs.filter((d) => d.group === group && d.version === version);
  if (mine.length === 0) return undefined;
  const ref = (name: string) => `#/components/schemas/${name}`;
  const paths: Json = {};
  const schemas: Record<string, Json> = metaSchemas(ref);
  for (const def of mine) {
    schemas[schemaNameOf(def)] = kindSchema(def, ref, false);
    schemas[`${schemaPrefix(def.group, def.version)}.${def.listKind}`] = listSchema(def, ref);
    for (const spec of pathsOf(def)) {
      const item: Json = { parameters: [...spec.pathParams.map(v3Param), v3Param('pretty')] };
      for (const op of spec.ops) {
        const o: Json = {
          tags: [tagOf(def)],
          description: op.description,
          operationId: op.id,
          parameters: op.params.map(v3Param),
        };
        if (op.body === 'object') {
          o.requestBody = { content: v3Content(ref(schemaNameOf(def)), ['*/*']), required: true };
        } else if (op.body === 'patch') {
          o.requestBody = { content: v3Content(ref(`${META}.Patch`), options.patchTypes), required: true };
        } else if (op.body === 'deleteOptions') {
          o.requestBody = { content: v3Content(ref(`${META}.DeleteOptions`), ['*/*']) };
        }
        const okTypes = op.action === 'list' ? [...RESPONSE_TYPES, ...WATCH_TYPES] : RESPONSE_TYPES;
        const responses: Json = {
          '200': { description: 'OK', content: v3Content(ref(op.response), okTypes) },
          '401': { description: 'Unauthorized' },
        };
        if (op.created) responses['201'] = { description: 'Created', content: v3Content(ref(op.response), RESPONSE_TYPES) };
        if (op.action === 'delete') responses['202'] = { description: 'Accepted', content: v3Content(ref(op.response), RESPONSE_TYPES) };
        o.responses = responses;
        o['x-kubernetes-action'] = op.action;
        o['x-kubernetes-group-version-kind'] = gvk(def);
        item[op.method] = o;
      }
      paths[spec.path] = item;
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
}

/** The /openapi/v3 index: `apis/<g>/<v>` (or `api/v1`) → its URL with a content hash. */
export function openApiV3Index(defs: readonly ResourceDefinition[], hashOf: (group: string, version: string) => string): Json {
  const paths: Json = {};
  const seen = new Set<string>();
  for (const d of defs) {
    const key = groupVersionPath(d).slice(1);
    if (seen.has(key)) continue;
    seen.add(key);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hashOf(d.group, d.version)}` };
  }
  return { paths };
}

// ---- v2 ----

function v2Param(name: string): Json {
  const p = P[name];
  const out: Json = { type: p.type, uniqueItems: true, description: p.description, name: p.name, in: p.in };
  if (p.required) out.required = true;
  return out;
}

export function openApiV2Doc(defs: readonly ResourceDefinition[], options: OpenApiOptions): Json {
  const ref = (name: string) => `#/definitions/${name}`;
  const definitions: Record<string, Json> = stripNullable(metaSchemas(ref)) as Record<string, Json>;
  const paths: Json = {};
  for (const def of defs) {
    definitions[schemaNameOf(def)] = kindSchema(def, ref, true);
    definitions[`${schemaPrefix(def.group, def.version)}.${def.listKind}`] = listSchema(def, ref);
    for (const spec of pathsOf(def)) {
      const item: Json = { parameters: [...spec.pathParams.map(v2Param), v2Param('pretty')] };
      for (const op of spec.ops) {
        const params: Json[] = op.params.map(v2Param);
        if (op.body === 'object') params.unshift({ name: 'body', in: 'body', required: true, schema: { $ref: ref(schemaNameOf(def)) } });
        if (op.body === 'patch') params.unshift({ name: 'body', in: 'body', required: true, schema: { $ref: ref(`${META}.Patch`) } });
        if (op.body === 'deleteOptions') params.unshift({ name: 'body', in: 'body', schema: { $ref: ref(`${META}.DeleteOptions`) } });
        const responses: Json = { '200': { description: 'OK', schema: { $ref: ref(op.response) } }, '401': { description: 'Unauthorized' } };
        if (op.created) responses['201'] = { description: 'Created', schema: { $ref: ref(op.response) } };
        const o: Json = {
          description: op.description,
          consumes: op.body === 'patch' ? options.patchTypes : ['*/*'],
          produces: op.action === 'list' ? ['application/json', 'application/yaml', 'application/json;stream=watch'] : ['application/json', 'application/yaml'],
          schemes: ['https'],
          tags: [tagOf(def)],
          operationId: op.id,
          parameters: params,
          responses,
          'x-kubernetes-action': op.action,
          'x-kubernetes-group-version-kind': gvk(def),
        };
        item[op.method] = o;
      }
      paths[spec.path] = item;
    }
  }
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths,
    definitions,
    securityDefinitions: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
}

export function hashOfDoc(doc: unknown): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 128).toUpperCase();
}


// ---- v2 as protobuf ----

function protoField(field: number, payload: Buffer): Buffer {
  const tag = (field << 3) | 2;
  const len: number[] = [];
  let n = payload.length;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    len.push(b);
  } while (n);
  return Buffer.concat([Buffer.from([tag]), Buffer.from(len), payload]);
}

/** What kubectl asks for, and what kube-openapi answers with (Go's mime parser rejects the '@' form). */
export const OPENAPI_V2_PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/**
 * The /openapi/v2 answer for clients that only take protobuf (kubectl's client-side validation fallback): a gnostic
 * openapi_v2.Document with swagger, info and empty paths but no definitions. kubectl then finds no model for a kind
 * and skips client-side validation — as it does upstream for kinds missing from the spec — so an unknown kind ends in
 * the usual "no matches for kind" rather than "failed to download openapi". The full document is served as JSON.
 */
export function openApiV2ProtobufHeader(): Buffer {
  const info = Buffer.concat([protoField(1, Buffer.from('Kubernetes')), protoField(2, Buffer.from('unversioned'))]);
  return Buffer.concat([protoField(1, Buffer.from('2.0')), protoField(2, info), protoField(8, Buffer.alloc(0))]);
}
