import t from 'tap';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRequestInfo } from '../../src/apimachinery/request-info.js';
import { createAuthorization } from '../../src/server/authorization-config.js';
import { DEFAULT_POLICY, PolicyAuthorizer, loadPolicyFile, parsePolicy, policyRulesFor, ruleAllows } from '../../src/server/policy-file-authorizer.js';

const G = 'volumesnapshot.external-storage.k8s.io';
const user = (username: string, ...groups: string[]) => ({ username, groups: [...groups, 'system:authenticated'] });
const req = (method: string, url: string) => parseRequestInfo(method, url);
const vs = `/apis/${G}/v1/namespaces/default/volumesnapshots`;

t.test('the default policy: masters everything, viewers read-only, everyone else nothing', async (t) => {
  const a = new PolicyAuthorizer();
  const admin = user('admin', 'system:masters');
  const viewer = user('viewer', 'volumesnapshot:viewers');
  const other = user('someone');
  const cases: [string, string, boolean, boolean, boolean][] = [
    // method, url, admin, viewer, other
    ['GET', `${vs}/x`, true, true, false],
    ['GET', vs, true, true, false],
    ['GET', `${vs}?watch=true`, true, true, false],
    ['POST', vs, true, false, false],
    ['PUT', `${vs}/x`, true, false, false],
    ['PATCH', `${vs}/x/status`, true, false, false],
    ['DELETE', `${vs}/x`, true, false, false],
    ['DELETE', vs, true, false, false],
    ['GET', '/api/v1/persistentvolumes', true, true, false],
    ['GET', '/apis', true, true, false],
    ['GET', '/openapi/v3', true, true, false],
    ['POST', '/apis/x', true, false, false],
    // system:basic-user: every authenticated user may ask who they are and what they may do
    ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', true, true, true],
    ['POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', true, true, true],
    ['POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', true, true, true],
    ['POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', true, false, false],
  ];
  for (const [m, u, ad, vi, ot] of cases) {
    t.equal(a.authorize(admin, req(m, u)).allowed, ad, `admin ${m} ${u}`);
    t.equal(a.authorize(viewer, req(m, u)).allowed, vi, `viewer ${m} ${u}`);
    t.equal(a.authorize(other, req(m, u)).allowed, ot, `other ${m} ${u}`);
  }
  t.same(a.authorize(other, req('GET', vs)), { allowed: false }, 'no reason: the 403 reads as RBAC denials do');
  t.same(DEFAULT_POLICY.rules.map((r) => r.groups), [['system:authenticated'], ['system:authenticated'], ['system:masters'], ['volumesnapshot:viewers']]);
});

t.test('policyRulesFor: the rules of the user, the namespace-limited ones only in their namespaces', async (t) => {
  const policy = parsePolicy(`
rules:
  - users: [alice]
    verbs: [get, create]
    apiGroups: ["${G}"]
    resources: [volumesnapshots]
    namespaces: [team-a]
  - groups: [readers]
    verbs: [get]
    apiGroups: ["*"]
    resources: ["*"]
    nonResourceURLs: ["/apis/*"]
  - users: [bob]
    verbs: ["*"]
    apiGroups: ["*"]
    resources: ["*"]
`);
  const alice = user('alice', 'readers');
  t.same(policyRulesFor(policy, alice, 'team-a'), {
    resourceRules: [
      { verbs: ['get', 'create'], apiGroups: [G], resources: ['volumesnapshots'] },
      { verbs: ['get'], apiGroups: ['*'], resources: ['*'] },
    ],
    nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }],
    incomplete: false,
  });
  t.same(policyRulesFor(policy, alice, 'default').resourceRules, [{ verbs: ['get'], apiGroups: ['*'], resources: ['*'] }]);
  t.same(policyRulesFor(policy, user('carol'), 'default'), { resourceRules: [], nonResourceRules: [], incomplete: false });
  t.same(new PolicyAuthorizer(policy).rulesFor(user('bob'), 'x').resourceRules, [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]);
});

