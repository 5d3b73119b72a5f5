import t from 'tap';
import { decodeContinue, encodeContinue } from '../../src/storage/continue-token.js';
import { StorageError } from '../../src/storage/store.js';

t.test('round trip, in upstream shape', async (t) => {
  const token = encodeContinue({ rv: 42, start: 'ns/name\u0000' });
  t.same(JSON.parse(Buffer.from(token, 'base64url').toString()), { v: 'meta.k8s.io/v1', rv: 42, start: 'ns/name\u0000' });
  t.same(decodeContinue(token), { rv: 42, start: 'ns/name\u0000' });
  // Upstream's tokens are raw (unpadded) base64url; padded standard base64 is accepted too.
  const padded = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 7, start: 'a' })).toString('base64');
  t.same(decodeContinue(padded), { rv: 7, start: 'a' });
});

const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const bad: [string, string, RegExp][] = [
  ['not base64', '!!!', /not base64/],
  ['not JSON', Buffer.from('{nope').toString('base64url'), /not JSON/],
  ['not an object', enc(5), /not an object/],
  ['another version', enc({ v: 'meta.k8s.io/v2', rv: 1, start: 'a' }), /not supported by this server/],
  ['rv 0', enc({ v: 'meta.k8s.io/v1', rv: 0, start: 'a' }), /incorrect encoded start resourceVersion/],
  ['rv a string', enc({ v: 'meta.k8s.io/v1', rv: '5', start: 'a' }), /incorrect encoded start resourceVersion/],
  ['empty start', enc({ v: 'meta.k8s.io/v1', rv: 1, start: '' }), /start key is not a valid key/],
  ['dot-dot start', enc({ v: 'meta.k8s.io/v1', rv: 1, start: '../x' }), /start key is not a valid key/],
];
for (const [name, token, message] of bad) {
  t.test(`refuses ${name}`, async (t) => {
    t.throws(() => decodeContinue(token), { code: 'InvalidContinue', message });
    try {
      decodeContinue(token);
    } catch (error) {
      t.ok(error instanceof StorageError);
    }
  });
}
