// The access reviews as the local cluster serves them: attributes handed to the authorizer, upstream's validation
// wording, the answers for the caller, and the generic machinery's handling of a create-only virtual kind
// (discovery verbs, 405 for the rest, OpenAPI POST only, nothing stored).
import t from 'tap';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { Registry } from '../../src/apimachinery/registry.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import type { RequestInfo } from '../../src/apimachinery/request-info.js';
import type { UserInfo } from '../../src/apimachinery/user-info.js';
import type { KubeObject } from '../../src/apimachinery/resource-definition.js';
import { aggregatedDiscoveryDoc, apiResourceListDoc } from '../../src/apimachinery/discovery.js';
import { openApiV3Doc } from '../../src/apimachinery/openapi.js';
import {
  accessReviewDefinitions,
  decideAccess,
  nonResourceAttributesInfo,
  resourceRequestInfo,
  userInfoOf,
  validateSelfSubjectAccessReview,
  validateSubjectAccessReview,
  type AccessDecision,
} from '../../src/localcluster/access-reviews.js';
import { formatFieldError } from '../../src/apimachinery/status-error.js';
import { adminApiApp } from '../helpers/admin-api-app.js';
import { rejectionOf } from '../helpers/thrown.js';

const G = 'volumesnapshot.external-storage.k8s.io';
const viewer: UserInfo = { username: 'viewer', uid: 'u-1', groups: ['volumesnapshot:viewers', 'system:authenticated'], extra: { scopes: ['a'] } };

/** An authorizer that lets viewers read and records what it was asked. */
function fakeAuthorizer() {
  const asked: { user: UserInfo; info: RequestInfo }[] = [];
  const authorize = (user: UserInfo, info: RequestInfo): AccessDecision => {
    asked.push({ user, info });
    return ['get', 'list', 'watch'].includes(info.verb) && user.groups.includes('volumesnapshot:viewers')
      ? { allowed: true, reason: 'viewers read' }
      : { allowed: false };
  };
  return { asked, authorize };
}

const review = (kind: string, spec: unknown, group = 'authorization.k8s.io'): KubeObject =>
  ({ apiVersion: `${group}/v1`, kind, metadata: {}, spec }) as unknown as KubeObject;

t.test('attributes: resourceAttributes and nonResourceAttributes become the authorizer request', async (t) => {
  t.same(resourceRequestInfo({ namespace: 'default', verb: 'get', group: G, version: 'v1', resource: 'volumesnapshots', subresource: 'status', name: 's' }), {
    isResourceRequest: true,
    path: '',
    verb: 'get',
    apiPrefix: 'apis',
    apiGroup: G,
    apiVersion: 'v1',
    namespace: 'default',
    resource: 'volumesnapshots',
    subresource: 'status',
    name: 's',
    parts: ['volumesnapshots', 's', 'status'],
  });
  const all = resourceRequestInfo({ verb: 'list', resource: 'pods' });
  t.equal(all.namespace, '', 'no namespace = all namespaces');
  t.equal(all.apiGroup, '', 'core group');
  t.same(all.parts, ['pods']);
  const nr = nonResourceAttributesInfo({ path: '/healthz', verb: 'get' });
  t.equal(nr.isResourceRequest, false);
  t.equal(nr.path, '/healthz');
  t.equal(nr.verb, 'get');
});

t.test('validation in upstream words', async (t) => {
  const msgs = (errs: ReturnType<typeof validateSelfSubjectAccessReview>) => errs.map(formatFieldError);
  t.same(msgs(validateSelfSubjectAccessReview(review('SelfSubjectAccessReview', {}))), [
    'spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
  ]);
  t.same(
    msgs(validateSelfSubjectAccessReview(review('SelfSubjectAccessReview', { resourceAttributes: { verb: 'get' }, nonResourceAttributes: { path: '/x', verb: 'get' } }))),
    ['spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{Path:"/x", Verb:"get"}: cannot be specified in combination with resourceAttributes'],
  );
  t.same(msgs(validateSelfSubjectAccessReview(review('SelfSubjectAccessReview', { nonResourceAttributes: { path: '/x', verb: 'get' } }))), []);
  // JSON's `creationTimestamp: null` and managedFields are an empty ObjectMeta still; a name is not
  const withMeta = (metadata: Record<string, unknown>) => ({ ...review('SelfSubjectAccessReview', { resourceAttributes: { verb: 'get' } }), metadata }) as KubeObject;
  t.same(validateSelfSubjectAccessReview(withMeta({ creationTimestamp: null, managedFields: [{ manager: 'x' }] } as never)), []);
  t.match(msgs(validateSelfSubjectAccessReview(withMeta({ name: 'x' }))), [/^metadata: Invalid value: .*: must be empty$/]);
  t.same(msgs(validateSubjectAccessReview(review('SubjectAccessReview', { resourceAttributes: { verb: 'get' } }))), [
    'spec.user: Invalid value: "": at least one of user or group must be specified',
  ]);
  t.same(validateSubjectAccessReview(review('SubjectAccessReview', { groups: ['g'], resourceAttributes: { verb: 'get' } })), []);
});

