// What a request is about, for authorization and routing: a port of RequestInfoFactory.NewRequestInfo from
// k8s.io/apiserver/pkg/endpoints/request/requestinfo.go (APIPrefixes {api, apis}, GrouplessAPIPrefixes {api}).
//
// Resource paths:                     Non-resource paths (verb = lowercase HTTP method):
//   /apis/{group}/{version}/namespaces/{ns}/{resource}[/{name}[/{subresource}]]     /apis/{group}/{version}
//   /apis/{group}/{version}/{resource}[/{name}[/{subresource}]]                     /apis/{group}, /apis, /api
//   /api/{version}/…  (core group)                                                  /healthz, /openapi/v3, /
//   /apis/{group}/{version}/watch/…  (legacy watch prefix), …/proxy/… (no subresource)

import { parseFieldSelector, requiresExactMatch } from './field-selector.js';
import { parseLabelSelector } from './label-selector.js';
import { isValidPathSegmentName } from './object-meta-validation.js';
import { StatusError } from './status-error.js';

export interface RequestInfo {
  isResourceRequest: boolean;
  /** The decoded URL path, as Go's req.URL.Path. */
  path: string;
  /** get list watch create update patch delete deletecollection (or proxy); the lowercase method otherwise. */
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path parts from the resource on: `[resource, name, subresource, …]`. */
  parts: string[];
}

export interface RequestInfoOptions {
  apiPrefixes?: string[];
  grouplessApiPrefixes?: string[];
}

const specialVerbs = new Set(['proxy', 'watch']);
const specialVerbsNoSubresources = new Set(['proxy']);
// Lets /api/v1/namespaces/{ns}/status be the namespace's subresource, not a resource called "status".
const namespaceSubresources = new Set(['status', 'finalize']);

/**
 * Percent-decoding that never throws: a `%` not followed by two hex digits stays literal, and bytes that are not
 * UTF-8 become U+FFFD. (Go's server refuses malformed escapes with its own 400 before any handler runs; the caller
 * may do the same by checking `hasMalformedEscape`.)
 */
