// metav1.MicroTime: RFC 3339 with exactly six fractional digits ("2006-01-02T15:04:05.000000Z07:00"). Go's
// time.Parse with that layout refuses any other width, so kube-apiserver answers a Lease or Event carrying
// `…:05.123Z` with a 400 while decoding (k8s.io/apimachinery/pkg/apis/meta/v1/micro_time.go).

import { StatusError } from '../apimachinery/status-error.js';

export const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';
const HEAD = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;
const ZONE = /^(Z|[+-]\d{2}:\d{2})$/;

/** Go's ParseError text for a value that does not fit the layout, or undefined when it parses. */
export function microTimeError(value: string): string | undefined {
  const fail = (valueElem: string, layoutElem: string) =>
    `parsing time ${JSON.stringify(value)} as ${JSON.stringify(RFC3339_MICRO)}: cannot parse ${JSON.stringify(valueElem)} as ${JSON.stringify(layoutElem)}`;
  const head = HEAD.exec(value);
  if (!head || Number.isNaN(Date.parse(head[0] + 'Z'))) return fail(value, '2006');
  const rest = value.slice(head[0].length);
  const frac = /^\.(\d*)/.exec(rest);
  if (!frac || frac[1].length < 6) return fail(rest, '.000000');
  const zone = rest.slice(7);
  if (!ZONE.test(zone)) return fail(zone, 'Z07:00');
  return undefined;
}

/** Formats a Date as a MicroTime (microseconds are zero: JavaScript clocks count milliseconds). */
export function formatMicroTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Throws the decoder's 400 for the first malformed MicroTime among `values`. */
export function assertMicroTimes(kind: string, values: unknown[]): void {
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const err = microTimeError(v);
    if (err) throw StatusError.badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: ${err}`);
  }
}