t.test('decideAccess: allowed, reason, denied only when the authorizer denies', async (t) => {
  const { asked, authorize } = fakeAuthorizer();
  t.same(await decideAccess(authorize, viewer, { resourceAttributes: { verb: 'get', group: G, resource: 'volumesnapshots' } }), { allowed: true, reason: 'viewers read' });
  t.same(await decideAccess(authorize, viewer, { resourceAttributes: { verb: 'create', group: G, resource: 'volumesnapshots' } }), { allowed: false });
  t.equal(asked[1].info.verb, 'create');
  t.equal(asked[1].user, viewer, 'the caller is the subject');
  t.same(await decideAccess(() => ({ allowed: false, denied: true, reason: 'nope' }), viewer, { nonResourceAttributes: { path: '/x', verb: 'get' } }), {
    allowed: false,
    denied: true,
    reason: 'nope',
  });
  t.same(userInfoOf(viewer), { username: 'viewer', uid: 'u-1', groups: ['volumesnapshot:viewers', 'system:authenticated'], extra: { scopes: ['a'] } });
  t.same(userInfoOf({ username: 'x', groups: [] }), { username: 'x' }, 'empty fields omitted as upstream omits them');
});

t.test('through the Registry: decided for the caller, checked as a create is, nothing stored', async (t) => {
  const store = SqliteStore.open({ path: ':memory:' });
  t.teardown(() => store.close());
  const { asked, authorize } = fakeAuthorizer();
  const clock = () => new Date('2026-01-02T03:04:05.678Z');
  const defs = accessReviewDefinitions({
    authorize,
    rulesFor: (user, namespace) => ({ resourceRules: [{ verbs: ['get'], apiGroups: ['*'], resources: [namespace] }], nonResourceRules: [], incomplete: user.username !== 'viewer' }),
    clock,
  });
  t.same(
    defs.map((d) => `${d.plural}.${d.group} ${d.kind} ${d.namespaced} ${d.verbs?.join(',')}`),
    [
      'selfsubjectaccessreviews.authorization.k8s.io SelfSubjectAccessReview false create',
      'subjectaccessreviews.authorization.k8s.io SubjectAccessReview false create',
      'selfsubjectreviews.authentication.k8s.io SelfSubjectReview false create',
      'selfsubjectrulesreviews.authorization.k8s.io SelfSubjectRulesReview false create',
    ],
  );
  t.equal(accessReviewDefinitions({ authorize }).length, 3, 'no rules review without rulesFor');
  const registry = new Registry({ store, definitions: defs });
  const [ssar, sar, ssr, ssrr] = defs;

  const yes = await registry.computeCreate(ssar, review('SelfSubjectAccessReview', { resourceAttributes: { verb: 'get', group: G, resource: 'volumesnapshots', namespace: 'default' } }), { user: viewer });
  t.same(yes.status, { allowed: true, reason: 'viewers read' });
  t.same(yes.spec, { resourceAttributes: { verb: 'get', group: G, resource: 'volumesnapshots', namespace: 'default' } }, 'the spec comes back as sent');
  t.notOk(yes.metadata.uid, 'no uid');
  t.notOk(yes.metadata.resourceVersion, 'no resourceVersion');
  t.equal(asked.at(-1)?.user, viewer);
  t.equal(asked.at(-1)?.info.namespace, 'default');

  const no = await registry.computeCreate(ssar, review('SelfSubjectAccessReview', { resourceAttributes: { verb: 'delete', group: G, resource: 'volumesnapshots' } }), { user: viewer });
  t.same(no.status, { allowed: false });

  // SubjectAccessReview asks about the spec's subject, not the caller
  const other = await registry.computeCreate(sar, review('SubjectAccessReview', { user: 'bob', groups: ['volumesnapshot:viewers'], uid: 'b', resourceAttributes: { verb: 'list' } }), {
    user: { username: 'admin', groups: ['system:masters'] },
  });
  t.same(other.status, { allowed: true, reason: 'viewers read' });
  t.same(asked.at(-1)?.user, { username: 'bob', uid: 'b', groups: ['volumesnapshot:viewers'], extra: undefined });

  const me = await registry.computeCreate(ssr, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} } as unknown as KubeObject, { user: viewer });
  t.same(me, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
    metadata: { creationTimestamp: '2026-01-02T03:04:05Z' },
    status: { userInfo: { username: 'viewer', uid: 'u-1', groups: ['volumesnapshot:viewers', 'system:authenticated'], extra: { scopes: ['a'] } } },
  });

  const rules = await registry.computeCreate(ssrr, review('SelfSubjectRulesReview', { namespace: 'team-a' }), { user: viewer });
  t.same(rules.status, { resourceRules: [{ verbs: ['get'], apiGroups: ['*'], resources: ['team-a'] }], nonResourceRules: [], incomplete: false });
  t.match(await rejectionOf(StatusError, registry.computeCreate(ssrr, review('SelfSubjectRulesReview', {}), { user: viewer })), { code: 400, message: 'no namespace on request' });

  const invalid = await rejectionOf(StatusError, registry.computeCreate(ssar, review('SelfSubjectAccessReview', {}), { user: viewer }));
  t.match(invalid, {
    code: 422,
    reason: 'Invalid',
    message:
      'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
  });
  t.match(await rejectionOf(StatusError, registry.computeCreate(ssar, { ...review('SelfSubjectAccessReview', { resourceAttributes: {} }), apiVersion: 'authorization.k8s.io/v1beta1' }, { user: viewer })), {
    code: 400,
    message: 'the API version in the data (authorization.k8s.io/v1beta1) does not match the expected API version (authorization.k8s.io/v1)',
  });
  t.match(await rejectionOf(StatusError, registry.computeCreate(ssar, review('SubjectAccessReview', { resourceAttributes: {} }), { user: viewer })), {
    code: 422,
    message: /kind: Invalid value: "SubjectAccessReview": must be SelfSubjectAccessReview/,
  });
  const warnings: string[] = [];
  await registry.computeCreate(ssar, review('SelfSubjectAccessReview', { resourceAttributes: { verb: 'get' }, bogus: 1 }), { user: viewer, fieldValidation: 'Warn', warnings });
  t.same(warnings, ['unknown field "spec.bogus"']);
  t.match(await rejectionOf(StatusError, registry.computeCreate(ssar, review('SelfSubjectAccessReview', { resourceAttributes: {} }), {})), { code: 400, message: 'no user present on request' });
  t.match(await rejectionOf(StatusError, registry.computeCreate(registry.lookup('authorization.k8s.io', 'selfsubjectaccessreviews')!, review('SelfSubjectAccessReview', {}), { user: viewer })), { code: 422 });
});

