// Properties of the AdmissionReview entry point over arbitrary input: a malformed review is a 400 StatusError and
// nothing else (never a TypeError, never a 500), and every mutation patch applies cleanly to the object it was made for.
import t from 'tap';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { buildAdmissionResponse, parseAdmissionReview, reviewPersistentVolumeClaim } from '../../src/admission/admission-review.js';
import { SNAPSHOT_ANNOTATION } from '../../src/apis/volumesnapshot/v1/types.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import { GROUP, admissionReview, fakeDeps, restorePvc } from './fixtures/reviews.js';

const json = fc.jsonValue({ maxDepth: 3 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

// PVC-shaped objects whose every field may have the wrong type.
const claimish = fc.record(
  {
    apiVersion: fc.oneof(fc.constant('v1'), json),
    kind: fc.oneof(fc.constant('PersistentVolumeClaim'), json),
    metadata: fc.oneof(
      fc.record(
        {
          name: fc.oneof(fc.constant('restored'), json),
          namespace: fc.oneof(fc.constant('default'), json),
          annotations: fc.oneof(
            fc.dictionary(fc.oneof(fc.constant(SNAPSHOT_ANNOTATION), fc.string()), fc.oneof(fc.constantFrom('snap1', 'snap-gce', 'nope', ''), json)),
            json,
          ),
        },
        { requiredKeys: [] },
      ),
      json,
    ),
    spec: fc.oneof(
      fc.record(
        {
          accessModes: fc.oneof(fc.array(fc.oneof(fc.constantFrom('ReadWriteOnce', 'ReadWriteMany', 'ReadOnlyMany'), json)), json),
          resources: fc.oneof(
            fc.record(
              {
                requests: fc.oneof(
                  fc.record({ storage: fc.oneof(fc.constantFrom('5Gi', '1Gi', '10Gi', '5GB', '', '-1'), fc.string(), fc.double(), json) }, { requiredKeys: [] }),
                  json,
                ),
              },
              { requiredKeys: [] },
            ),
            json,
          ),
          storageClassName: fc.oneof(fc.constantFrom('snapshot-promoter', 'gp2', '', 'fast-restore'), json),
          volumeMode: fc.oneof(fc.constantFrom('Filesystem', 'Block'), json),
          dataSource: fc.oneof(
            fc.record({ apiGroup: fc.constant(GROUP), kind: fc.constant('VolumeSnapshot'), name: fc.oneof(fc.constantFrom('snap1', 'snap-host'), json) }),
            json,
          ),
          dataSourceRef: json,
        },
        { requiredKeys: [] },
      ),
      json,
    ),
  },
  { requiredKeys: [] },
);

function reviewOf(operation: unknown, object: unknown, oldObject: unknown, extra: Record<string, unknown>): unknown {
  const base = admissionReview('CREATE', restorePvc()) as { request: Record<string, unknown> };
  return { ...base, request: { ...base.request, operation, object, oldObject, ...extra } };
}

t.test('arbitrary reviews: an answer or a 400, nothing else', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT', 'PATCH'),
      fc.oneof(claimish, json),
      fc.oneof(claimish, json),
      fc.constantFrom('mutate' as const, 'validate' as const),
      fc.record({ namespace: maybe(fc.oneof(fc.constant('default'), json)), subResource: maybe(fc.constantFrom('status', '')) }, { requiredKeys: [] }),
      async (operation, object, oldObject, mode, extra) => {
        const review = reviewOf(operation, object, oldObject, extra);
        try {
          const out = await reviewPersistentVolumeClaim(review, mode, fakeDeps());
          if (typeof out.response.allowed !== 'boolean') return false;
          if (out.response.patch) {
            // the patch applies to the object as sent
            const ops = JSON.parse(Buffer.from(out.response.patch, 'base64').toString('utf8'));
            jsonpatch.applyPatch(structuredClone(object), ops, true, false);
          }
          return true;
        } catch (err) {
          if (err instanceof StatusError && err.code === 400) return true;
          throw err;
        }
      },
    ),
    { numRuns: 3000 },
  );
  t.pass('3000 arbitrary reviews answered or refused with 400');
});

t.test('arbitrary bodies: parseAdmissionReview throws only 400s', async (t) => {
  fc.assert(
    fc.property(json, (body) => {
      try {
        parseAdmissionReview(body);
        return true;
      } catch (err) {
        return err instanceof StatusError && err.code === 400;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 arbitrary bodies');
});

t.test('buildAdmissionResponse: denial status, patch only when allowed, warnings only when any', async (t) => {
  t.strictSame(buildAdmissionResponse('admission.k8s.io/v1', 'u1', { allowed: true, warnings: [] }), {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: 'u1', allowed: true },
  });
  t.strictSame(
    buildAdmissionResponse('admission.k8s.io/v1beta1', 'u2', { allowed: false, code: 403, reason: 'Forbidden', message: 'no', warnings: ['w'] }),
    {
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      response: { uid: 'u2', allowed: false, status: { code: 403, reason: 'Forbidden', message: 'no' }, warnings: ['w'] },
    },
  );
  const patch = [{ op: 'add' as const, path: '/spec/storageClassName', value: 'snapshot-promoter' }];
  const out = buildAdmissionResponse('admission.k8s.io/v1', 'u3', { allowed: true, warnings: [], patch });
  t.equal(out.response.patchType, 'JSONPatch');
  t.equal(out.response.patch, Buffer.from(JSON.stringify(patch)).toString('base64'));
});
