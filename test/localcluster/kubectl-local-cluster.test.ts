// The real kubectl (v1.35) against the local cluster's definitions served by the one generic API plugin (in-process,
// plain HTTP, like test/e2e/kubectl-basic): the examples/ files bind, `get` prints upstream's columns, `describe pvc`
// shows the binder's events, and restore claims are admitted or refused in kube-apiserver's words through the
// Registry's admission hook (the factory's admission chain).
import t from 'tap';
import path from 'node:path';
import { serveLocalClusterForKubectl } from '../helpers/api-for-kubectl.js';
import { makeKubectl } from '../helpers/kubectl.js';
import { repoRoot } from '../helpers/paths.js';

const examples = path.join(repoRoot, 'examples');

const SNAPSHOT_DATA = `apiVersion: volumesnapshot.external-storage.k8s.io/v1
kind: VolumeSnapshotData
metadata:
  name: k8s-volume-snapshot-demo
spec:
  volumeSnapshotRef: {kind: VolumeSnapshot, namespace: default, name: snapshot-demo}
  persistentVolumeRef: {kind: PersistentVolume, name: pv-demo}
  hostPath: {snapshot: /tmp/volumesnapshot-demo/snapshots/snapshot-demo}
`;


t.test('standalone walkthrough with kubectl, in-process', async (t) => {
  const { kubeconfig, cluster } = await serveLocalClusterForKubectl(t);
  const k = await makeKubectl(kubeconfig);

  t.test('discovery: the local cluster kinds with their short names', async (t) => {
    const out = await k.output(['api-resources']);
    t.match(out, /persistentvolumeclaims\s+pvc\s+v1\s+true\s+PersistentVolumeClaim/);
    t.match(out, /persistentvolumes\s+pv\s+v1\s+false\s+PersistentVolume/);
    t.match(out, /events\s+ev\s+v1\s+true\s+Event/);
    t.match(out, /namespaces\s+ns\s+v1\s+false\s+Namespace/);
    t.match(out, /storageclasses\s+sc\s+storage\.k8s\.io\/v1\s+false\s+StorageClass/);
    t.match(out, /leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease/);
    t.match(await k.output(['get', 'ns']), /^NAME\s+STATUS\s+AGE\ndefault\s+Active\s+\S+\nkube-system\s+Active\s+\S+\n$/);
    t.match(
      await k.output(['get', 'sc']),
      /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\nsnapshot-promoter\s+volumesnapshot\.external-storage\.k8s\.io\/snapshot-promoter\s+Delete\s+Immediate\s+false\s+\S+\n$/,
    );
  });

  t.test('the example PV and PVC bind', async (t) => {
    t.match(await k.output(['create', '-f', path.join(examples, 'pv-hostpath.yaml')]), /persistentvolume\/pv-demo created/);
    t.match(await k.output(['create', '-f', path.join(examples, 'pvc.yaml')]), /persistentvolumeclaim\/pvc-demo created/);
    t.match(await k.output(['wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/pvc-demo', '--timeout=20s']), /condition met/);
    await cluster.idle();
    t.match(
      await k.output(['get', 'pvc', 'pvc-demo']),
      /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\npvc-demo\s+Bound\s+pv-demo\s+1Gi\s+RWO\s+<unset>\s+\S+\n$/,
    );
    t.match(
      await k.output(['get', 'pv']),
      /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE\npv-demo\s+1Gi\s+RWO\s+Retain\s+Bound\s+default\/pvc-demo\s+<unset>\s+\S+\n$/,
    );
  });

  t.test('no objects in a namespace that does not exist', async (t) => {
    const pvc = 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: lonely}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n';
    const r = await k.run(['create', '-n', 'nope', '-f', '-'], { input: pvc });
    t.not(r.code, 0);
    t.match(r.stderr, 'Error from server (NotFound): error when creating "STDIN": namespaces "nope" not found');
  });

  t.test('kubectl create namespace (a protobuf body) makes a namespace to work in', async (t) => {
    t.match(await k.output(['create', 'namespace', 'team-a', '--dry-run=server', '-o', 'name']), /^namespace\/team-a\n$/);
    t.match(await k.output(['create', 'namespace', 'team-a']), /namespace\/team-a created/);
    const ns = JSON.parse(await k.output(['get', 'ns', 'team-a', '-o', 'json'])) as { metadata: Record<string, unknown>; status: { phase: string } };
    t.same(Object.keys(ns.metadata).sort(), ['creationTimestamp', 'generation', 'name', 'resourceVersion', 'uid'], 'no empty fields stored');
    t.equal(ns.status.phase, 'Active');
    const again = await k.run(['create', 'namespace', 'team-a']);
    t.match(again.stderr, 'Error from server (AlreadyExists): namespaces "team-a" already exists');
    const pvc = 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: in-team-a}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n';
    t.match(await k.output(['create', '-n', 'team-a', '-f', '-'], pvc), /persistentvolumeclaim\/in-team-a created/);
    t.match(await k.output(['delete', 'namespace', 'team-a', '--wait=false']), /namespace "team-a" deleted/);
  });

  t.test('restore claims: refused in kube-apiserver words, or admitted and mutated', async (t) => {
    /** `kubectl create -f examples/<file>` fails with the restore webhook's denial, in kubectl's words. */
    const refused = async (file: string, reason: string) => {
      const r = await k.run(['create', '-f', path.join(examples, file)]);
      t.not(r.code, 0, file);
      t.match(
        r.stderr,
        `Error from server (Forbidden): error when creating "${path.join(examples, file)}": admission webhook "validate.restore-pvc.volumesnapshot.external-storage.k8s.io" denied the request: ${reason}`,
      );
    };
    await refused('restore-pvc-missing-snapshot.yaml', 'cannot restore from VolumeSnapshot "no-such-snapshot": it does not exist in namespace "default"');

    t.match(await k.output(['create', '-f', path.join(examples, 'snapshot-demo.yaml')]), /volumesnapshot\.volumesnapshot\.external-storage\.k8s\.io\/snapshot-demo created/);
    const notReady = await k.run(['create', '-f', path.join(examples, 'restore-pvc.yaml')]);
    t.match(notReady.stderr, /denied the request: cannot restore from VolumeSnapshot "snapshot-demo": it is not ready yet/);

    // What the worker does when the snapshot is taken (done here by hand: the data object, then the status).
    await k.output(['create', '-f', '-'], SNAPSHOT_DATA);
    await k.output(['patch', 'volumesnapshot', 'snapshot-demo', '--type=merge', '-p', '{"spec":{"snapshotDataName":"k8s-volume-snapshot-demo"}}']);
    await k.output([
      'patch',
      'volumesnapshot',
      'snapshot-demo',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { restoreSize: '1Gi', conditions: [{ type: 'Ready', status: 'True', message: 'Snapshot created successfully' }] } }),
    ]);

    await refused('restore-pvc-too-small.yaml', 'cannot restore from VolumeSnapshot "snapshot-demo": requested 100Mi is smaller than the snapshot\'s size 1Gi');

    t.match(await k.output(['create', '-f', path.join(examples, 'restore-pvc.yaml')]), /persistentvolumeclaim\/restore-pvc created/);
    const snapUid = (await k.output(['get', 'volumesnapshot', 'snapshot-demo', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const restored = JSON.parse(await k.output(['get', 'pvc', 'restore-pvc', '-o', 'json']));
    t.equal(restored.metadata.annotations['volumesnapshot.external-storage.k8s.io/snapshot-uid'], snapUid, 'mutated: the snapshot uid recorded');

    // The binder hands it to the promoter: annotations and an ExternalProvisioning event that describe shows.
    await k.run(['wait', '--for=jsonpath={.metadata.annotations.volume\\.kubernetes\\.io/storage-provisioner}=volumesnapshot.external-storage.k8s.io/snapshot-promoter', 'pvc/restore-pvc', '--timeout=20s']);
    await cluster.idle();
    const described = await k.output(['describe', 'pvc', 'restore-pvc']);
    t.match(described, /Name:\s+restore-pvc/);
    t.match(described, /StorageClass:\s+snapshot-promoter/);
    t.match(described, /Status:\s+Pending/);
    t.match(described, /volume\.kubernetes\.io\/storage-provisioner: volumesnapshot\.external-storage\.k8s\.io\/snapshot-promoter/);
    t.match(
      described,
      /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n\s+----\s+------\s+----\s+----\s+-------\n\s+Normal\s+ExternalProvisioning\s+\S+\s+persistentvolume-controller\s+Waiting for a volume to be created either by the external provisioner 'volumesnapshot\.external-storage\.k8s\.io\/snapshot-promoter'/,
    );
    t.match(await k.output(['get', 'events', '--field-selector', 'involvedObject.name=restore-pvc']), /Normal\s+ExternalProvisioning\s+persistentvolumeclaim\/restore-pvc/);
  });
});