t.test('a create-only kind in discovery, OpenAPI and routing', async (t) => {
  const store = SqliteStore.open({ path: ':memory:' });
  t.teardown(() => store.close());
  const defs = accessReviewDefinitions({ authorize: fakeAuthorizer().authorize });
  const registry = new Registry({ store, definitions: defs });

  const list = apiResourceListDoc(defs, 'authorization.k8s.io', 'v1') as { resources: Record<string, unknown>[] };
  t.same(list.resources[0], { name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] }, 'no storageVersionHash');
  const agg = aggregatedDiscoveryDoc(defs, false, 'v2') as { items: { metadata: { name: string }; versions: { resources: { resource: string; verbs: string[] }[] }[] }[] };
  t.same(
    agg.items.map((i) => [i.metadata.name, i.versions[0].resources.map((r) => `${r.resource}:${r.verbs.join(',')}`)]),
    [
      ['authorization.k8s.io', ['selfsubjectaccessreviews:create', 'subjectaccessreviews:create']],
      ['authentication.k8s.io', ['selfsubjectreviews:create']],
    ],
  );
  const v3 = openApiV3Doc(defs, 'authorization.k8s.io', 'v1', { patchTypes: [] }) as { paths: Record<string, Record<string, unknown>> };
  t.same(Object.keys(v3.paths), ['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', '/apis/authorization.k8s.io/v1/subjectaccessreviews']);
  t.ok(v3.paths['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'].post, 'POST published');
  t.notOk(v3.paths['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'].get, 'no list');

  const app = await adminApiApp({ registry });
  t.teardown(() => app.close());
  const base = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
  const body = JSON.stringify(review('SelfSubjectAccessReview', { resourceAttributes: { verb: 'get', resource: 'pods' } }));
  const created = await app.inject({ method: 'POST', url: base, headers: { 'content-type': 'application/json' }, payload: body });
  t.equal(created.statusCode, 201);
  t.match(created.json(), { kind: 'SelfSubjectAccessReview', status: { allowed: false } });
  for (const [method, url] of [
    ['GET', base],
    ['GET', `${base}/x`],
    ['DELETE', `${base}/x`],
    ['PUT', `${base}/x`],
    ['GET', `${base}?watch=true`],
  ] as const) {
    const r = await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: method === 'PUT' ? body : undefined });
    t.equal(r.statusCode, 405, `${method} ${url}`);
    t.match(r.json(), { reason: 'MethodNotAllowed', message: 'the server does not allow this method on the requested resource' });
  }
  t.same(await store.list('authorization.k8s.io/selfsubjectaccessreviews', {}).then((l) => l.items), [], 'nothing stored');
});
