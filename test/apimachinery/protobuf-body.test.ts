import t from 'tap';
import { decodeProtobufObject, OBJECT_META, type ProtoMessage } from '../../src/apimachinery/protobuf-body.js';
import { StatusError } from '../../src/apimachinery/status-error.js';

// A minimal protobuf writer, enough to build what client-go sends.
const varint = (n: number | bigint): Buffer => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return Buffer.from(out);
};
const bytesField = (no: number, payload: Buffer | string) => {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([varint((no << 3) | 2), varint(p.length), p]);
};
const varintField = (no: number, n: number | bigint) => Buffer.concat([varint(no << 3), varint(n)]);
const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([Buffer.from('k8s\0', 'latin1'), bytesField(1, Buffer.concat([bytesField(1, apiVersion), bytesField(2, kind)])), bytesField(2, raw)]);

const LAYOUT: ProtoMessage = {
  1: { name: 'metadata', type: 'message', message: OBJECT_META },
  2: { name: 'spec', type: 'message', message: { 1: { name: 'finalizers', type: 'string', repeated: true } } },
};

t.test('a namespace as kubectl create namespace sends it', async (t) => {
  const meta = Buffer.concat([
    bytesField(1, 'team-a'),
    bytesField(11, Buffer.concat([bytesField(1, 'env'), bytesField(2, 'prod')])),
    bytesField(11, Buffer.concat([bytesField(1, 'tier'), bytesField(2, '')])),
    bytesField(14, 'a/b'),
    bytesField(14, 'c/d'),
    varintField(7, 3),
    bytesField(8, varintField(1, 1_700_000_000)),
    varintField(10, -1),
  ]);
  const raw = Buffer.concat([bytesField(1, meta), bytesField(2, Buffer.alloc(0))]);
  t.same(decodeProtobufObject(envelope('v1', 'Namespace', raw), LAYOUT), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'team-a',
      labels: { env: 'prod', tier: '' },
      finalizers: ['a/b', 'c/d'],
      generation: 3,
      creationTimestamp: '2023-11-14T22:13:20Z',
      deletionGracePeriodSeconds: -1,
    },
    spec: {},
  });
});

t.test('zero values of plain Go fields are left out, as their JSON form omits them; pointers keep them', async (t) => {
  const meta = Buffer.concat([
    bytesField(1, 'n'),
    bytesField(2, ''),
    bytesField(6, ''),
    varintField(7, 0),
    bytesField(8, varintField(1, -62135596800)),
    varintField(10, 0),
  ]);
  t.same(decodeProtobufObject(envelope('v1', 'Namespace', bytesField(1, meta)), LAYOUT).metadata, { name: 'n', deletionGracePeriodSeconds: 0 });
});

t.test('what is not a well-formed body of the layout is a 400 that says why', async (t) => {
  const ok = Buffer.concat([bytesField(1, bytesField(1, 'x'))]);
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('{"kind":"Namespace"}'), /does not start with the "k8s\\x00" prefix/],
    [envelope('v1', 'Namespace', ok).subarray(0, 12), /unexpected end of data/],
    [envelope('v1', 'Namespace', Buffer.concat([ok, bytesField(9, 'new field')])), /field number 9, which this server does not know/],
    [envelope('v1', 'Namespace', bytesField(1, varintField(1, 5))), /metadata.name: wire type 0 does not fit string/],
    [envelope('v1', 'Namespace', bytesField(1, varintField(7, 2n ** 62n))), /out of range/],
    [Buffer.concat([envelope('v1', 'Namespace', ok), bytesField(3, 'gzip')]), /content encoding "gzip" is not supported/],
  ];
  for (const [body, why] of cases) {
    let err: unknown;
    try {
      decodeProtobufObject(body, LAYOUT);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof StatusError && err.code === 400, `400 for ${why}`);
    t.match((err as Error).message, why);
  }
});

t.test('a zero metav1.Time travels as an empty message (kubectl auth can-i sends one) and stays absent', async (t) => {
  const raw = bytesField(1, Buffer.concat([bytesField(8, Buffer.alloc(0)), bytesField(9, Buffer.alloc(0))]));
  t.same(decodeProtobufObject(envelope('v1', 'Namespace', raw), LAYOUT), { apiVersion: 'v1', kind: 'Namespace', metadata: {} });
});
