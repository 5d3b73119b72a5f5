import t from 'tap';
import { openApiV2Doc, openApiV3Doc, openApiV3Index, schemaNameOf } from '../../src/apimachinery/openapi.js';
import { volumeSnapshotDefinitions, volumeSnapshotDefinition } from '../../src/apis/volumesnapshot/v1/index.js';

const G = 'volumesnapshot.external-storage.k8s.io';
const options = { patchTypes: ['application/json-patch+json', 'application/merge-patch+json'] };
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

t.test('v3 document: the PATCH operation kubectl looks for, and explainable schemas', async (t) => {
  const doc = openApiV3Doc(volumeSnapshotDefinitions, G, 'v1', options) as Json;
  t.equal(schemaNameOf(volumeSnapshotDefinition), 'io.k8s.external-storage.volumesnapshot.v1.VolumeSnapshot');
  const item = doc.paths[`/apis/${G}/v1/namespaces/{namespace}/volumesnapshots/{name}`];
  t.ok(item, 'item path');
  t.same(item.patch['x-kubernetes-group-version-kind'], { group: G, kind: 'VolumeSnapshot', version: 'v1' });
  t.equal(item.patch['x-kubernetes-action'], 'patch');
  t.ok(item.patch.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query'));
  t.same(Object.keys(item.patch.requestBody.content), options.patchTypes);
  t.same(Object.keys(item).sort(), ['delete', 'get', 'parameters', 'patch', 'put']);
  const coll = doc.paths[`/apis/${G}/v1/namespaces/{namespace}/volumesnapshots`];
  t.same(Object.keys(coll).sort(), ['delete', 'get', 'parameters', 'post']);
  t.equal(coll.delete['x-kubernetes-action'], 'deletecollection');
  t.ok(coll.get.parameters.some((p: Json) => p.name === 'sendInitialEvents'));
  t.ok(doc.paths[`/apis/${G}/v1/volumesnapshots`], 'all-namespaces list');
  t.ok(doc.paths[`/apis/${G}/v1/volumesnapshotdatas/{name}/status`], 'cluster-scoped status');
  t.notOk(doc.paths[`/apis/${G}/v1/namespaces/{namespace}/volumesnapshotdatas`], 'no namespaced path for cluster-scoped');
  const schema = doc.components.schemas['io.k8s.external-storage.volumesnapshot.v1.VolumeSnapshot'];
  t.same(schema['x-kubernetes-group-version-kind'], [{ group: G, kind: 'VolumeSnapshot', version: 'v1' }]);
  t.ok(schema.properties.spec.properties.persistentVolumeClaimName.description);
  t.same(schema.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
  t.equal(schema.properties.status.properties.conditions['x-kubernetes-list-type'], 'map');
  t.ok(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  t.equal(openApiV3Doc(volumeSnapshotDefinitions, 'x', 'v1', options), undefined);
});

t.test('v3 index and v2', async (t) => {
  t.same(openApiV3Index(volumeSnapshotDefinitions, () => 'H'), {
    paths: { [`apis/${G}/v1`]: { serverRelativeURL: `/openapi/v3/apis/${G}/v1?hash=H` } },
  });
  const v2 = openApiV2Doc(volumeSnapshotDefinitions, options) as Json;
  t.equal(v2.swagger, '2.0');
  const patch = v2.paths[`/apis/${G}/v1/volumesnapshotdatas/{name}`].patch;
  t.same(patch.consumes, options.patchTypes);
  t.ok(JSON.stringify(v2.definitions).indexOf('nullable') < 0, 'no nullable in swagger 2.0');
});
