// Protobuf request bodies (`application/vnd.kubernetes.protobuf`) for the kinds that declare their message layout.
// client-go sends built-in kinds this way (kubectl 1.35's `create namespace` does); the rest of the server works on
// plain objects, so the body is decoded into exactly what its JSON form would have been. The envelope is
// runtime.Unknown after the magic "k8s\0" (apimachinery/pkg/runtime/serializer/protobuf/protobuf.go); field numbers
// are those of the generated.proto files. Fields a layout does not list are refused, never dropped.
import { StatusError } from './status-error.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

// Go's generated marshallers write every non-pointer field, zero or not, where the JSON form omits zero values
// (`omitempty`): zeros are dropped unless `pointer` says the field is a Go pointer, whose presence means something.
export type ProtoField =
  | { name: string; type: 'string' | 'int64' | 'int32' | 'bool' | 'bytes' | 'time' | 'json-bytes' | 'string-map'; repeated?: boolean; pointer?: boolean }
  | { name: string; type: 'message'; message: ProtoMessage; repeated?: boolean; pointer?: boolean };

/** A message layout: field number → field. */
export type ProtoMessage = Readonly<Record<number, ProtoField>>;

const TYPE_META: ProtoMessage = { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } };
const UNKNOWN: ProtoMessage = {
  1: { name: 'typeMeta', type: 'message', message: TYPE_META },
  2: { name: 'raw', type: 'bytes' },
  3: { name: 'contentEncoding', type: 'string' },
  4: { name: 'contentType', type: 'string' },
};

const OWNER_REFERENCE: ProtoMessage = {
  1: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'controller', type: 'bool', pointer: true },
  7: { name: 'blockOwnerDeletion', type: 'bool', pointer: true },
};

const MANAGED_FIELDS_ENTRY: ProtoMessage = {
  1: { name: 'manager', type: 'string' },
  2: { name: 'operation', type: 'string' },
  3: { name: 'apiVersion', type: 'string' },
  4: { name: 'time', type: 'time' },
  6: { name: 'fieldsType', type: 'string' },
  7: { name: 'fieldsV1', type: 'message', message: { 1: { name: 'raw', type: 'json-bytes' } } },
  8: { name: 'subresource', type: 'string' },
};

/** meta/v1 ObjectMeta. */
export const OBJECT_META: ProtoMessage = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  4: { name: 'selfLink', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int64' },
  8: { name: 'creationTimestamp', type: 'time' },
  9: { name: 'deletionTimestamp', type: 'time', pointer: true },
  10: { name: 'deletionGracePeriodSeconds', type: 'int64', pointer: true },
  11: { name: 'labels', type: 'string-map' },
  12: { name: 'annotations', type: 'string-map' },
  13: { name: 'ownerReferences', type: 'message', message: OWNER_REFERENCE, repeated: true },
  14: { name: 'finalizers', type: 'string', repeated: true },
  17: { name: 'managedFields', type: 'message', message: MANAGED_FIELDS_ENTRY, repeated: true },
};

class DecodeError extends Error {}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new DecodeError('unexpected end of data in a varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
    }
    throw new DecodeError('varint overflow');
  }

  bytes(): Buffer {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new DecodeError('unexpected end of data in a length-delimited field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1 || wireType === 5) {
      this.pos += wireType === 1 ? 8 : 4;
      if (this.pos > this.buf.length) throw new DecodeError('unexpected end of data in a fixed-size field');
    } else throw new DecodeError(`illegal wire type ${wireType}`);
  }
}

function toInt64(v: bigint): number {
  const n = BigInt.asIntN(64, v);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new DecodeError(`integer ${n} out of range`);
  return Number(n);
}

// time.Time{}.Unix(): how a zero metav1.Time (JSON null) travels.
const ZERO_TIME_SECONDS = -62135596800;

