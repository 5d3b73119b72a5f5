// Tables copied from upstream's quantity_test.go
// (staging/src/k8s.io/apimachinery/pkg/api/resource/quantity_test.go): TestQuantityParse, its invalid list,
// TestQuantityString, TestQuantityParseEmit, TestQuantityCmp, TestBinarySIPastEiArithmeticRoundTrip,
// TestBinarySIZeroExponentString, TestQuantityStringBelowNano and TestInterpretExponentInt32Bounds.
import t from 'tap';
import {
  ERR_FORMAT_WRONG,
  ERR_SUFFIX,
  ERR_TOO_LONG,
  Quantity,
  QuantityError,
  type QuantityFormat,
  formatBytesBinary,
  quantityFromBytes,
} from '../../src/apimachinery/quantity.js';

const MAX_ALLOWED = (1n << 63n) - 1n;
const dec = (m: bigint | number, e: number, format: QuantityFormat): Quantity => Quantity.fromScaled(BigInt(m), e, format);

// TestQuantityParse
const parseTable: Array<[string, Quantity]> = [
  ['0', dec(0, 0, 'DecimalSI')],
  ['0n', dec(0, 0, 'DecimalSI')],
  ['0u', dec(0, 0, 'DecimalSI')],
  ['0m', dec(0, 0, 'DecimalSI')],
  ['0Ki', dec(0, 0, 'BinarySI')],
  ['0k', dec(0, 0, 'DecimalSI')],
  ['0Mi', dec(0, 0, 'BinarySI')],
  ['0M', dec(0, 0, 'DecimalSI')],
  ['0Gi', dec(0, 0, 'BinarySI')],
  ['0G', dec(0, 0, 'DecimalSI')],
  ['0Ti', dec(0, 0, 'BinarySI')],
  ['0T', dec(0, 0, 'DecimalSI')],
  ['1', dec(1, 0, 'DecimalSI')],
  ['1Ki', dec(1024, 0, 'BinarySI')],
  ['8Ki', dec(8 * 1024, 0, 'BinarySI')],
  ['7Mi', dec(7 * 1024 * 1024, 0, 'BinarySI')],
  ['6Gi', dec(6 * 1024 * 1024 * 1024, 0, 'BinarySI')],
  ['5Ti', dec(5 * 1024 ** 4, 0, 'BinarySI')],
  ['4Pi', dec(4n * 1024n ** 5n, 0, 'BinarySI')],
  ['3Ei', dec(3n * 1024n ** 6n, 0, 'BinarySI')],
  ['10Ti', dec(10 * 1024 ** 4, 0, 'BinarySI')],
  ['100Ti', dec(100 * 1024 ** 4, 0, 'BinarySI')],
  ['5n', dec(5, -9, 'DecimalSI')],
  ['4u', dec(4, -6, 'DecimalSI')],
  ['3m', dec(3, -3, 'DecimalSI')],
  ['9', dec(9, 0, 'DecimalSI')],
  ['8k', dec(8, 3, 'DecimalSI')],
  ['50k', dec(5, 4, 'DecimalSI')],
  ['7M', dec(7, 6, 'DecimalSI')],
  ['6G', dec(6, 9, 'DecimalSI')],
  ['5T', dec(5, 12, 'DecimalSI')],
  ['40T', dec(4, 13, 'DecimalSI')],
  ['300T', dec(3, 14, 'DecimalSI')],
  ['2P', dec(2, 15, 'DecimalSI')],
  ['1E', dec(1, 18, 'DecimalSI')],
  ['1E-3', dec(1, -3, 'DecimalExponent')],
  ['1e3', dec(1, 3, 'DecimalExponent')],
  ['1E6', dec(1, 6, 'DecimalExponent')],
  ['1e9', dec(1, 9, 'DecimalExponent')],
  ['1E12', dec(1, 12, 'DecimalExponent')],
  ['1e15', dec(1, 15, 'DecimalExponent')],
  ['1E18', dec(1, 18, 'DecimalExponent')],
  ['1e14', dec(1, 14, 'DecimalExponent')],
  ['1e13', dec(1, 13, 'DecimalExponent')],
  ['1e3', dec(1, 3, 'DecimalExponent')],
  ['100.035k', dec(100035, 0, 'DecimalSI')],
  ['0.001', dec(1, -3, 'DecimalSI')],
  ['0.0005k', dec(5, -1, 'DecimalSI')],
  ['0.005', dec(5, -3, 'DecimalSI')],
  ['0.05', dec(5, -2, 'DecimalSI')],
  ['0.5', dec(5, -1, 'DecimalSI')],
  ['0.00050k', dec(5, -1, 'DecimalSI')],
  ['0.00500', dec(5, -3, 'DecimalSI')],
  ['0.05000', dec(5, -2, 'DecimalSI')],
  ['0.50000', dec(5, -1, 'DecimalSI')],
  ['0.5e0', dec(5, -1, 'DecimalExponent')],
  ['0.5e-1', dec(5, -2, 'DecimalExponent')],
  ['0.5e-2', dec(5, -3, 'DecimalExponent')],
  ['0.5e0', dec(5, -1, 'DecimalExponent')],
  ['10.035M', dec(10035, 3, 'DecimalSI')],
  ['1.2e3', dec(12, 2, 'DecimalExponent')],
  ['1.3E+6', dec(13, 5, 'DecimalExponent')],
  ['1.40e9', dec(14, 8, 'DecimalExponent')],
  ['1.53E12', dec(153, 10, 'DecimalExponent')],
  ['1.6e15', dec(16, 14, 'DecimalExponent')],
  ['1.7E18', dec(17, 17, 'DecimalExponent')],
  ['9.01', dec(901, -2, 'DecimalSI')],
  ['8.1k', dec(81, 2, 'DecimalSI')],
  ['7.123456M', dec(7123456, 0, 'DecimalSI')],
  ['6.987654321G', dec(6987654321, 0, 'DecimalSI')],
  ['5.444T', dec(5444, 9, 'DecimalSI')],
  ['40.1T', dec(401, 11, 'DecimalSI')],
  ['300.2T', dec(3002, 11, 'DecimalSI')],
  ['2.5P', dec(25, 14, 'DecimalSI')],
  ['1.01E', dec(101, 16, 'DecimalSI')],
  ['3.001n', dec(4, -9, 'DecimalSI')],
  ['1.1E-9', dec(2, -9, 'DecimalExponent')],
  ['0.0000000001', dec(1, -9, 'DecimalSI')],
  ['0.0000000005', dec(1, -9, 'DecimalSI')],
  ['0.00000000050', dec(1, -9, 'DecimalSI')],
  ['0.5e-9', dec(1, -9, 'DecimalExponent')],
  ['0.9n', dec(1, -9, 'DecimalSI')],
  ['0.00000012345', dec(124, -9, 'DecimalSI')],
  ['0.00000012354', dec(124, -9, 'DecimalSI')],
  ['9Ei', dec(MAX_ALLOWED, 0, 'BinarySI')],
  ['9223372036854775807Ki', dec(MAX_ALLOWED, 0, 'BinarySI')],
  ['12E', dec(12, 18, 'DecimalSI')],
  ['100.035Ki', dec(10243584, -2, 'BinarySI')],
  ['0.5Mi', dec(0.5 * 1024 * 1024, 0, 'BinarySI')],
  ['0.05Gi', dec(536870912, -1, 'BinarySI')],
  ['0.025Ti', dec(274877906944, -1, 'BinarySI')],
  ['0.000000000001Ki', dec(2, -9, 'DecimalSI')],
  ['.001', dec(1, -3, 'DecimalSI')],
  ['.0001k', dec(100, -3, 'DecimalSI')],
  ['1.', dec(1, 0, 'DecimalSI')],
  ['1.G', dec(1, 9, 'DecimalSI')],
];

