// Standalone mode answers the reviews kube-apiserver would, so `kubectl auth can-i` and `kubectl auth whoami` work
// against the local cluster: authorization.k8s.io/v1 SelfSubjectAccessReview, SubjectAccessReview,
// SelfSubjectRulesReview and authentication.k8s.io/v1 SelfSubjectReview. They are create-only virtual kinds: a POST
// is decided by the server's own authorizer (passed in, so this layer never imports server/) and answered, nothing is
// stored. Upstream: pkg/registry/authorization/{selfsubjectaccessreview,subjectaccessreview,selfsubjectrulesreview}/
// rest.go, pkg/registry/authentication/selfsubjectreview/rest.go, pkg/apis/authorization/validation/validation.go.

import type { ComputeCreateContext, KubeObject, ResourceDefinition } from '../apimachinery/resource-definition.js';
import { nonResourceRequestInfo, type RequestInfo } from '../apimachinery/request-info.js';
import type { NonResourceAttributes, ResourceAttributes } from '../apimachinery/authorization-attributes.js';
import type { UserInfo } from '../apimachinery/user-info.js';
import { OBJECT_META, type ProtoMessage } from '../apimachinery/protobuf-body.js';
import { StatusError, fieldErrors, type FieldError } from '../apimachinery/status-error.js';
import type { JsonSchema } from '../apimachinery/json-schema.js';
import { objectSchema, stringList } from './schema-parts.js';
import { isObject } from './core-validation.js';

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';
export const AUTHENTICATION_GROUP = 'authentication.k8s.io';

/** What the server's authorizer says (its Authorizer.authorize, as a function). */
export interface AccessDecision {
  allowed: boolean;
  /** True only for an explicit deny; false with allowed false is "no opinion" (RBAC never denies). */
  denied?: boolean;
  reason?: string;
}
export type AuthorizeFn = (user: UserInfo, info: RequestInfo) => Promise<AccessDecision> | AccessDecision;

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}
export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}
/** SubjectRulesReviewStatus: what `user` may do in `namespace`, as the authorizer's rules list it. */
export interface SubjectRules {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  incomplete: boolean;
  evaluationError?: string;
}
export type RulesFn = (user: UserInfo, namespace: string) => SubjectRules;

export interface AccessReviewOptions {
  authorize: AuthorizeFn;
  /** Serves selfsubjectrulesreviews (`kubectl auth can-i --list`) when given. */
  rulesFor?: RulesFn;
  clock?: () => Date;
}

