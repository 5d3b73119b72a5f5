// Regression (found by the property test): arrays where objects belong must not make the mutation emit a JSON
// patch that cannot apply — `typeof [] === 'object'` once let a patch path walk into an array.
import t from 'tap';
import jsonpatch from 'fast-json-patch';
import { mutateRestore, type PersistentVolumeClaim } from '../../src/admission/restore-rules.js';
import type { VolumeSnapshot } from '../../src/apis/volumesnapshot/v1/types.js';

const dataSource = { apiGroup: 'volumesnapshot.external-storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap1' };
const snapshot = {
  metadata: { name: 'snap1', uid: 'u1' },
  status: { restoreSize: '1Gi', conditions: [{ type: 'Ready', status: 'True' }] },
} as unknown as VolumeSnapshot;

const shapes: [string, unknown][] = [
  ['requests an array', { spec: { resources: { requests: [] }, dataSource } }],
  ['resources an array', { spec: { resources: [], dataSource } }],
  ['annotations an array', { metadata: { name: 'x', annotations: [] }, spec: { dataSource } }],
  ['metadata an array', { metadata: [], spec: { dataSource } }],
];

for (const [what, pvc] of shapes) {
  t.test(what, async (t) => {
    const ops = mutateRestore(pvc as PersistentVolumeClaim, snapshot, { restoreStorageClass: 'snapshot-promoter' });
    const patched = jsonpatch.applyPatch(structuredClone(pvc), ops as jsonpatch.Operation[], true).newDocument as {
      spec: { resources: { requests: { storage: string } } };
      metadata: { annotations: Record<string, string> };
    };
    t.equal(patched.spec.resources.requests.storage, '1Gi', 'the size is defaulted');
    t.equal(patched.metadata.annotations['volumesnapshot.external-storage.k8s.io/snapshot-uid'], 'u1', 'the uid is recorded');
  });
}
