// Go's encoding/json escapes <, > and & (and U+2028/U+2029) so that JSON is safe to embed in HTML; kube-apiserver's
// bodies therefore carry \u003c, \u003e, \u0026. We match it so byte-for-byte comparisons with upstream hold.
const goEscapes: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** JSON as kube-apiserver writes it: Go escaping and a trailing newline. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => goEscapes[c]) + '\n';
}
