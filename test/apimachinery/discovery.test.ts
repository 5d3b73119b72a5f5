import t from 'tap';
import {
  aggregatedDiscoveryDoc,
  apiGroupDoc,
  apiGroupListDoc,
  apiResourceListDoc,
  apiVersionsDoc,
  negotiateDiscovery,
  storageVersionHash,
} from '../../src/apimachinery/discovery.js';
import { StatusError } from '../../src/apimachinery/status-error.js';
import { volumeSnapshotDefinitions } from '../../src/apis/volumesnapshot/v1/index.js';

const G = 'volumesnapshot.external-storage.k8s.io';

t.test('storageVersionHash is base64(sha256(g/v/k)[:8])', async (t) => {
  // Upstream's value for apps/v1 Deployment, as kube-apiserver publishes it.
  t.equal(storageVersionHash('apps', 'v1', 'Deployment'), '8aSe+NMegvE=');
});

t.test('legacy documents', async (t) => {
  t.same(apiVersionsDoc(volumeSnapshotDefinitions), { kind: 'APIVersions', versions: [], serverAddressByClientCIDRs: undefined });
  t.same(apiGroupListDoc(volumeSnapshotDefinitions), {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [{ name: G, versions: [{ groupVersion: `${G}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${G}/v1`, version: 'v1' } }],
  });
  t.equal(apiGroupDoc(volumeSnapshotDefinitions, G)?.kind, 'APIGroup');
  t.equal(apiGroupDoc(volumeSnapshotDefinitions, 'other'), undefined);
  const list = apiResourceListDoc(volumeSnapshotDefinitions, G, 'v1') as { resources: Record<string, unknown>[] };
  t.same(
    list.resources.map((r) => [r.name, r.namespaced, r.kind, r.shortNames]),
    [
      ['volumesnapshots', true, 'VolumeSnapshot', ['vsnap']],
      ['volumesnapshots/status', true, 'VolumeSnapshot', undefined],
      ['volumesnapshotdatas', false, 'VolumeSnapshotData', ['vsnapdata']],
      ['volumesnapshotdatas/status', false, 'VolumeSnapshotData', undefined],
    ],
  );
  t.same(list.resources[0].verbs, ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
  t.same(list.resources[1].verbs, ['get', 'patch', 'update']);
  t.equal(apiResourceListDoc(volumeSnapshotDefinitions, '', 'v1'), undefined);
});

t.test('aggregated discovery', async (t) => {
  const doc = aggregatedDiscoveryDoc(volumeSnapshotDefinitions, false, 'v2') as { items: { metadata: { name: string }; versions: { version: string; resources: Record<string, unknown>[] }[] }[] };
  t.equal(doc.items[0].metadata.name, G);
  const vs = doc.items[0].versions[0].resources[0];
  t.match(vs, { resource: 'volumesnapshots', scope: 'Namespaced', singularResource: 'volumesnapshot', responseKind: { group: G, version: 'v1', kind: 'VolumeSnapshot' } });
  t.same(vs.subresources, [{ subresource: 'status', responseKind: { group: G, version: 'v1', kind: 'VolumeSnapshot' }, verbs: ['get', 'patch', 'update'] }]);
  t.same((aggregatedDiscoveryDoc(volumeSnapshotDefinitions, true, 'v2') as { items: unknown[] }).items, []);
});

t.test('discovery negotiation never 406s when JSON is acceptable', async (t) => {
  const kubectl =
    'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  t.match(negotiateDiscovery(kubectl, true), { kind: 'aggregated', version: 'v2' });
  t.match(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList', true), {
    kind: 'aggregated',
    version: 'v2beta1',
    contentType: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  });
  t.match(negotiateDiscovery('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json', true), { kind: 'legacy' });
  t.match(negotiateDiscovery('application/vnd.kubernetes.protobuf,*/*', true), { kind: 'legacy' });
  t.match(negotiateDiscovery(undefined, true), { kind: 'legacy' });
  t.throws(() => negotiateDiscovery('application/vnd.kubernetes.protobuf', true), StatusError);
});
