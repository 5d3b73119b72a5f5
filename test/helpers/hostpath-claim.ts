// The walkthrough's first step for tests that drive a standalone server with kubectl: a directory holding
// hello.txt, a hostPath PV `pv1` over it and a claim `default/data` bound to it.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kubectl } from './kubectl.js';

/** Creates `volumeDir` (with hello.txt), PV pv1 and PVC default/data, and waits until the claim is Bound. */
export async function bindHostPathClaim(kubectl: Kubectl, volumeDir: string): Promise<void> {
  await mkdir(volumeDir, { recursive: true });
  await writeFile(path.join(volumeDir, 'hello.txt'), 'hello\n');
  await kubectl.output(['apply', '-f', '-'], `
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv1}
spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], storageClassName: manual, hostPath: {path: ${JSON.stringify(volumeDir)}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec: {accessModes: [ReadWriteOnce], storageClassName: manual, resources: {requests: {storage: 1Gi}}}
`);
  await kubectl.output(['wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/data', '--timeout=30s']);
}
