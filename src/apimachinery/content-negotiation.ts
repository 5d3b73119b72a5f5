// Accept negotiation for API responses (k8s.io/apiserver/pkg/endpoints/handlers/negotiation): JSON and YAML, the
// meta.k8s.io transformations (Table, PartialObjectMetadata[List]) by `as`/`g`/`v` parameters, protobuf skipped so a
// client that lists it first falls back to JSON. 406 only when no listed type is one we produce.

import { StatusError } from './status-error.js';

export interface MediaRange {
  type: string;
  subtype: string;
  params: Record<string, string>;
  q: number;
}

export type Transform = 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList';

export interface Negotiated {
  format: 'json' | 'yaml';
  transform?: Transform;
  /** meta.k8s.io version of the transform. */
  transformVersion?: 'v1' | 'v1beta1';
  contentType: string;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || !header.trim()) return [];
  const out: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [mediaType, ...rawParams] = part.split(';').map((s) => s.trim());
    if (!mediaType) continue;
    const [type, subtype = '*'] = mediaType.toLowerCase().split('/');
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (k === 'q') q = Number.isFinite(Number(v)) ? Number(v) : 0;
      else params[k] = v;
    }
    out.push({ type, subtype, params, q });
  }
  // Stable sort by q, highest first (goautoneg also prefers specificity among equal q; order suffices here).
  return out
    .map((r, i) => ({ r, i }))
    .sort((a, b) => b.r.q - a.r.q || a.i - b.i)
    .map(({ r }) => r)
    .filter((r) => r.q > 0);
}

export interface NegotiationTarget {
  /** Which transforms the endpoint can produce (a list: Table and PartialObjectMetadataList; a get: Table and PartialObjectMetadata). */
  transforms: Transform[];
  /** YAML allowed (not for watch streams). */
  yaml?: boolean;
}

const JSON_TYPE = 'application/json';

function formatOf(r: MediaRange, allowYaml: boolean): 'json' | 'yaml' | undefined {
  if (r.type === '*' && r.subtype === '*') return 'json';
  if (r.type !== 'application') return undefined;
  if (r.subtype === '*' || r.subtype === 'json') return 'json';
  if (allowYaml && r.subtype === 'yaml') return 'yaml';
  return undefined;
}

/** The matched clause's parameters in the client's order, as kube-apiserver echoes them (`application/json;as=Table;v=v1;g=meta.k8s.io`). */
export function echoParams(r: MediaRange): string {
  return ['application/json', ...Object.entries(r.params).map(([k, v]) => `${k}=${v}`)].join(';');
}

// Clients send the same few Accept headers over and over: answers are remembered (frozen) per header and target.
const MEMO_SIZE = 256;
const MEMO_MAX_ACCEPT = 1024;
const memo = new Map<string, Negotiated>();

export function negotiate(accept: string | undefined, target: NegotiationTarget): Negotiated {
  if (accept !== undefined && accept.length > MEMO_MAX_ACCEPT) return negotiateUncached(accept, target);
  const key = `${target.transforms.join(',')}|${target.yaml !== false}|${accept ?? ''}`;
  const known = memo.get(key);
  if (known) return known;
  const negotiated = Object.freeze(negotiateUncached(accept, target));
  if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value!);
  memo.set(key, negotiated);
  return negotiated;
}

function negotiateUncached(accept: string | undefined, target: NegotiationTarget): Negotiated {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return { format: 'json', contentType: JSON_TYPE };
  for (const r of ranges) {
    const format = formatOf(r, target.yaml !== false);
    if (!format) continue;
    const as = r.params.as;
    if (!as) {
      return { format, contentType: format === 'json' ? JSON_TYPE : 'application/yaml' };
    }
    if (format !== 'json') continue;
    const g = r.params.g;
    const v = r.params.v;
    if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
    if (!target.transforms.includes(as as Transform)) continue;
    return { format: 'json', transform: as as Transform, transformVersion: v, contentType: echoParams(r) };
  }
  throw StatusError.notAcceptable([JSON_TYPE, 'application/yaml']);
}

/** For endpoints that only speak JSON (discovery, OpenAPI): JSON unless the client explicitly excludes it. */
export function acceptsJson(accept: string | undefined): boolean {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return true;
  return ranges.some((r) => formatOf(r, false) === 'json');
}