interface AccessReviewSpec {
  resourceAttributes?: ResourceAttributes | null;
  nonResourceAttributes?: NonResourceAttributes | null;
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

function specOf(o: KubeObject): AccessReviewSpec {
  return isObject(o.spec) ? (o.spec as AccessReviewSpec) : {};
}

const present = (v: unknown): boolean => v !== undefined && v !== null;

/** The authorizer's attributes for a resourceAttributes (authorizationutil.ResourceAttributesFrom). Pure. */
export function resourceRequestInfo(a: ResourceAttributes): RequestInfo {
  const resource = a.resource ?? '';
  const name = a.name ?? '';
  const subresource = a.subresource ?? '';
  return {
    isResourceRequest: true,
    path: '',
    verb: a.verb ?? '',
    apiPrefix: 'apis',
    apiGroup: a.group ?? '',
    apiVersion: a.version ?? '',
    namespace: a.namespace ?? '',
    resource,
    subresource,
    name,
    parts: [resource, ...(name ? [name] : []), ...(subresource ? [subresource] : [])],
  };
}

/** The authorizer's attributes for a nonResourceAttributes (authorizationutil.NonResourceAttributesFrom). Pure. */
export function nonResourceAttributesInfo(a: NonResourceAttributes): RequestInfo {
  return nonResourceRequestInfo(a.path ?? '', a.verb ?? '');
}

// field.Error prints a struct value with %#v and a nil pointer as "null" (quoted, it being a string by then).
function goNonResourceAttributes(a: NonResourceAttributes | null | undefined): string {
  if (!isObject(a)) return 'null';
  return `authorization.NonResourceAttributes{Path:${JSON.stringify(a.path ?? '')}, Verb:${JSON.stringify(a.verb ?? '')}}`;
}

function attributesErrors(spec: AccessReviewSpec): FieldError[] {
  const errs: FieldError[] = [];
  if (present(spec.resourceAttributes) && present(spec.nonResourceAttributes)) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'spec.nonResourceAttributes',
      detail: `${goNonResourceAttributes(spec.nonResourceAttributes)}: cannot be specified in combination with resourceAttributes`,
    });
  }
  if (!present(spec.resourceAttributes) && !present(spec.nonResourceAttributes)) {
    errs.push(fieldErrors.invalid('spec.resourceAttributes', 'null', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  }
  return errs;
}

// Upstream compares ObjectMeta (managedFields aside) to the zero value; JSON's `creationTimestamp: null` is zero too.
function metadataErrors(o: KubeObject): FieldError[] {
  const { managedFields: _managedFields, ...rest } = o.metadata as Record<string, unknown>;
  const empty = (v: unknown) =>
    v === undefined || v === null || v === '' || v === 0 || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
  return Object.values(rest).every(empty) ? [] : [fieldErrors.invalid('metadata', o.metadata, 'must be empty')];
}

/** ValidateSelfSubjectAccessReview. Pure. */
export function validateSelfSubjectAccessReview(o: KubeObject): FieldError[] {
  return [...attributesErrors(specOf(o)), ...metadataErrors(o)];
}

/** ValidateSubjectAccessReview. Pure. */
export function validateSubjectAccessReview(o: KubeObject): FieldError[] {
  const spec = specOf(o);
  const errs = attributesErrors(spec);
  if (!spec.user && !spec.groups?.length) {
    errs.push(fieldErrors.invalid('spec.user', spec.user ?? '', 'at least one of user or group must be specified'));
  }
  return [...errs, ...metadataErrors(o)];
}

/** SubjectAccessReviewStatus for `user` asking about the spec's attributes (validated already). */
export async function decideAccess(authorize: AuthorizeFn, user: UserInfo, spec: AccessReviewSpec): Promise<Record<string, unknown>> {
  const info = spec.resourceAttributes ? resourceRequestInfo(spec.resourceAttributes) : nonResourceAttributesInfo(spec.nonResourceAttributes ?? {});
  const decision = await authorize(user, info);
  const status: Record<string, unknown> = { allowed: decision.allowed };
  if (decision.denied && !decision.allowed) status.denied = true;
  if (decision.reason) status.reason = decision.reason;
  return status;
}

/** SelfSubjectReviewStatus.userInfo: the caller as authentication saw it. Pure. */
export function userInfoOf(user: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: user.username };
  if (user.uid) out.uid = user.uid;
  if (user.groups.length) out.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length) out.extra = { ...user.extra };
  return out;
}

function callerOf(ctx: ComputeCreateContext): UserInfo {
  if (!ctx.user) throw StatusError.badRequest('no user present on request');
  return ctx.user;
}

/** The answer object: the request as sent, with the status the server computed (metadata stays as sent: empty). */
function answer(o: KubeObject, status: Record<string, unknown>): KubeObject {
  return { ...o, metadata: { ...o.metadata }, status };
}

// ---- schemas (for validation of shapes and OpenAPI) ----

const str = (description: string): JsonSchema => ({ type: 'string', description });

