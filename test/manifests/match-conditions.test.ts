// The webhooks' matchConditions, evaluated by a CEL implementation, must send exactly the claims the server's own
// isRestorePvc treats as restores (before or after the change), so that nothing the webhooks would judge is
// skipped and no ordinary claim ever waits for the server.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Environment } from '@marcbachmann/cel-js';
import fc from 'fast-check';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { isRestorePvc, type PersistentVolumeClaim } from '../../src/admission/restore-rules.js';
import { GROUP, SNAPSHOT_ANNOTATION } from '../../src/apis/volumesnapshot/v1/types.js';
import { repoRoot } from '../helpers/paths.js';

interface WebhookConfig {
  kind: string;
  webhooks: { matchConditions: { name: string; expression: string }[] }[];
}

async function expressions(): Promise<string[]> {
  const text = await readFile(path.join(repoRoot, 'manifests', 'base', 'webhooks.yaml'), 'utf8');
  return parseAllDocuments(text).flatMap((d) => (d.toJS() as WebhookConfig).webhooks.flatMap((w) => w.matchConditions.map((c) => c.expression)));
}

function celEnvironment(): Environment {
  // kube-apiserver declares object and oldObject (null on CREATE) for admission matchConditions.
  return new Environment().registerVariable('object', 'dyn').registerVariable('oldObject', 'dyn');
}

const claim = (annotations: Record<string, string> | undefined, spec: PersistentVolumeClaim['spec'] = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'c', namespace: 'default', ...(annotations ? { annotations } : {}) },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
});

const CASES: [string, PersistentVolumeClaim | null, PersistentVolumeClaim | null, boolean][] = [
  ['ordinary claim', claim(undefined), null, false],
  ['other annotations', claim({ 'volume.beta.kubernetes.io/storage-class': 'x' }), null, false],
  ['the snapshot annotation', claim({ [SNAPSHOT_ANNOTATION]: 'snap' }), null, true],
  ['the snapshot annotation, empty', claim({ [SNAPSHOT_ANNOTATION]: '' }), null, true],
  ['dataSource of this group', claim(undefined, { dataSource: { apiGroup: GROUP, kind: 'VolumeSnapshot', name: 's' } }), null, true],
  ['dataSource of CSI snapshots', claim(undefined, { dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 's' } }), null, false],
  ['dataSource cloning a claim', claim(undefined, { dataSource: { kind: 'PersistentVolumeClaim', name: 'p' } }), null, false],
  ['dataSourceRef of this group', claim(undefined, { dataSourceRef: { apiGroup: GROUP, kind: 'VolumeSnapshot', name: 's' } }), null, true],
  ['UPDATE removing the annotation', claim(undefined), claim({ [SNAPSHOT_ANNOTATION]: 'snap' }), true],
  ['UPDATE of an ordinary claim', claim({ a: 'b' }), claim(undefined), false],
];

t.test('matchConditions select exactly the restore claims', async (t) => {
  const exprs = await expressions();
  t.equal(exprs.length, 2, 'one condition per webhook');
  t.equal(new Set(exprs).size, 1, 'the same condition on both');
  const env = celEnvironment();
  const [expr] = exprs;
  const checked = env.check(expr);
  t.equal(checked.valid, true, `parses and type-checks${checked.error ? `: ${checked.error.message}` : ''}`);
  const evaluate = (object: unknown, oldObject: unknown) => env.evaluate(expr, { object, oldObject }) as boolean;
  for (const [name, object, oldObject, want] of CASES) {
    t.equal(evaluate(object, oldObject), want, name);
    t.equal(!!(isRestorePvc(object ?? undefined) ?? isRestorePvc(oldObject ?? undefined)), want, `${name}: isRestorePvc agrees`);
  }

  const annotations = fc.option(fc.dictionary(fc.constantFrom(SNAPSHOT_ANNOTATION, 'a', 'snapshot.alpha.kubernetes.io/other'), fc.string()), { nil: undefined });
  const ref = fc.option(
    fc.record({ apiGroup: fc.constantFrom(GROUP, 'snapshot.storage.k8s.io', ''), kind: fc.constantFrom('VolumeSnapshot', 'PersistentVolumeClaim'), name: fc.string() }, { requiredKeys: ['kind', 'name'] }),
    { nil: undefined },
  );
  const pvc = fc.record({ annotations, dataSource: ref, dataSourceRef: ref }).map(({ annotations, dataSource, dataSourceRef }) =>
    claim(annotations, { ...(dataSource ? { dataSource } : {}), ...(dataSourceRef ? { dataSourceRef } : {}) }),
  );
  fc.assert(
    fc.property(pvc, fc.option(pvc, { nil: null }), (object, oldObject) => {
      const want = !!(isRestorePvc(object) ?? (oldObject ? isRestorePvc(oldObject) : undefined));
      return evaluate(object, oldObject) === want;
    }),
    { numRuns: 300 },
  );
  t.pass('CEL and isRestorePvc agree on 300 generated claims');
});

t.test('the CEL check rejects a broken expression', async (t) => {
  t.equal(celEnvironment().check('has(object.metadata.annotations) &&').valid, false, 'syntax error');
  t.equal(celEnvironment().check("object.metadata.generation + 1 == 'x'").valid, false, 'type error');
});