/** metav1.Time marshals as a Timestamp and means whole seconds; the zero time is undefined. */
function rfc3339FromTimestamp(msg: Buffer): string | undefined {
  // metav1.Time marshals the zero time as an empty message, and Unmarshal reads one back as zero (time_proto.go).
  if (msg.length === 0) return undefined;
  const r = new Reader(msg);
  let seconds = 0;
  while (!r.done) {
    const key = r.varint();
    const [field, wireType] = [Number(key >> 3n), Number(key & 7n)];
    if (field === 1 && wireType === 0) seconds = toInt64(r.varint());
    else r.skip(wireType);
  }
  if (seconds === ZERO_TIME_SECONDS) return undefined;
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) throw new DecodeError(`timestamp ${seconds} out of range`);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function stringMapEntry(msg: Buffer): [string, string] {
  const r = new Reader(msg);
  let key = '';
  let value = '';
  while (!r.done) {
    const k = r.varint();
    const [field, wireType] = [Number(k >> 3n), Number(k & 7n)];
    if (wireType !== 2) throw new DecodeError(`map entry field ${field} has wire type ${wireType}`);
    if (field === 1) key = r.bytes().toString('utf8');
    else if (field === 2) value = r.bytes().toString('utf8');
    else r.skip(wireType);
  }
  return [key, value];
}

function isZero(v: unknown): boolean {
  return v === undefined || v === '' || v === 0 || v === false || (Buffer.isBuffer(v) && v.length === 0);
}

function decodeMessage(buf: Buffer, layout: ProtoMessage, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const r = new Reader(buf);
  while (!r.done) {
    const key = r.varint();
    const [number, wireType] = [Number(key >> 3n), Number(key & 7n)];
    const field = layout[number];
    if (!field) throw new DecodeError(`${path || 'the object'} has field number ${number}, which this server does not know`);
    const where = path ? `${path}.${field.name}` : field.name;
    const numeric = field.type === 'int64' || field.type === 'int32' || field.type === 'bool';
    if (wireType !== (numeric ? 0 : 2)) throw new DecodeError(`${where}: wire type ${wireType} does not fit ${field.type}`);
    let value: unknown;
    switch (field.type) {
      case 'string':
        value = r.bytes().toString('utf8');
        break;
      case 'int64':
      case 'int32':
        value = toInt64(r.varint());
        break;
      case 'bool':
        value = r.varint() !== 0n;
        break;
      case 'bytes':
        value = r.bytes();
        break;
      case 'time':
        value = rfc3339FromTimestamp(r.bytes());
        break;
      case 'json-bytes':
        try {
          value = JSON.parse(r.bytes().toString('utf8'));
        } catch {
          throw new DecodeError(`${where} is not JSON`);
        }
        break;
      case 'string-map': {
        const [k, v] = stringMapEntry(r.bytes());
        out[field.name] = { ...((out[field.name] as Record<string, string> | undefined) ?? {}), [k]: v };
        continue;
      }
      case 'message':
        value = decodeMessage(r.bytes(), field.message, where);
        break;
    }
    if (field.repeated) out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), value];
    else if (value !== undefined && (field.pointer || !isZero(value))) out[field.name] = value;
    else delete out[field.name];
  }
  return out;
}

/** The object a protobuf body carries, as its JSON form; 400 when the bytes are not a `layout` in the envelope. */
export function decodeProtobufObject(body: Buffer, layout: ProtoMessage): Record<string, unknown> {
  const fail = (reason: string) => StatusError.badRequest(`the body of the request could not be decoded as protobuf: ${reason}`);
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) throw fail('it does not start with the "k8s\\x00" prefix');
  try {
    const unknown = decodeMessage(body.subarray(MAGIC.length), UNKNOWN, '');
    if (unknown.contentEncoding) throw new DecodeError(`content encoding ${JSON.stringify(unknown.contentEncoding)} is not supported`);
    const typeMeta = (unknown.typeMeta ?? {}) as Record<string, string>;
    const obj = decodeMessage((unknown.raw as Buffer | undefined) ?? Buffer.alloc(0), layout, '');
    return { apiVersion: typeMeta.apiVersion ?? '', kind: typeMeta.kind ?? '', ...obj };
  } catch (err) {
    if (err instanceof DecodeError) throw fail(err.message);
    throw err;
  }
}
