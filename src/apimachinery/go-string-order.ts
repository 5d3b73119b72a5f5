// Go sorts strings by their UTF-8 bytes, which is Unicode code point order. JavaScript's default sort compares UTF-16
// code units, which disagrees for characters above U+FFFF (surrogate pairs) against those in U+E000–U+FFFF. Selectors
// and pruned-field lists are sorted the Go way so that their strings match upstream's.

const isSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdfff;

/** Comparator equal to Go's `a < b` on strings, without allocating. */
export function compareGoStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = isSurrogate(x);
      if (xs !== isSurrogate(y)) return xs ? 1 : -1; // a supplementary character sorts after any BMP one
      return x - y;
    }
  }
  return a.length - b.length;
}
