import t from 'tap';
import fc from 'fast-check';
import { compareGoStrings } from '../../src/apimachinery/go-string-order.js';

const sign = (n: number): number => Math.sign(n);

t.test('orders like Go (UTF-8 bytes)', async (t) => {
  const cases: [string, string, number][] = [
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'a', 0],
    ['a', 'ab', -1],
    ['', 'a', -1],
    ['Z', 'a', -1],
    ['\uffff', '\u{10000}', -1], // UTF-16 code units would say the opposite
    ['\u{1F600}', '\uE000', 1],
    ['\u{1F600}', '\u{1F601}', -1],
  ];
  for (const [a, b, want] of cases) t.equal(sign(compareGoStrings(a, b)), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 8 }), (a, b) =>
      sign(compareGoStrings(a, b)) === sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))),
    ),
    { numRuns: 1000, seed: 7 },
  );
});
