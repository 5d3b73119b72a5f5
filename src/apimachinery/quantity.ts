// Kubernetes resource quantities, ported from k8s.io/apimachinery/pkg/api/resource (quantity.go, suffix.go,
// amount.go): the same grammar, the same rounding (up to nano, away from zero), the same BinarySI cap at 2^63-1,
// and the same canonical String() — including upstream's habit of re-emitting an already-canonical input verbatim.
// Values are exact: a BigInt mantissa and a base-10 exponent, never a float.
// https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go

export type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

const SPLIT_RE_STRING = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
export const ERR_FORMAT_WRONG = `quantities must match the regular expression '${SPLIT_RE_STRING}'`;
export const ERR_NUMERIC = 'unable to parse numeric part of quantity';
export const ERR_SUFFIX = "unable to parse quantity's suffix";
/**
 * Ours, not upstream's: decimal BigInt conversion is quadratic, so a megabyte of digits would stall the event loop for
 * seconds. No meaningful quantity comes near this (int64 has 19 digits, nano precision 9 more).
 */
export const MAX_QUANTITY_LENGTH = 1024;
export const ERR_TOO_LONG = `quantities may not be longer than ${MAX_QUANTITY_LENGTH} characters`;

/** A string that is not a quantity. `value` is the offending input; `message` is upstream's error text. */
export class QuantityError extends Error {
  constructor(
    readonly value: string,
    message: string,
  ) {
    super(message);
    this.name = 'QuantityError';
  }
}

const MAX_INT64 = (1n << 63n) - 1n;
const MAX_INT32 = 2147483647;
const NANO = -9;
// maxInt64Factors in amount.go: the number of decimal digits an int64 always holds.
const MAX_INT64_FACTORS = 18;

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_EXPONENT = new Map(Object.entries(BINARY_SUFFIXES).map(([s, e]) => [e, s]));

interface Scanned {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const SUFFIX_LETTERS = 'eEinumkKMGTP';

/** parseQuantityString: the fast scanner. Returns undefined where upstream returns ErrFormatWrong. */
function scan(str: string): Scanned | undefined {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === '-') {
      positive = false;
      pos++;
    } else if (str[0] === '+') {
      pos++;
    }
  }
  // strip leading zeros; all zeros (or nothing) is zero
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };

  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  let num = str.slice(pos, i);
  if (i >= end) return { positive, num, denom: '', suffix: '' };
  pos = i;
  if (num.length === 0) num = '0';

  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { positive, num, denom, suffix: '' };
    pos = i;
  }

  const suffixStart = pos;
  i = pos;
  while (i < end && SUFFIX_LETTERS.includes(str[i])) i++;
  if (i >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  pos = i;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  return undefined;
}

interface Interpreted {
  base: 2 | 10;
  exponent: number;
  format: QuantityFormat;
}