t.test('ParseQuantity: values and formats (plain, negated, explicit +)', async (t) => {
  for (const [input, expect] of parseTable) {
    const got = Quantity.parse(input);
    t.equal(got.cmp(expect), 0, `${input}: value ${got.toString()} vs ${expect.toString()}`);
    t.equal(got.format, expect.format, `${input}: format`);

    const neg = Quantity.parse('-' + input);
    const negExpect = Quantity.fromScaled(0n, 0, 'DecimalSI').cmp(expect) === 0 ? expect : negate(expect);
    t.equal(neg.cmp(negExpect), 0, `-${input}: value`);
    t.equal(neg.format, expect.format, `-${input}: format`);

    const plus = Quantity.parse('+' + input);
    t.equal(plus.cmp(expect), 0, `+${input}: value`);
    t.equal(plus.format, expect.format, `+${input}: format`);
  }
});

function negate(q: Quantity): Quantity {
  // -q = 0 - q, compared through parse of the canonical string with a sign flip.
  const s = q.toString();
  return Quantity.parse(s.startsWith('-') ? s.slice(1) : '-' + s);
}

t.test('ParseQuantity: invalid inputs and the error wording', async (t) => {
  t.throws(() => Quantity.parse(''), new QuantityError('', ERR_FORMAT_WRONG));
  const invalid: Array<[string, string]> = [
    ['1.1.M', ERR_FORMAT_WRONG],
    ['1+1.0M', ERR_FORMAT_WRONG],
    ['0.1mi', ERR_SUFFIX],
    ['0.1am', ERR_FORMAT_WRONG],
    ['aoeu', ERR_FORMAT_WRONG],
    ['.5i', ERR_SUFFIX],
    ['1i', ERR_SUFFIX],
    ['-3.01i', ERR_SUFFIX],
    ['-3.01e-', ERR_SUFFIX],
    ['1e4294967297', ERR_SUFFIX],
    [' 1', ERR_FORMAT_WRONG],
    ['1 ', ERR_FORMAT_WRONG],
    // not upstream's table, but upstream's answers
    ['1ki', ERR_SUFFIX],
    ['5GB', ERR_FORMAT_WRONG],
    ['1e', ERR_SUFFIX],
    ['1e3e', ERR_FORMAT_WRONG],
  ];
  for (const [input, message] of invalid) {
    let caught: unknown;
    try {
      Quantity.parse(input);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof QuantityError, `${JSON.stringify(input)} is rejected`);
    t.equal((caught as QuantityError).value, input);
    t.equal((caught as QuantityError).message, message, `${JSON.stringify(input)}: message`);
  }
  t.equal(ERR_FORMAT_WRONG, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
});

t.test('absurdly long inputs are refused before any BigInt work (ours, not upstream)', async (t) => {
  const long = '9'.repeat(1022) + 'Gi';
  t.equal(long.length, 1024);
  t.equal(Quantity.parse(long).toString(), '9223372036854775807', 'capped at 2^63-1 as upstream does');
  const tooLong = '1' + '0'.repeat(3 * 1024 * 1024);
  const started = Date.now();
  t.throws(() => Quantity.parse(tooLong), new QuantityError(tooLong, ERR_TOO_LONG));
  t.ok(Date.now() - started < 100, 'refused at once');
  t.equal(ERR_TOO_LONG, 'quantities may not be longer than 1024 characters');
  // the canonical form of a long mantissa with many zeros stays cheap
  t.equal(Quantity.parse('1' + '0'.repeat(1000)).toString(), '10e999');
});

t.test('exponents are bounded to ±MaxInt32 (TestInterpretExponentInt32Bounds)', async (t) => {
  t.equal(Quantity.parse('1e14').cmp(dec(1, 14, 'DecimalExponent')), 0);
  t.equal(Quantity.parse('1E2147483647').format, 'DecimalExponent');
  t.equal(Quantity.parse('1E-2147483647').cmp(dec(1, -9, 'DecimalExponent')), 0, 'rounds up to 1n');
  for (const s of ['1E2147483648', '1E-2147483648', '1E4294967297', '1E8589934592', '1E9223372036854775807', '1E9223372036854775808']) {
    t.throws(() => Quantity.parse(s), QuantityError, s);
  }
  // a huge exponent is compared without expanding it
  t.equal(Quantity.parse('1E2147483647').cmp(Quantity.parse('5Gi')), 1);
  t.equal(Quantity.parse('1E2147483647').toString(), '10e2147483646');
  t.equal(Quantity.parse('1E2147483646').toString(), '1E2147483646', 'canonical input kept');
});

// TestQuantityString: [in, expect, alternate]
const stringTable: Array<[Quantity, string, string]> = [
  [dec(1024 * 1024 * 1024, 0, 'BinarySI'), '1Gi', '1024Mi'],
  [dec(300 * 1024 * 1024, 0, 'BinarySI'), '300Mi', '307200Ki'],
  [dec(6 * 1024, 0, 'BinarySI'), '6Ki', ''],
  [dec(1001 * 1024 * 1024 * 1024, 0, 'BinarySI'), '1001Gi', '1025024Mi'],
  [dec(1024 ** 4, 0, 'BinarySI'), '1Ti', '1024Gi'],
  [dec(5, 0, 'BinarySI'), '5', '5000m'],
  [dec(500, -3, 'BinarySI'), '500m', '0.5'],
  [dec(1, 9, 'DecimalSI'), '1G', '1000M'],
  [dec(1000, 6, 'DecimalSI'), '1G', '0.001T'],
  [dec(1000000, 3, 'DecimalSI'), '1G', ''],
  [dec(1000000000, 0, 'DecimalSI'), '1G', ''],
  [dec(1, -3, 'DecimalSI'), '1m', '1000u'],
  [dec(80, -3, 'DecimalSI'), '80m', ''],
  [dec(1080, -3, 'DecimalSI'), '1080m', '1.08'],
  [dec(108, -2, 'DecimalSI'), '1080m', '1080000000n'],
  [dec(10800, -4, 'DecimalSI'), '1080m', ''],
  [dec(300, 6, 'DecimalSI'), '300M', ''],
  [dec(1, 12, 'DecimalSI'), '1T', ''],
  [dec(1, 18, 'DecimalSI'), '1E', ''],
  [dec(1, 21, 'DecimalSI'), '1e21', '1000E'],
  [dec(5, 21, 'DecimalSI'), '5e21', '5000E'],
  [dec(1, 24, 'DecimalSI'), '1e24', '1000000E'],
  [dec(1, 70, 'BinarySI'), '10e69', ''],
  [dec(2, 70, 'BinarySI'), '20e69', ''],
  [dec(1, 72, 'BinarySI'), '1e72', ''],
  [dec(1234567, 6, 'DecimalSI'), '1234567M', ''],
  [dec(1234567, -3, 'BinarySI'), '1234567m', ''],
  [dec(3, 3, 'DecimalSI'), '3k', ''],
  [dec(1025, 0, 'BinarySI'), '1025', ''],
  [dec(0, 0, 'DecimalSI'), '0', ''],
  [dec(0, 0, 'BinarySI'), '0', ''],
  [dec(1, 9, 'DecimalExponent'), '1e9', '.001e12'],
  [dec(1, -3, 'DecimalExponent'), '1e-3', '0.001e0'],
  [dec(1, -9, 'DecimalExponent'), '1e-9', '1000e-12'],
  [dec(80, -3, 'DecimalExponent'), '80e-3', ''],
  [dec(300, 6, 'DecimalExponent'), '300e6', ''],
  [dec(1, 12, 'DecimalExponent'), '1e12', ''],
  [dec(1, 3, 'DecimalExponent'), '1e3', ''],
  [dec(3, 3, 'DecimalExponent'), '3e3', ''],
  [dec(3, 3, 'DecimalSI'), '3k', ''],
  [dec(0, 0, 'DecimalExponent'), '0', '00'],
  [dec(1, -9, 'DecimalSI'), '1n', ''],
  [dec(80, -9, 'DecimalSI'), '80n', ''],
  [dec(1080, -9, 'DecimalSI'), '1080n', ''],
  [dec(108, -8, 'DecimalSI'), '1080n', ''],
  [dec(10800, -10, 'DecimalSI'), '1080n', ''],
  [dec(1, -6, 'DecimalSI'), '1u', ''],
  [dec(80, -6, 'DecimalSI'), '80u', ''],
  [dec(1080, -6, 'DecimalSI'), '1080u', ''],
];

t.test('String(): canonical forms, their round trip, alternates and negatives', async (t) => {
  for (const [q, expect, alternate] of stringTable) {
    t.equal(q.toString(), expect, `${expect}: canonical`);
    const reparsed = Quantity.parse(expect);
    t.equal(reparsed.toString(), expect, `${expect}: parse keeps the canonical string`);
    t.equal(reparsed.cmp(q), 0, `${expect}: round trip keeps the value`);
    if (alternate) {
      t.equal(Quantity.parse(alternate).toString(), expect, `${alternate} → ${expect}`);
    }
    if (!q.isZero()) {
      t.equal(negate(q).toString(), '-' + expect, `-${expect}`);
    }
  }
});

t.test('ParseEmit: parsed input re-emitted canonically', async (t) => {
  const table: Array<[string, string]> = [
    ['1Ki', '1Ki'],
    ['1Mi', '1Mi'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1000M', '1G'],
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
    // the brief's examples
    ['1.5Gi', '1536Mi'],
    ['1536Mi', '1536Mi'],
    ['1.5', '1500m'],
  ];
  for (const [input, expect] of table) {
    t.equal(Quantity.parse(input).toString(), expect, input);
    t.equal(Quantity.parse('-' + input).toString(), '-' + expect, '-' + input);
  }
});

t.test('String() past Ei, zero binary exponent, below nano', async (t) => {
  // TestBinarySIPastEiArithmeticRoundTrip: 1Ei * 1024
  const q = Quantity.fromInt(1n << 70n, 'BinarySI');
  t.equal(q.toString(), '1180591620717411303424');
  t.equal(Quantity.parse(q.toString()).cmp(q), 0);
  t.equal(JSON.stringify({ q }), '{"q":"1180591620717411303424"}');
  // TestBinarySIZeroExponentString
  t.equal(Quantity.fromInt(2000n, 'BinarySI').toString(), '2000');
  t.equal(Quantity.fromInt(-2000n, 'BinarySI').toString(), '-2000');
  // TestQuantityStringBelowNano
  t.equal(dec(1, -12, 'DecimalSI').toString(), '1e-12');
  t.equal(dec(1, -10, 'DecimalSI').toString(), '100e-12');
});

t.test('upstream keeps an already-canonical input verbatim', async (t) => {
  // Quantity.s is set by the int64 fast path; String() then returns the input as written.
  t.equal(Quantity.parse('+1').toString(), '+1');
  t.equal(Quantity.parse('1.').toString(), '1.');
  t.equal(Quantity.parse('8Ki').toString(), '8Ki', 'not cached (8 & 7 == 0) but canonical anyway');
  t.equal(Quantity.parse('1000').toString(), '1k');
  t.equal(Quantity.parse('0000').toString(), '0');
  t.equal(Quantity.parse('-0').toString(), '0');
});

t.test('Cmp (TestQuantityCmp and more)', async (t) => {
  const table: Array<[string, string, -1 | 0 | 1]> = [
    ['0', '0', 0],
    ['100m', '50m', 1],
    ['50m', '100m', -1],
    ['10000T', '100Gi', 1],
    ['1Gi', '1073741824', 0],
    ['1G', '1Gi', -1],
    ['5Gi', '5368709120', 0],
    ['-1', '0', -1],
    ['-2', '-1', -1],
    ['1e3', '1k', 0],
    ['0.5Mi', '512Ki', 0],
  ];
  for (const [x, y, expect] of table) {
    t.equal(Quantity.parse(x).cmp(Quantity.parse(y)), expect, `${x} vs ${y}`);
    t.equal(Quantity.parse(y).cmp(Quantity.parse(x)), -expect || 0, `${y} vs ${x}`);
  }
});

t.test('ceilInt: rounds up away from zero (Value())', async (t) => {
  const table: Array<[string, bigint]> = [
    ['1Gi', 1073741824n],
    ['1.5Gi', 1610612736n],
    ['100m', 1n],
    ['1.5', 2n],
    ['-1.5', -2n],
    ['1e3', 1000n],
    ['0', 0n],
    ['9Ei', (1n << 63n) - 1n],
    ['12E', 12n * 10n ** 18n],
    ['3.001n', 1n],
  ];
  for (const [input, expect] of table) t.equal(Quantity.parse(input).ceilInt(), expect, input);
  t.throws(() => Quantity.parse('1E2147483647').ceilInt(), RangeError);
});

t.test('quantityFromBytes and formatBytesBinary', async (t) => {
  t.equal(quantityFromBytes(5n * 1024n ** 3n).toString(), '5Gi');
  t.equal(quantityFromBytes(5n * 1024n ** 3n).format, 'BinarySI');
  t.equal(quantityFromBytes(1500n).toString(), '1500');
  const human: Array<[bigint, string]> = [
    [5n * 1024n ** 3n, '5Gi'],
    [1536n * 1024n ** 2n, '1536Mi'],
    [1500n, '1500'],
    [1000000000n, '1G'],
    [2500000000n, '2500M'],
    [1024n, '1Ki'],
    [1023n, '1023'],
    [0n, '0'],
    [1n << 62n, '4Ei'],
  ];
  for (const [bytes, expect] of human) t.equal(formatBytesBinary(bytes), expect, String(bytes));
});

t.test('NewQuantity / NewMilliQuantity / NewScaledQuantity forms (TestNewSet, TestMilliNewSet, TestNewScaledSet)', async (t) => {
  const newSet: Array<[bigint, QuantityFormat, string]> = [
    [1n, 'DecimalSI', '1'],
    [1000n, 'DecimalSI', '1k'],
    [1234000n, 'DecimalSI', '1234k'],
    [1024n, 'BinarySI', '1Ki'],
    [1000000n, 'DecimalExponent', '1e6'],
    [1024n * 1024n, 'BinarySI', '1Mi'],
  ];
  for (const [value, format, expect] of newSet) {
    t.equal(Quantity.fromInt(value, format).toString(), expect, `${value} ${format}`);
    t.equal(Quantity.parse(expect).ceilInt(), value, `${expect} round trip`);
  }
  const milli: Array<[number, QuantityFormat, string]> = [
    [1, 'DecimalSI', '1m'],
    [1000, 'DecimalSI', '1'],
    [1234000, 'DecimalSI', '1234'],
    [1024, 'BinarySI', '1024m'],
    [1000000, 'DecimalExponent', '1e3'],
    [1024 * 1024, 'BinarySI', '1048576m'],
  ];
  for (const [value, format, expect] of milli) t.equal(dec(value, -3, format).toString(), expect, `${value}m ${format}`);
  const scaled: Array<[number, number, string]> = [
    [1, -9, '1n'],
    [1000, -9, '1u'],
    [1, -6, '1u'],
    [1000, -6, '1m'],
    [1, -3, '1m'],
    [1000, -3, '1'],
    [1, 0, '1'],
    [0, -9, '0'],
    [0, -6, '0'],
    [0, -3, '0'],
    [0, 0, '0'],
  ];
  for (const [value, scale, expect] of scaled) {
    const q = dec(value, scale, 'DecimalSI');
    t.equal(q.toString(), expect, `${value}e${scale}`);
    t.equal(Quantity.parse(expect).cmp(q), 0, `${expect} round trip`);
  }
});

t.test('Value() rounds away from zero (TestNegativeValueRoundsAwayFromZero)', async (t) => {
  const table: Array<[string, bigint]> = [
    ['-.484785E-7466', -1n],
    ['.484785E-7466', 1n],
    ['-.484785E-1', -1n],
    ['.484785E-1', 1n],
    ['-0.0005', -1n],
    ['0.0005', 1n],
    ['-1500m', -2n],
    ['1500m', 2n],
    ['-9.5000000001Gi', -10200547329n],
    ['9.5000000001Gi', 10200547329n],
    ['-1', -1n],
    ['1', 1n],
    ['0', 0n],
  ];
  for (const [input, expect] of table) t.equal(Quantity.parse(input).ceilInt(), expect, input);
});
