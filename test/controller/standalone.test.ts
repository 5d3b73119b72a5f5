// The README walkthrough against the real server process in standalone mode, driven by kubectl: the worker inside
// reaches the local cluster through client-node over HTTPS with the generated kubeconfig, as it would a real one.

import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startServer } from '../helpers/test-server.js';
import { bindHostPathClaim } from '../helpers/hostpath-claim.js';
import { makeKubectl } from '../helpers/kubectl.js';

t.test('standalone: PV + PVC → VolumeSnapshot Ready → restore PVC Bound → delete', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const kubectl = await makeKubectl(server.kubeconfig);
  const src = path.join(server.dataDir, '..', 'volume');
  await bindHostPathClaim(kubectl, src);
  await kubectl.output(['create', '-f', '-'], `
apiVersion: volumesnapshot.external-storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: snap1, namespace: default}
spec: {persistentVolumeClaimName: data}
`);
  await kubectl.output(['wait', '--for=condition=Ready', 'volumesnapshot.volumesnapshot.external-storage.k8s.io/snap1', '--timeout=30s']);
  const described = await kubectl.output(['describe', 'volumesnapshot.volumesnapshot.external-storage.k8s.io', 'snap1']);
  t.match(described, /Snapshot created successfully/);
  t.match(described, /Normal\s+CreatingSnapshot/);
  t.match(described, /Normal\s+SnapshotReady/);
  t.match(described, /Restore Size:\s+1Gi/);

  await kubectl.output(['create', '-f', '-'], `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: restored, namespace: default, annotations: {snapshot.alpha.kubernetes.io/snapshot: snap1}}
spec: {accessModes: [ReadWriteOnce], storageClassName: snapshot-promoter, resources: {requests: {storage: 1Gi}}}
`);
  await kubectl.output(['wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/restored', '--timeout=30s']);
  const pvPath = (await kubectl.output(['get', 'pv', '-o', 'jsonpath={.items[?(@.spec.claimRef.name=="restored")].spec.hostPath.path}'])).trim();
  t.equal(await readFile(path.join(pvPath, 'hello.txt'), 'utf8'), 'hello\n', 'the restored volume holds the original file');
  t.match(await kubectl.output(['describe', 'pvc', 'restored']), /ProvisioningSucceeded/);

  await kubectl.output(['delete', 'volumesnapshot.volumesnapshot.external-storage.k8s.io', 'snap1', '--timeout=30s']);
  t.equal((await kubectl.output(['get', 'volumesnapshotdatas', '-o', 'name'])).trim(), '', 'no VolumeSnapshotData left');
  const metrics = await kubectl.output(['get', '--raw', '/metrics']);
  t.match(metrics, /snapshot_controller_operation_total_seconds_count\{operation_name="DeleteSnapshot",operation_status="success",provider="hostpath"\} 1/);
});