export function decodePath(raw: string): string {
  if (!raw.includes('%')) return raw;
  const bytes: number[] = [];
  const src = Buffer.from(raw, 'utf8');
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b === 0x25 && isHex(src[i + 1]) && isHex(src[i + 2])) {
      bytes.push(parseInt(String.fromCharCode(src[i + 1], src[i + 2]), 16));
      i += 2;
    } else {
      bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

/** True when the raw path has a `%` not followed by two hex digits (Go: `invalid URL escape`). */
export function hasMalformedEscape(rawPath: string): boolean {
  return /%(?![0-9A-Fa-f]{2})/.test(rawPath);
}

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

function splitUrl(target: string): { rawPath: string; query: URLSearchParams } {
  // an absolute-form request target (`GET http://host/apis/…`) names its path after the authority, as Go parses it
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  const url = absolute ? target.slice(absolute[0].length) || '/' : target;
  const hash = url.indexOf('#');
  const noHash = hash >= 0 ? url.slice(0, hash) : url;
  const q = noHash.indexOf('?');
  const rawPath = q >= 0 ? noHash.slice(0, q) : noHash;
  // URLSearchParams never throws; malformed escapes in values stay literal.
  const query = new URLSearchParams(q >= 0 ? noHash.slice(q + 1) : '');
  return { rawPath, query };
}

/** Convert_Slice_string_To_bool: absent, "0" and "false" (any case) are false; anything else, even "", is true. */
function queryBool(query: URLSearchParams, key: string): boolean {
  const v = query.get(key);
  if (v === null) return false;
  return !(v === '0' || v.toLowerCase() === 'false');
}

/**
 * Upstream decodes the whole ListOptions and, when any parameter fails to decode, forgets all of them (keeping only
 * `watch`). The parameters that can fail are the selectors and the integers.
 */
function listOptionsDecode(query: URLSearchParams): boolean {
  try {
    const ls = query.get('labelSelector');
    if (ls !== null) parseLabelSelector(ls);
    for (const k of ['limit', 'timeoutSeconds']) {
      const v = query.get(k);
      if (v !== null && !/^[+-]?[0-9]+$/.test(v)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

// One request is looked at by authorization, the in-flight limit, routing and the metrics, each through
// parseRequestInfo: the parse of the default prefixes is remembered per method and URL (a few hundred recent ones,
// oldest dropped first) and shared, frozen, by those callers.
const MEMO_SIZE = 512;
const MEMO_MAX_URL = 2048;
const memo = new Map<string, RequestInfo>();
const DEFAULT_PREFIXES = new Set(['api', 'apis']);
const DEFAULT_GROUPLESS = new Set(['api']);

/** The attributes of a request for a path that names no resource (e.g. /healthz). */
export function nonResourceRequestInfo(path: string, verb: string): RequestInfo {
  return {
    isResourceRequest: false,
    path,
    verb,
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
}

/** What a request is about; the answer is frozen (it may be shared with other callers for the same request). */
export function parseRequestInfo(method: string, url: string, opts: RequestInfoOptions = {}): RequestInfo {
  if (opts.apiPrefixes || opts.grouplessApiPrefixes || url.length > MEMO_MAX_URL) return Object.freeze(parse(method, url, opts));
  const key = `${method} ${url}`;
  const known = memo.get(key);
  if (known) return known;
  const info = parse(method, url, opts);
  Object.freeze(info.parts);
  Object.freeze(info);
  if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value!);
  memo.set(key, info);
  return info;
}

function parse(method: string, url: string, opts: RequestInfoOptions): RequestInfo {
  const apiPrefixes = opts.apiPrefixes ? new Set(opts.apiPrefixes) : DEFAULT_PREFIXES;
  const groupless = opts.grouplessApiPrefixes ? new Set(opts.grouplessApiPrefixes) : DEFAULT_GROUPLESS;
  const { rawPath, query } = splitUrl(url);
  const path = decodePath(rawPath);

  const info = nonResourceRequestInfo(path, method.toLowerCase());

  let parts = splitPath(path);
  if (parts.length < 3) return info;
  if (!apiPrefixes.has(parts[0])) return info;
  info.apiPrefix = parts[0];
  parts = parts.slice(1);

  if (!groupless.has(info.apiPrefix)) {
    // one part (the prefix) is already consumed: "do we have four parts?"
    if (parts.length < 3) return info;
    info.apiGroup = parts[0];
    parts = parts.slice(1);
  }

  info.isResourceRequest = true;
  info.apiVersion = parts[0];
  parts = parts.slice(1);

  if (specialVerbs.has(parts[0])) {
    // Upstream returns an error here ("unable to determine kind and namespace from url") along with the info so far.
    if (parts.length < 2) return info;
    info.verb = parts[0];
    parts = parts.slice(1);
  } else {
    switch (method.toUpperCase()) {
      case 'POST':
        info.verb = 'create';
        break;
      case 'GET':
      case 'HEAD':
        info.verb = 'get';
        break;
      case 'PUT':
        info.verb = 'update';
        break;
      case 'PATCH':
        info.verb = 'patch';
        break;
      case 'DELETE':
        info.verb = 'delete';
        break;
      default:
        info.verb = '';
    }
  }

  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1];
      // a further step that is not a namespace subresource is a namespaced resource in its own right
      if (parts.length > 2 && !namespaceSubresources.has(parts[2])) parts = parts.slice(2);
    }
  }

  info.parts = parts;
  if (parts.length >= 3 && !specialVerbsNoSubresources.has(info.verb)) info.subresource = parts[2];
  if (parts.length >= 2) info.name = parts[1];
  if (parts.length >= 1) info.resource = parts[0];

  if (info.name === '' && info.verb === 'get') {
    let watch: boolean;
    let fieldSelectorName: string | undefined;
    if (listOptionsDecode(query)) {
      watch = queryBool(query, 'watch');
      const fs = query.get('fieldSelector');
      if (fs !== null) {
        try {
          fieldSelectorName = requiresExactMatch(parseFieldSelector(fs), 'metadata.name');
        } catch {
          fieldSelectorName = undefined;
        }
      }
    } else {
      watch = queryBool(query, 'watch');
    }
    info.verb = watch ? 'watch' : 'list';
    // upstream sets the name for authorization only when it is a valid path segment
    if (fieldSelectorName !== undefined && isValidPathSegmentName(fieldSelectorName).length === 0) {
      info.name = fieldSelectorName;
    }
  }

  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}

/**
 * The checks the generic registry makes on the name (and namespace) taken from a URL before building a storage key
 * (k8s.io/apiserver/pkg/registry/generic/registry/store.go NamespaceKeyFunc / NoNamespaceKeyFunc): 400
 * `Namespace parameter required.`, `Name parameter required.`, or `Name parameter invalid: "..": may not be '..'`.
 */
export function assertValidNameParameter(name: string, namespace?: { namespaced: boolean; value: string }): void {
  if (namespace?.namespaced && namespace.value === '') throw StatusError.badRequest('Namespace parameter required.');
  if (name === '') throw StatusError.badRequest('Name parameter required.');
  const msgs = isValidPathSegmentName(name);
  if (msgs.length) throw StatusError.badRequest(`Name parameter invalid: ${JSON.stringify(name)}: ${msgs.join(';')}`);
}
