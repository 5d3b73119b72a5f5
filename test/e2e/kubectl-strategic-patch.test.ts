// The real kubectl (v1.35) sending strategic merge patches: plain `kubectl patch` (its default --type is strategic)
// of a VolumeSnapshot and of a standalone-mode PVC, `kubectl edit` of a PVC (kubectl builds a strategic patch with
// $setElementOrder/$deleteFromPrimitiveList for built-in kinds), and client-side `kubectl apply` run twice — which,
// with strategic merge advertised in OpenAPI v3, builds its patch from the x-kubernetes-patch-* extensions published
// there (VolumeSnapshot) or from its compiled-in Go types (PVC).
import t from 'tap';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { serveLocalClusterForKubectl } from '../helpers/api-for-kubectl.js';
import { makeKubectl, type Kubectl } from '../helpers/kubectl.js';

const SMP = 'application/strategic-merge-patch+json';


interface Stored {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec: Record<string, unknown>;
}

async function getJson(k: Kubectl, what: string[]): Promise<Stored> {
  return JSON.parse(await k.output(['get', ...what, '-o', 'json'])) as Stored;
}

/** Whether kubectl's -v=8 request log shows a strategic merge patch being sent. */
function sentStrategicPatch(stderr: string): boolean {
  return stderr.includes(`Content-Type: ${SMP}`);
}

const snapshot = (labels: string, finalizers = '') => `apiVersion: volumesnapshot.external-storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: snap-applied
  labels: {${labels}}
  finalizers: [${finalizers}]
spec:
  persistentVolumeClaimName: claim
`;

const claim = (name: string, labels: string, finalizers = '') => `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${name}
  labels: {${labels}}
  finalizers: [${finalizers}]
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`;

