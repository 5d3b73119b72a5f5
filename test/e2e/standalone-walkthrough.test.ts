// The README's standalone walkthrough, for real: the server process with --local-cluster on a fresh data dir, and the
// real kubectl (1.35) with the generated admin kubeconfig, driving the examples/ files. The example PV's hostPath is
// moved under the test's own temporary directory; everything else is the files as a newcomer uses them.
import t from 'tap';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeKubectl } from '../helpers/kubectl.js';
import { startServer } from '../helpers/test-server.js';
import { repoRoot } from '../helpers/paths.js';

const examples = path.join(repoRoot, 'examples');
const WEBHOOK = 'admission webhook "validate.restore-pvc.volumesnapshot.external-storage.k8s.io" denied the request';

t.test('standalone walkthrough', async (t) => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'walkthrough-'));
  const volumeDir = path.join(base, 'pv-demo');
  await fs.mkdir(volumeDir, { recursive: true });
  await fs.writeFile(path.join(volumeDir, 'hello.txt'), 'hello from pv-demo\n');
  const server = await startServer({ args: ['--local-cluster', '--cloudprovider', 'hostpath'], dataDir: path.join(base, 'data'), certDir: path.join(base, 'certs') });
  t.teardown(async () => {
    await server.stop();
    await fs.rm(base, { recursive: true, force: true });
  });
  const k = await makeKubectl(server.kubeconfig);
  t.teardown(() => {
    if (t.passing()) return;
    t.comment(server.logs.filter((l) => !l.includes('"msg":"request"')).slice(-40).join('\n'));
  });
  const pvYaml = (await fs.readFile(path.join(examples, 'pv-hostpath.yaml'), 'utf8')).replaceAll('/tmp/volumesnapshot-demo/pv-demo', volumeDir);

  // 1. The example PV and its claim bind.
  t.match(await k.output(['get', 'storageclass', 'snapshot-promoter']), /snapshot-promoter\s+volumesnapshot\.external-storage\.k8s\.io\/snapshot-promoter\s+Delete\s+Immediate/);
  t.match(await k.output(['create', '-f', '-'], pvYaml), /persistentvolume\/pv-demo created/);
  t.match(await k.output(['create', '-f', path.join(examples, 'pvc.yaml')]), /persistentvolumeclaim\/pvc-demo created/);
  t.match(await k.output(['wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/pvc-demo', '--timeout=30s']), /condition met/);
  t.match(await k.output(['get', 'pvc', 'pvc-demo']), /pvc-demo\s+Bound\s+pv-demo\s+1Gi\s+RWO\s+<unset>/);

  // 2. A restore from a snapshot that does not exist is refused.
  const missing = await k.run(['create', '-f', path.join(examples, 'restore-pvc-missing-snapshot.yaml')]);
  t.not(missing.code, 0);
  t.match(missing.stderr, `Error from server (Forbidden): error when creating "${path.join(examples, 'restore-pvc-missing-snapshot.yaml')}": ${WEBHOOK}: cannot restore from VolumeSnapshot "no-such-snapshot": it does not exist in namespace "default"`);

  // 3. The snapshot: taken by the embedded worker.
  t.match(await k.output(['create', '-f', path.join(examples, 'snapshot-demo.yaml')]), /volumesnapshot\.volumesnapshot\.external-storage\.k8s\.io\/snapshot-demo created/);
  t.match(await k.output(['wait', '--for=condition=Ready', 'volumesnapshot/snapshot-demo', '--timeout=60s']), /condition met/);

  // 4. Too small → refused with the webhook's message.
  const small = await k.run(['create', '-f', path.join(examples, 'restore-pvc-too-small.yaml')]);
  t.not(small.code, 0);
  t.match(small.stderr, `${WEBHOOK}: cannot restore from VolumeSnapshot "snapshot-demo": requested 100Mi is smaller than the snapshot's size 1Gi`);

  // 5. The good one is admitted and mutated; the binder hands it to the promoter and describe shows the events.
  t.match(await k.output(['create', '-f', path.join(examples, 'restore-pvc.yaml')]), /persistentvolumeclaim\/restore-pvc created/);
  const snapUid = (await k.output(['get', 'volumesnapshot', 'snapshot-demo', '-o', 'jsonpath={.metadata.uid}'])).trim();
  const restored = JSON.parse(await k.output(['get', 'pvc', 'restore-pvc', '-o', 'json']));
  t.equal(restored.metadata.annotations['volumesnapshot.external-storage.k8s.io/snapshot-uid'], snapUid, 'the mutating webhook recorded the snapshot uid');
  await k.output(['wait', '--for=jsonpath={.metadata.annotations.volume\\.kubernetes\\.io/storage-provisioner}=volumesnapshot.external-storage.k8s.io/snapshot-promoter', 'pvc/restore-pvc', '--timeout=30s']);
  const described = await k.output(['describe', 'pvc', 'restore-pvc']);
  t.match(described, /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
  t.match(described, /Normal\s+ExternalProvisioning\s+\S+\s+persistentvolume-controller\s+Waiting for a volume to be created either by the external provisioner 'volumesnapshot\.external-storage\.k8s\.io\/snapshot-promoter'/);

  // 6. The promoter restores it and the binder binds it: the restored directory holds the original file.
  t.match(await k.output(['wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/restore-pvc', '--timeout=60s']), /condition met/);
  const volumeName = (await k.output(['get', 'pvc', 'restore-pvc', '-o', 'jsonpath={.spec.volumeName}'])).trim();
  const restoredPath = (await k.output(['get', 'pv', volumeName, '-o', 'jsonpath={.spec.hostPath.path}'])).trim();
  t.equal(await fs.readFile(path.join(restoredPath, 'hello.txt'), 'utf8'), 'hello from pv-demo\n');
});