t.test('rule matching: users, groups, wildcards, subresources, namespaces, URL prefixes', async (t) => {
  const policy = parsePolicy(`
rules:
  - users: [alice]
    verbs: [get, list, watch, create, update, patch, delete]
    apiGroups: ["${G}"]
    resources: [volumesnapshots]
    namespaces: [team-a]
  - groups: [status-writers]
    verbs: [update, patch]
    apiGroups: ["*"]
    resources: ["*/status"]
  - groups: ["*"]
    verbs: [get]
    nonResourceURLs: ["/apis", "/apis/*", "/version"]
  - users: [pv-reader]
    verbs: [list]
    apiGroups: [""]
    resources: [persistentvolumes]
`);
  const alice = user('alice');
  const writer = user('w', 'status-writers');
  t.ok(ruleAllows(policy.rules[0], alice, req('POST', `/apis/${G}/v1/namespaces/team-a/volumesnapshots`)));
  t.notOk(ruleAllows(policy.rules[0], alice, req('POST', `/apis/${G}/v1/namespaces/team-b/volumesnapshots`)), 'other namespace');
  t.notOk(ruleAllows(policy.rules[0], alice, req('PUT', `/apis/${G}/v1/namespaces/team-a/volumesnapshots/x/status`)), 'subresource needs its own rule');
  t.notOk(ruleAllows(policy.rules[0], alice, req('DELETE', `/apis/${G}/v1/namespaces/team-a/volumesnapshots`)), 'deletecollection is its own verb');
  t.notOk(ruleAllows(policy.rules[0], user('bob'), req('GET', `/apis/${G}/v1/namespaces/team-a/volumesnapshots`)));
  t.ok(ruleAllows(policy.rules[1], writer, req('PATCH', `/apis/${G}/v1/namespaces/x/volumesnapshots/y/status`)));
  t.notOk(ruleAllows(policy.rules[1], writer, req('PATCH', `/apis/${G}/v1/namespaces/x/volumesnapshots/y`)));
  t.ok(ruleAllows(policy.rules[2], user('anyone'), req('GET', `/apis/${G}/v1`)), 'prefix');
  t.ok(ruleAllows(policy.rules[2], user('anyone'), req('GET', '/apis')), 'exact');
  t.notOk(ruleAllows(policy.rules[2], user('anyone'), req('GET', '/openapi/v3')));
  t.notOk(ruleAllows(policy.rules[2], user('anyone'), req('GET', `/apis/${G}/v1/volumesnapshotdatas`)), 'URL rules never match resources');
  t.ok(ruleAllows(policy.rules[3], user('pv-reader'), req('GET', '/api/v1/persistentvolumes')), 'core group is ""');
  t.notOk(ruleAllows(policy.rules[3], user('pv-reader'), req('GET', `/apis/${G}/v1/volumesnapshotdatas`)));
});

t.test('invalid policies are refused with the place of the mistake', async (t) => {
  const bad: [string, RegExp][] = [
    ['rules: [', /^p: not valid YAML/],
    ['- a', /^p: must be a mapping with "rules"/],
    ['rules: {}', /^p: rules: must be a list/],
    ['rules: []\nextra: 1', /^p: unknown field "extra"/],
    ['rules: [{verbs: [get], resources: ["*"], apiGroups: ["*"]}]', /^p: rules\[0\]: needs users or groups/],
    ['rules: [{users: [a], verbs: get, resources: ["*"], apiGroups: ["*"]}]', /^p: rules\[0\]\.verbs: must be a list of strings/],
    ['rules: [{users: [a], verbs: [], resources: ["*"], apiGroups: ["*"]}]', /^p: rules\[0\]\.verbs: must not be empty/],
    ['rules: [{users: [a], verbs: [get]}]', /^p: rules\[0\]: needs resources or nonResourceURLs/],
    ['rules: [{users: [a], verbs: [get], resources: [x]}]', /^p: rules\[0\]\.apiGroups: required with resources/],
    ['rules: [{users: [a], verbs: [get], nonResourceURLs: ["/x"], resourceNames: [y]}]', /^p: rules\[0\]: unknown field "resourceNames"/],
  ];
  for (const [text, want] of bad) t.throws(() => parsePolicy(text, 'p'), want, text);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'policy-'));
  const file = path.join(dir, 'policy.yaml');
  await fs.writeFile(file, 'rules:\n  - users: [a]\n    verbs: [get]\n    nonResourceURLs: ["*"]\n');
  t.same(await loadPolicyFile(file), { rules: [{ users: ['a'], verbs: ['get'], nonResourceURLs: ['*'] }] });
  await t.rejects(loadPolicyFile(path.join(dir, 'missing.yaml')), /ENOENT/);
});

t.test('createAuthorization().rulesFor: masters all, the policy for others, incomplete when a cluster decides', async (t) => {
  const standalone = await createAuthorization({});
  t.same(standalone.rulesFor(user('admin', 'system:masters'), 'default'), {
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  });
  const viewer = standalone.rulesFor(user('viewer', 'volumesnapshot:viewers'), 'default');
  t.same(viewer.resourceRules.map((r) => r.verbs), [['create'], ['create'], ['get', 'list', 'watch']]);
  t.equal(viewer.incomplete, false);
  t.same(standalone.rulesFor(user('someone'), 'default').resourceRules.map((r) => r.resources), [
    ['selfsubjectreviews'],
    ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
  ]);
  const inCluster = await createAuthorization({}, { accessReviewer: { reviewAccess: async () => ({ allowed: true }) } });
  t.same(inCluster.rulesFor(user('someone'), 'default'), { resourceRules: [], nonResourceRules: [], incomplete: true });
  t.same(await inCluster.authorize(user('someone'), req('GET', vs)), { allowed: true }, 'authorize still asks the cluster');
});