const resourceAttributesSchema: JsonSchema = {
  type: 'object',
  nullable: true,
  description: 'ResourceAttributes includes the authorization attributes available for resource requests to the Authorizer interface',
  properties: {
    namespace: str('Namespace is the namespace of the action being requested.'),
    verb: str('Verb is a kubernetes resource API verb, like: get, list, watch, create, update, delete, proxy.  "*" means all.'),
    group: str('Group is the API Group of the Resource.  "*" means all.'),
    version: str('Version is the API Version of the Resource.  "*" means all.'),
    resource: str('Resource is one of the existing resource types.  "*" means all.'),
    subresource: str('Subresource is one of the existing resource types.  "" means none.'),
    name: str('Name is the name of the resource being requested for a "get" or deleted for a "delete". "" (empty) means all.'),
    fieldSelector: { type: 'object', description: 'fieldSelector describes the limitation on access based on field.', 'x-kubernetes-preserve-unknown-fields': true },
    labelSelector: { type: 'object', description: 'labelSelector describes the limitation on access based on labels.', 'x-kubernetes-preserve-unknown-fields': true },
  },
} as JsonSchema;

const nonResourceAttributesSchema: JsonSchema = {
  type: 'object',
  nullable: true,
  description: 'NonResourceAttributes includes the authorization attributes available for non-resource requests to the Authorizer interface',
  properties: { path: str('Path is the URL path of the request'), verb: str('Verb is the standard HTTP verb') },
} as JsonSchema;

const accessStatusSchema: JsonSchema = {
  type: 'object',
  description: 'Status is filled in by the server and indicates whether the request is allowed or not',
  properties: {
    allowed: { type: 'boolean', description: 'Allowed is required. True if the action would be allowed, false otherwise.' },
    denied: { type: 'boolean', description: 'Denied is optional. True if the action would be denied, otherwise false.' },
    reason: str('Reason is optional.  It indicates why a request was allowed or denied.'),
    evaluationError: str('EvaluationError is an indication that some error occurred during the authorization check.'),
  },
} as JsonSchema;

const extraSchema: JsonSchema = {
  type: 'object',
  additionalProperties: { type: 'array', items: { type: 'string' } },
  description: 'Any additional information provided by the authenticator.',
} as JsonSchema;

const userInfoSchema: JsonSchema = {
  type: 'object',
  description: 'User attributes.',
  properties: {
    username: str('The name that uniquely identifies this user among all active users.'),
    uid: str('A unique value that identifies this user across time.'),
    groups: stringList('The names of groups this user is a part of.'),
    extra: extraSchema,
  },
} as JsonSchema;

const ruleListSchema = (description: string, fields: string[]): JsonSchema =>
  ({
    type: 'array',
    description,
    items: { type: 'object', properties: Object.fromEntries(fields.map((f) => [f, stringList(f)])) },
  }) as JsonSchema;

// ---- protobuf layouts (authorization/v1 and authentication/v1 generated.proto): kubectl sends these as protobuf ----

