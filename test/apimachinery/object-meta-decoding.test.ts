import t from 'tap';
import { objectMetaDecodeError } from '../../src/apimachinery/object-meta-decoding.js';

t.test('accepts what a Go decoder accepts', async (t) => {
  for (const meta of [
    {},
    { creationTimestamp: null, deletionTimestamp: null, generation: null },
    { creationTimestamp: '2026-11-26T19:28:51Z', generation: 3, deletionGracePeriodSeconds: 0 },
    { deletionTimestamp: '2024-02-29T23:59:59.123456+05:30' },
  ]) {
    t.equal(objectMetaDecodeError(meta), undefined, JSON.stringify(meta));
  }
});

t.test('refuses timestamps that are not RFC 3339 and counters that are not integers', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ creationTimestamp: 'not a time' }, 'parsing time "not a time" as "2006-01-02T15:04:05Z07:00"'],
    [{ creationTimestamp: '' }, 'parsing time ""'],
    [{ creationTimestamp: '2023-02-29T00:00:00Z' }, 'parsing time "2023-02-29T00:00:00Z"'],
    [{ deletionTimestamp: '2020-01-01 00:00:00Z' }, 'parsing time "2020-01-01 00:00:00Z"'],
    [{ deletionTimestamp: 17 }, 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.deletionTimestamp of type string'],
    [{ generation: 'x' }, 'json: cannot unmarshal string into Go struct field ObjectMeta.metadata.generation of type int64'],
    [{ generation: 1.5 }, 'json: cannot unmarshal number 1.5 into Go struct field ObjectMeta.metadata.generation of type int64'],
    [{ deletionGracePeriodSeconds: [30] }, 'json: cannot unmarshal array into Go struct field ObjectMeta.metadata.deletionGracePeriodSeconds of type int64'],
  ];
  for (const [meta, message] of cases) {
    const err = objectMetaDecodeError(meta);
    t.ok(err?.startsWith(message), `${JSON.stringify(meta)} → ${err}`);
  }
});