/** suffixer.interpret: the tables first, then `e<int>` / `E<int>` with the exponent bounded to ±MaxInt32. */
function interpret(suffix: string): Interpreted | undefined {
  if (suffix in DECIMAL_SUFFIXES) return { base: 10, exponent: DECIMAL_SUFFIXES[suffix], format: 'DecimalSI' };
  if (suffix in BINARY_SUFFIXES) return { base: 2, exponent: BINARY_SUFFIXES[suffix], format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    // strconv.ParseInt(s, 10, 64): optional sign, then at least one digit.
    const m = /^([+-]?)([0-9]+)$/.exec(suffix.slice(1));
    if (!m) return undefined;
    const magnitude = BigInt(m[2]);
    if (magnitude > BigInt(MAX_INT32)) return undefined;
    const exponent = Number(magnitude) * (m[1] === '-' ? -1 : 1);
    return { base: 10, exponent, format: 'DecimalExponent' };
  }
  return undefined;
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const abs = (v: bigint): bigint => (v < 0n ? -v : v);
const digits = (v: bigint): number => (v === 0n ? 0 : abs(v).toString().length);

/** ceil(|value| / 10^shift) with the sign kept: inf.RoundUp (away from zero). */
function divideAwayFromZero(value: bigint, shift: number): bigint {
  const magnitude = abs(value);
  // Past the number of digits the quotient is below one, so any non-zero value rounds to 1.
  let q: bigint;
  if (shift > digits(magnitude)) {
    q = magnitude === 0n ? 0n : 1n;
  } else {
    const d = pow10(shift);
    q = magnitude / d + (magnitude % d === 0n ? 0n : 1n);
  }
  return value < 0n ? -q : q;
}

/** Compare a·10^ea with b·10^eb exactly, without expanding huge exponents. */
function compareScaled(a: bigint, ea: number, b: bigint, eb: number): -1 | 0 | 1 {
  const sa = a === 0n ? 0 : a < 0n ? -1 : 1;
  const sb = b === 0n ? 0 : b < 0n ? -1 : 1;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  // Same sign: compare magnitudes by their order of magnitude first.
  const ma = digits(a) + ea;
  const mb = digits(b) + eb;
  let magnitudeCmp: -1 | 0 | 1;
  if (ma !== mb) {
    magnitudeCmp = ma < mb ? -1 : 1;
  } else {
    // Same order of magnitude: the exponent gap is bounded by the digit counts, so aligning is cheap.
    const e = Math.min(ea, eb);
    const x = abs(a) * pow10(ea - e);
    const y = abs(b) * pow10(eb - e);
    magnitudeCmp = x === y ? 0 : x < y ? -1 : 1;
  }
  return (sa < 0 ? -magnitudeCmp : magnitudeCmp) as -1 | 0 | 1;
}

/** Canonical base-10 mantissa and exponent: factors of ten into the exponent, then the exponent down to a multiple of 3. */
function canonicalBase10(mantissa: bigint, exponent: number): { mantissa: bigint; exponent: number } {
  let m = mantissa;
  let e = exponent;
  while (m !== 0n && m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  // JavaScript's % truncates like Go's, so a negative exponent also moves down (-1 → -3).
  while (e % 3 !== 0) {
    m *= 10n;
    e--;
  }
  return { mantissa: m, exponent: e };
}

function exponentSuffix(exponent: number): string {
  return exponent === 0 ? '' : `e${exponent}`;
}

export class Quantity {
  /** The value is `mantissa · 10^exponent`; after parsing `exponent >= -9`. */
  private constructor(
    private readonly mantissa: bigint,
    private readonly exponent: number,
    readonly format: QuantityFormat,
    /** The input string when upstream keeps it as the canonical form (its `s` field). */
    private readonly cached?: string,
  ) {}

  /** ParseQuantity. Throws QuantityError. */
  static parse(str: string): Quantity {
    if (str.length === 0) throw new QuantityError(str, ERR_FORMAT_WRONG);
    if (str === '0') return new Quantity(0n, 0, 'DecimalSI', str);
    if (str.length > MAX_QUANTITY_LENGTH) throw new QuantityError(str, ERR_TOO_LONG);

    const scanned = scan(str);
    if (!scanned) throw new QuantityError(str, ERR_FORMAT_WRONG);
    const { positive, num, denom, suffix } = scanned;
    const interpreted = interpret(suffix);
    if (!interpreted) throw new QuantityError(str, ERR_SUFFIX);
    const { base, exponent } = interpreted;
    let format = interpreted.format;

    const unsigned = BigInt(num + denom);
    const cached = canonicalInputKept(str, num, denom, unsigned, interpreted);

    let magnitude: bigint;
    let scale: number;
    if (base === 10) {
      magnitude = unsigned;
      scale = exponent - denom.length;
    } else {
      magnitude = unsigned << BigInt(exponent);
      scale = -denom.length;
    }
    // Round non-zero values up to the smallest representable amount (1n): "if you want some resources, you
    // should get some resources".
    if (magnitude !== 0n && scale < NANO) {
      magnitude = divideAwayFromZero(magnitude, NANO - scale);
      scale = NANO;
    }
    if (format === 'BinarySI') {
      if (compareScaled(magnitude, scale, MAX_INT64, 0) > 0) {
        magnitude = MAX_INT64;
        scale = 0;
      }
      if (magnitude !== 0n && compareScaled(magnitude, scale, 1n, 0) < 0) format = 'DecimalSI';
    }
    return new Quantity(positive ? magnitude : -magnitude, scale, format, cached);
  }

  /** An integer amount (e.g. bytes) in the given format, like upstream's NewQuantity. */
  static fromInt(value: bigint, format: QuantityFormat = 'BinarySI'): Quantity {
    return new Quantity(value, 0, format);
  }

  /** `mantissa · 10^exponent` in the given format, like upstream's NewDecimalQuantity (no rounding applied). */
  static fromScaled(mantissa: bigint, exponent: number, format: QuantityFormat): Quantity {
    return new Quantity(mantissa, exponent, format);
  }

  sign(): -1 | 0 | 1 {
    return this.mantissa === 0n ? 0 : this.mantissa < 0n ? -1 : 1;
  }

  isZero(): boolean {
    return this.mantissa === 0n;
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return compareScaled(this.mantissa, this.exponent, other.mantissa, other.exponent);
  }

  /**
   * The value rounded up to an integer, away from zero (upstream's Value(), without its int64 overflow).
   * Throws RangeError for values too large to be sizes (more than 10^1000).
   */
  ceilInt(): bigint {
    if (this.exponent >= 0) {
      if (this.mantissa !== 0n && digits(this.mantissa) + this.exponent > 1000) {
        throw new RangeError(`quantity ${this.toString()} is too large`);
      }
      return this.mantissa * pow10(this.exponent);
    }
    return divideAwayFromZero(this.mantissa, -this.exponent);
  }

  /** String(): the canonical form (CanonicalizeBytes), or the input itself where upstream keeps it. */
  toString(): string {
    if (this.cached !== undefined) return this.cached;
    if (this.mantissa === 0n) return '0';
    let format = this.format;
    if (format === 'BinarySI') {
      const inSmallRange = compareScaled(this.mantissa, this.exponent, -1024n, 0) > 0 && compareScaled(this.mantissa, this.exponent, 1024n, 0) < 0;
      if (inSmallRange || !this.isInteger()) format = 'DecimalSI';
    }
    if (format === 'BinarySI') {
      let m = this.ceilInt();
      let e = 0;
      while (m % 1024n === 0n) {
        m /= 1024n;
        e++;
      }
      if (e === 0) return m.toString();
      const suffix = BINARY_BY_EXPONENT.get(e * 10);
      if (suffix !== undefined) return m.toString() + suffix;
      // Past Ei there is no binary suffix: fall back to an exact decimal form.
      format = 'DecimalExponent';
    }
    const c = canonicalBase10(this.mantissa, this.exponent);
    if (format === 'DecimalSI') {
      const suffix = DECIMAL_BY_EXPONENT.get(c.exponent);
      if (suffix !== undefined) return c.mantissa.toString() + suffix;
      // Past E (or below n) there is no SI suffix: fall back to exponent notation.
    }
    return c.mantissa.toString() + exponentSuffix(c.exponent);
  }

  toJSON(): string {
    return this.toString();
  }

  private isInteger(): boolean {
    if (this.exponent >= 0) return true;
    return -this.exponent <= digits(this.mantissa) && this.mantissa % pow10(-this.exponent) === 0n;
  }
}

/**
 * Whether upstream's int64 fast path applies and keeps the input as its canonical string (`Quantity.s`): only then
 * does String() echo the input (so "+1" stays "+1", as it does upstream).
 */
function canonicalInputKept(str: string, num: string, denom: string, shifted: bigint, interpreted: Interpreted): string | undefined {
  const { format, exponent } = interpreted;
  let precision: number;
  let scale = 0;
  let multiplier = 1n;
  if (format === 'BinarySI') {
    if (denom.length !== 0) return undefined;
    multiplier = 1n << BigInt(exponent);
    // int32(float32(exponent)*3/10): exponents are multiples of ten, so this is exact.
    precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
  } else {
    scale = exponent;
    precision = MAX_INT64_FACTORS - (num.length + denom.length);
  }
  if (precision < 0) return undefined;
  scale -= denom.length;
  if (scale < NANO) return undefined;
  const shiftedText = num + denom;
  if (shifted > MAX_INT64 || shifted * multiplier > MAX_INT64) return undefined;
  if (format === 'BinarySI') {
    return (shifted & 7n) !== 0n ? str : undefined;
  }
  return scale % 3 === 0 && !shiftedText.endsWith('000') && shiftedText[0] !== '0' ? str : undefined;
}

/** A byte count as a BinarySI quantity (upstream's NewQuantity(bytes, BinarySI)). */
export function quantityFromBytes(bytes: bigint): Quantity {
  return Quantity.fromInt(bytes, 'BinarySI');
}

/**
 * A byte count for people: the binary canonical form when it is a whole number of Ki (5Gi, 1536Mi), else the decimal
 * canonical form (1500, 1G, 2500M).
 */
export function formatBytesBinary(bytes: bigint): string {
  if (bytes !== 0n && bytes % 1024n === 0n) return Quantity.fromInt(bytes, 'BinarySI').toString();
  return Quantity.fromInt(bytes, 'DecimalSI').toString();
}
