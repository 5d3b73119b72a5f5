import t from 'tap';
import { negotiate, parseAccept, acceptsJson } from '../../src/apimachinery/content-negotiation.js';
import { StatusError } from '../../src/apimachinery/status-error.js';

const list = { transforms: ['Table', 'PartialObjectMetadataList'] as const };

t.test('parseAccept orders by q and keeps parameters', async (t) => {
  const r = parseAccept('application/yaml;q=0.5, application/json;as=Table;v=v1;g=meta.k8s.io');
  t.equal(r[0].subtype, 'json');
  t.same(r[0].params, { as: 'Table', v: 'v1', g: 'meta.k8s.io' });
  t.equal(r[1].q, 0.5);
});

t.test('negotiation table', async (t) => {
  const cases: Array<[string | undefined, string, string | undefined]> = [
    [undefined, 'application/json', undefined],
    ['*/*', 'application/json', undefined],
    ['application/yaml', 'application/yaml', undefined],
    [
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
      'application/json;as=Table;v=v1;g=meta.k8s.io',
      'Table',
    ],
    ['application/json;as=Table;v=v1beta1;g=meta.k8s.io', 'application/json;as=Table;v=v1beta1;g=meta.k8s.io', 'Table'],
    ['application/json;g=meta.k8s.io;v=v1;as=Table', 'application/json;g=meta.k8s.io;v=v1;as=Table', 'Table'],
    [
      'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
      'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
      'PartialObjectMetadataList',
    ],
    ['application/vnd.kubernetes.protobuf, application/json', 'application/json', undefined],
    // A transform the endpoint cannot make is skipped, falling back to the next clause.
    ['application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json', 'application/json', undefined],
  ];
  for (const [accept, contentType, transform] of cases) {
    const n = negotiate(accept, { transforms: [...list.transforms] });
    t.equal(n.contentType, contentType, String(accept));
    t.equal(n.transform, transform, String(accept));
  }
});

t.test('406 only when nothing we produce is acceptable', async (t) => {
  t.throws(() => negotiate('application/vnd.kubernetes.protobuf', { transforms: [] }), StatusError);
  try {
    negotiate('text/html', { transforms: [] });
  } catch (e) {
    t.equal((e as StatusError).code, 406);
  }
  t.equal(acceptsJson('application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), false);
  t.equal(acceptsJson('application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json'), true);
  t.equal(acceptsJson(undefined), true);
});