const selectorAttributesProto: ProtoMessage = {
  1: { name: 'rawSelector', type: 'string' },
  2: {
    name: 'requirements',
    type: 'message',
    repeated: true,
    message: { 1: { name: 'key', type: 'string' }, 2: { name: 'operator', type: 'string' }, 3: { name: 'values', type: 'string', repeated: true } },
  },
};
const resourceAttributesProto: ProtoMessage = {
  1: { name: 'namespace', type: 'string' },
  2: { name: 'verb', type: 'string' },
  3: { name: 'group', type: 'string' },
  4: { name: 'version', type: 'string' },
  5: { name: 'resource', type: 'string' },
  6: { name: 'subresource', type: 'string' },
  7: { name: 'name', type: 'string' },
  8: { name: 'fieldSelector', type: 'message', message: selectorAttributesProto, pointer: true },
  9: { name: 'labelSelector', type: 'message', message: selectorAttributesProto, pointer: true },
};
const nonResourceAttributesProto: ProtoMessage = { 1: { name: 'path', type: 'string' }, 2: { name: 'verb', type: 'string' } };
const accessStatusProto: ProtoMessage = {
  1: { name: 'allowed', type: 'bool' },
  2: { name: 'reason', type: 'string' },
  3: { name: 'evaluationError', type: 'string' },
  4: { name: 'denied', type: 'bool' },
};
const attributesProto = {
  1: { name: 'resourceAttributes', type: 'message', message: resourceAttributesProto, pointer: true },
  2: { name: 'nonResourceAttributes', type: 'message', message: nonResourceAttributesProto, pointer: true },
} as const;
const selfSubjectAccessReviewProto: ProtoMessage = {
  1: { name: 'metadata', type: 'message', message: OBJECT_META },
  2: { name: 'spec', type: 'message', message: attributesProto },
  3: { name: 'status', type: 'message', message: accessStatusProto },
};
const subjectAccessReviewProto: ProtoMessage = {
  1: { name: 'metadata', type: 'message', message: OBJECT_META },
  2: {
    name: 'spec',
    type: 'message',
    message: {
      ...attributesProto,
      3: { name: 'user', type: 'string' },
      4: { name: 'groups', type: 'string', repeated: true },
      6: { name: 'uid', type: 'string' },
    },
  },
  3: { name: 'status', type: 'message', message: accessStatusProto },
};
const selfSubjectRulesReviewProto: ProtoMessage = {
  1: { name: 'metadata', type: 'message', message: OBJECT_META },
  2: { name: 'spec', type: 'message', message: { 1: { name: 'namespace', type: 'string' } } },
  3: {
    name: 'status',
    type: 'message',
    message: {
      1: { name: 'resourceRules', type: 'message', repeated: true, message: { 1: { name: 'verbs', type: 'string', repeated: true }, 2: { name: 'apiGroups', type: 'string', repeated: true }, 3: { name: 'resources', type: 'string', repeated: true }, 4: { name: 'resourceNames', type: 'string', repeated: true } } },
      2: { name: 'nonResourceRules', type: 'message', repeated: true, message: { 1: { name: 'verbs', type: 'string', repeated: true }, 2: { name: 'nonResourceURLs', type: 'string', repeated: true } } },
      3: { name: 'incomplete', type: 'bool' },
      4: { name: 'evaluationError', type: 'string' },
    },
  },
};
const selfSubjectReviewProto: ProtoMessage = {
  1: { name: 'metadata', type: 'message', message: OBJECT_META },
  2: {
    name: 'status',
    type: 'message',
    message: {
      1: {
        name: 'userInfo',
        type: 'message',
        message: { 1: { name: 'username', type: 'string' }, 2: { name: 'uid', type: 'string' }, 3: { name: 'groups', type: 'string', repeated: true } },
      },
    },
  },
};

// ---- definitions ----

function reviewDefinition(
  group: string,
  kind: string,
  schema: JsonSchema,
  protobuf: ProtoMessage,
  validate: ((o: KubeObject) => FieldError[]) | undefined,
  computeCreate: ResourceDefinition['computeCreate'],
): ResourceDefinition {
  const lower = kind.toLowerCase();
  return {
    group,
    version: 'v1',
    kind,
    listKind: `${kind}List`,
    plural: `${lower}s`,
    singular: lower,
    namespaced: false,
    schema,
    protobuf,
    subresources: {},
    strategy: validate ? { validate } : {},
    columns: [],
    verbs: ['create'],
    computeCreate,
  };
}

