// The real server in standalone mode (`serve --local-cluster`) and the real kubectl (v1.35) with the two generated
// kubeconfigs: `kubectl auth can-i`, `auth can-i --list` and `auth whoami` answer from the server's own policy, as
// kube-apiserver answers them (kubectl sends the reviews as protobuf), and `api-resources` lists the review kinds
// with their one verb.
import t from 'tap';
import { startServer } from '../helpers/test-server.js';
import { makeKubectl } from '../helpers/kubectl.js';

const VS = 'volumesnapshots.volumesnapshot.external-storage.k8s.io';

t.test('kubectl auth can-i / whoami against the local cluster', async (t) => {
  const server = await startServer({ args: ['--worker=false'] });
  t.teardown(() => server.stop());
  const admin = await makeKubectl(server.kubeconfig);
  const viewer = await makeKubectl(server.viewerKubeconfig);

  t.test('can-i: admin may create snapshots, the viewer may only read them', async (t) => {
    const a = await admin.run(['auth', 'can-i', 'create', VS]);
    t.same([a.code, a.stdout.trim()], [0, 'yes'], a.stderr);
    const v = await viewer.run(['auth', 'can-i', 'create', VS]);
    t.same([v.code, v.stdout.trim()], [1, 'no'], v.stderr);
    const get = await viewer.run(['auth', 'can-i', 'get', 'vsnap']);
    t.same([get.code, get.stdout.trim()], [0, 'yes'], get.stderr);
    const pvc = await viewer.run(['auth', 'can-i', 'delete', 'pvc', '-n', 'kube-system']);
    t.same([pvc.code, pvc.stdout.trim()], [1, 'no'], pvc.stderr);
    const url = await viewer.run(['auth', 'can-i', 'get', '/version']);
    t.same([url.code, url.stdout.trim()], [0, 'yes'], url.stderr);
    const post = await viewer.run(['auth', 'can-i', 'post', '/apis']);
    t.same([post.code, post.stdout.trim()], [1, 'no'], post.stderr);
  });

  t.test('whoami: the certificate user and its groups', async (t) => {
    t.match(await admin.output(['auth', 'whoami']), /^ATTRIBUTE\s+VALUE\nUsername\s+admin\nGroups\s+\[system:masters system:authenticated\]\n$/);
    t.match(await viewer.output(['auth', 'whoami']), /^ATTRIBUTE\s+VALUE\nUsername\s+viewer\nGroups\s+\[volumesnapshot:viewers system:authenticated\]\n$/);
    const json = JSON.parse(await viewer.output(['auth', 'whoami', '-o', 'json']));
    t.same(json.status, { userInfo: { username: 'viewer', groups: ['volumesnapshot:viewers', 'system:authenticated'] } });
    t.equal(json.kind, 'SelfSubjectReview');
  });

  t.test('can-i --list: the policy rules of the caller', async (t) => {
    t.match(await admin.output(['auth', 'can-i', '--list']), /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n\*\.\*\s+\[\]\s+\[\]\s+\[\*\]\n\s+\[\*\]\s+\[\]\s+\[\*\]\n$/);
    const out = await viewer.output(['auth', 'can-i', '--list']);
    t.match(out, /^\*\.\*\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    t.match(out, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    t.match(out, /^selfsubjectreviews\.authentication\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
  });

  t.test('SubjectAccessReview: the admin asks about someone else; the viewer may not', async (t) => {
    const sar = `apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: viewer
  groups: [volumesnapshot:viewers]
  resourceAttributes: {verb: delete, group: volumesnapshot.external-storage.k8s.io, resource: volumesnapshots, namespace: default}
`;
    const answer = JSON.parse(await admin.output(['create', '-f', '-', '-o', 'json'], sar));
    t.same(answer.status, { allowed: false });
    const denied = await viewer.run(['create', '-f', '-'], { input: sar });
    t.equal(denied.code, 1);
    t.equal(
      denied.stderr.trim(),
      'Error from server (Forbidden): error when creating "STDIN": subjectaccessreviews.authorization.k8s.io is forbidden: User "viewer" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope',
    );
    const invalid = await admin.run(['create', '-f', '-'], { input: 'apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec: {}\n' });
    t.equal(invalid.code, 1);
    t.equal(
      invalid.stderr.trim(),
      'The SelfSubjectAccessReview "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  });

  t.test('api-resources lists the review kinds with verb create; get is a 405', async (t) => {
    const out = await admin.output(['api-resources', '-o', 'wide']);
    t.match(out, /^selfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview\s+create\s*$/m);
    t.match(out, /^selfsubjectrulesreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectRulesReview\s+create\s*$/m);
    t.match(out, /^subjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SubjectAccessReview\s+create\s*$/m);
    t.match(out, /^selfsubjectreviews\s+authentication\.k8s\.io\/v1\s+false\s+SelfSubjectReview\s+create\s*$/m);
    t.match(out, /^volumesnapshots\s+vsnap\s+volumesnapshot\.external-storage\.k8s\.io\/v1\s+true\s+VolumeSnapshot\s+create,delete,deletecollection,get,list,patch,update,watch/m);
    const get = await admin.run(['get', 'selfsubjectaccessreviews']);
    t.equal(get.code, 1);
    t.equal(get.stderr.trim(), 'Error from server (MethodNotAllowed): the server does not allow this method on the requested resource');
  });
});