t.test('strategic merge patches from kubectl', async (t) => {
  const { kubeconfig, dir } = await serveLocalClusterForKubectl(t);
  const k = await makeKubectl(kubeconfig);

  t.test('kubectl patch (default type) of a VolumeSnapshot', async (t) => {
    await k.output(['create', '-f', '-'], snapshot('keep: me').replace('snap-applied', 'snap-patched'));
    const r = await k.run(['patch', 'vsnap', 'snap-patched', '-p', '{"metadata":{"labels":{"a":"b"}}}', '-v=8']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, 'volumesnapshot.volumesnapshot.external-storage.k8s.io/snap-patched patched');
    t.ok(sentStrategicPatch(r.stderr), 'kubectl sent a strategic merge patch');
    t.same((await getJson(k, ['vsnap', 'snap-patched'])).metadata.labels, { keep: 'me', a: 'b' });
    const del = await k.run(['patch', 'vsnap', 'snap-patched', '-p', '{"metadata":{"labels":{"keep":null}}}']);
    t.equal(del.code, 0, del.stderr);
    t.same((await getJson(k, ['vsnap', 'snap-patched'])).metadata.labels, { a: 'b' });
  });

  t.test('kubectl patch (default type) of a local-cluster PVC: labels merge, finalizers are a set', async (t) => {
    await k.output(['create', '-f', '-'], claim('claim', 'keep: me'));
    const before = await getJson(k, ['pvc', 'claim']);
    const r = await k.run(['patch', 'pvc', 'claim', '-p', '{"metadata":{"labels":{"a":"b"},"finalizers":["example.com/x"]}}']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, 'persistentvolumeclaim/claim patched');
    const after = await getJson(k, ['pvc', 'claim']);
    t.same(after.metadata.labels, { keep: 'me', a: 'b' });
    t.same(after.metadata.finalizers, ['example.com/x', ...(before.metadata.finalizers ?? [])], 'the new finalizer joins the live ones');
  });

  t.test('kubectl edit of a PVC: a label and a finalizer changed by the editor', async (t) => {
    const editor = path.join(dir, 'editor.sh');
    await fs.writeFile(editor, `#!/bin/sh\nsed -i -e 's|a: b|a: c|' -e 's|example.com/x|example.com/y|' "$1"\n`, { mode: 0o755 });
    const before = await getJson(k, ['pvc', 'claim']);
    const r = await k.run(['edit', 'pvc', 'claim', '-v=8'], { env: { KUBE_EDITOR: editor, EDITOR: editor } });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, 'persistentvolumeclaim/claim edited');
    t.ok(sentStrategicPatch(r.stderr), 'kubectl sent a strategic merge patch');
    t.match(r.stderr, /\$setElementOrder\/finalizers/, 'kubectl sent the order of the edited list');
    const after = await getJson(k, ['pvc', 'claim']);
    t.same(after.metadata.labels, { keep: 'me', a: 'c' });
    t.same(after.metadata.finalizers, before.metadata.finalizers?.map((f) => (f === 'example.com/x' ? 'example.com/y' : f)));
  });

  t.test('kubectl patch of VolumeSnapshot status: conditions merge by type; errors in upstream words', async (t) => {
    const status = (conditions: string) => k.run(['patch', 'vsnap', 'snap-patched', '--subresource=status', '-p', `{"status":{"conditions":${conditions}}}`]);
    t.equal((await status('[{"type":"Pending","status":"True"}]')).code, 0);
    t.equal((await status('[{"type":"Ready","status":"True"},{"type":"Pending","status":"False"}]')).code, 0);
    const got = (await getJson(k, ['vsnap', 'snap-patched'])) as unknown as { status: { conditions: { type: string; status: string }[] } };
    t.same(got.status.conditions.map((c) => [c.type, c.status]), [['Ready', 'True'], ['Pending', 'False']]);
    const noKey = await status('[{"status":"True"}]');
    t.equal(noKey.code, 1);
    t.match(noKey.stderr, 'Error from server (BadRequest): map: map[status:True] does not contain declared merge key: type');
    const retain = await k.run(['patch', 'vsnap', 'snap-patched', '-p', '{"metadata":{"$retainKeys":"labels"}}']);
    t.match(retain.stderr, 'Error from server (BadRequest): invalid patch format of retainKeys');
  });

  // A list the server merges (finalizers) is where client and server must agree: had OpenAPI not published
  // x-kubernetes-patch-strategy: merge for it, kubectl would send the whole new list and the server's union would
  // keep the finalizer the file dropped.
  t.test('client-side kubectl apply, twice, of a VolumeSnapshot', async (t) => {
    t.match(await k.output(['apply', '-f', '-'], snapshot('app: one, team: x', 'example.com/a, example.com/b')), /snap-applied created/);
    const r = await k.run(['apply', '-f', '-', '-v=8'], { input: snapshot('app: two', 'example.com/b, example.com/c') });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /snap-applied configured/);
    t.ok(sentStrategicPatch(r.stderr), 'kubectl sent a strategic merge patch');
    t.notMatch(r.stderr, /warning: error calculating patch/);
    const got = await getJson(k, ['vsnap', 'snap-applied']);
    t.same(got.metadata.labels, { app: 'two' }, 'changed, and the label dropped from the file is removed');
    t.same(got.metadata.finalizers, ['example.com/b', 'example.com/c']);
    t.match(await k.output(['apply', '-f', '-'], snapshot('app: two', 'example.com/b, example.com/c')), /snap-applied unchanged/);
  });

  t.test('OpenAPI v3 advertises strategic merge and the lists it merges', async (t) => {
    const doc = JSON.parse(await k.output(['get', '--raw', '/openapi/v3/apis/volumesnapshot.external-storage.k8s.io/v1'])) as {
      paths: Record<string, { patch?: { requestBody: { content: Record<string, unknown> } } }>;
      components: { schemas: Record<string, { properties: Record<string, { properties?: Record<string, Record<string, unknown>> }> }> };
    };
    const patchOp = doc.paths['/apis/volumesnapshot.external-storage.k8s.io/v1/namespaces/{namespace}/volumesnapshots/{name}'].patch!;
    t.same(Object.keys(patchOp.requestBody.content), [
      'application/json-patch+json',
      'application/merge-patch+json',
      SMP,
      'application/apply-patch+yaml',
    ]);
    const conditions = doc.components.schemas['io.k8s.external-storage.volumesnapshot.v1.VolumeSnapshot'].properties.status.properties!.conditions;
    t.equal(conditions['x-kubernetes-patch-strategy'], 'merge');
    t.equal(conditions['x-kubernetes-patch-merge-key'], 'type');
    const meta = doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'] as unknown as { properties: Record<string, Record<string, unknown>> };
    t.equal(meta.properties.finalizers['x-kubernetes-patch-strategy'], 'merge');
    t.equal(meta.properties.ownerReferences['x-kubernetes-patch-merge-key'], 'uid');
  });

  t.test('client-side kubectl apply, twice, of a PVC', async (t) => {
    t.match(await k.output(['apply', '-f', '-'], claim('claim-applied', 'app: one, team: x', 'example.com/a, example.com/b')), /claim-applied created/);
    const r = await k.run(['apply', '-f', '-', '-v=8'], { input: claim('claim-applied', 'app: two', 'example.com/b, example.com/c') });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /claim-applied configured/);
    t.ok(sentStrategicPatch(r.stderr), 'kubectl sent a strategic merge patch');
    const got = await getJson(k, ['pvc', 'claim-applied']);
    t.same(got.metadata.labels, { app: 'two' });
    t.same(got.metadata.finalizers, ['example.com/b', 'example.com/c']);
    t.same(got.spec.accessModes, ['ReadWriteOnce']);
  });

  // The local cluster keeps a Pod's spec opaque; kubectl builds the patch from its compiled-in Pod type and the
  // $setElementOrder it sends tells the server to merge containers by name rather than drop their other fields.
  t.test('client-side kubectl apply, twice, of a Pod: the unchanged container fields survive', async (t) => {
    const pod = (image: string) => `apiVersion: v1
kind: Pod
metadata: {name: pod-applied}
spec:
  containers:
  - {name: a, image: ${image}, command: [sleep, "1"]}
  - {name: b, image: busybox, ports: [{containerPort: 80}]}
`;
    t.match(await k.output(['apply', '-f', '-'], pod('one')), /pod-applied created/);
    const r = await k.run(['apply', '-f', '-', '-v=8'], { input: pod('two') });
    t.equal(r.code, 0, r.stderr);
    t.ok(sentStrategicPatch(r.stderr), 'kubectl sent a strategic merge patch');
    const got = await getJson(k, ['pod', 'pod-applied']);
    t.same(got.spec.containers, [
      { name: 'a', image: 'two', command: ['sleep', '1'] },
      { name: 'b', image: 'busybox', ports: [{ containerPort: 80 }] },
    ]);
  });
});