/** The four review kinds, answered by `authorize` (and `rulesFor`, when given) for the calling user. */
export function accessReviewDefinitions(options: AccessReviewOptions): ResourceDefinition[] {
  const clock = options.clock ?? (() => new Date());
  const accessSpec = (withSubject: boolean): JsonSchema =>
    ({
      type: 'object',
      description: 'Spec holds information about the request being evaluated.',
      properties: {
        resourceAttributes: resourceAttributesSchema,
        nonResourceAttributes: nonResourceAttributesSchema,
        ...(withSubject
          ? { user: str("User is the user you're testing for."), groups: stringList("Groups is the groups you're testing for."), uid: str('UID information about the requesting user.'), extra: extraSchema }
          : {}),
      },
    }) as JsonSchema;

  const defs: ResourceDefinition[] = [
    reviewDefinition(
      AUTHORIZATION_GROUP,
      'SelfSubjectAccessReview',
      objectSchema('SelfSubjectAccessReview checks whether or the current user can perform an action.', { spec: accessSpec(false), status: accessStatusSchema }, ['spec']),
      selfSubjectAccessReviewProto,
      validateSelfSubjectAccessReview,
      async (o, ctx) => answer(o, await decideAccess(options.authorize, callerOf(ctx), specOf(o))),
    ),
    reviewDefinition(
      AUTHORIZATION_GROUP,
      'SubjectAccessReview',
      objectSchema('SubjectAccessReview checks whether or not a user or group can perform an action.', { spec: accessSpec(true), status: accessStatusSchema }, ['spec']),
      subjectAccessReviewProto,
      validateSubjectAccessReview,
      async (o) => {
        const spec = specOf(o);
        const subject: UserInfo = { username: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra };
        return answer(o, await decideAccess(options.authorize, subject, spec));
      },
    ),
    reviewDefinition(
      AUTHENTICATION_GROUP,
      'SelfSubjectReview',
      objectSchema('SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.', {
        status: { type: 'object', description: 'Status is filled in by the server with the user attributes.', properties: { userInfo: userInfoSchema } } as JsonSchema,
      }),
      selfSubjectReviewProto,
      undefined,
      (o, ctx) => ({
        apiVersion: o.apiVersion,
        kind: o.kind,
        metadata: { creationTimestamp: clock().toISOString().replace(/\.\d+Z$/, 'Z') } as unknown as KubeObject['metadata'],
        status: { userInfo: userInfoOf(callerOf(ctx)) },
      }),
    ),
  ];
  const rulesFor = options.rulesFor;
  if (rulesFor) {
    defs.push(
      reviewDefinition(
        AUTHORIZATION_GROUP,
        'SelfSubjectRulesReview',
        objectSchema('SelfSubjectRulesReview enumerates the set of actions the current user can perform within a namespace.', {
          spec: { type: 'object', description: 'Spec holds information about the request being evaluated.', properties: { namespace: str('Namespace to evaluate rules for. Required.') } } as JsonSchema,
          status: {
            type: 'object',
            description: 'Status is filled in by the server and indicates the set of actions a user can perform.',
            properties: {
              resourceRules: ruleListSchema('ResourceRules is the list of actions the subject is allowed to perform on resources.', ['verbs', 'apiGroups', 'resources', 'resourceNames']),
              nonResourceRules: ruleListSchema('NonResourceRules is the list of actions the subject is allowed to perform on non-resources.', ['verbs', 'nonResourceURLs']),
              incomplete: { type: 'boolean', description: 'Incomplete is true when the rules returned by this call are incomplete.' },
              evaluationError: str('EvaluationError can appear in combination with Rules.'),
            },
          } as JsonSchema,
        }),
        selfSubjectRulesReviewProto,
        undefined,
        (o, ctx) => {
          const namespace = isObject(o.spec) && typeof o.spec.namespace === 'string' ? o.spec.namespace : '';
          // selfsubjectrulesreview/rest.go refuses a review without a namespace this way.
          if (!namespace) throw StatusError.badRequest('no namespace on request');
          const rules = rulesFor(callerOf(ctx), namespace);
          const status: Record<string, unknown> = { resourceRules: rules.resourceRules, nonResourceRules: rules.nonResourceRules, incomplete: rules.incomplete };
          if (rules.evaluationError) status.evaluationError = rules.evaluationError;
          return answer(o, status);
        },
      ),
    );
  }
  return defs;
}
