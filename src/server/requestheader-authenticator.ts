// Front-proxy ("requestheader") authentication: kube-apiserver proxies a user's request with its front-proxy client
// certificate and the user's identity in X-Remote-* headers. Those headers are believed only when the certificate
// chains to the requestheader CA and its CN is allowed; every other request has them removed before anything
// downstream runs. A port of k8s.io/apiserver/pkg/authentication/request/headerrequest/requestheader.go and
// request/x509.NewDynamicCAVerifier.
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from '../apimachinery/user-info.js';
import { subjectOf, verifyChain } from './x509-authenticator.js';

export interface RequestHeaderNames {
  usernameHeaders: string[];
  uidHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

export interface RequestHeaderConfig extends RequestHeaderNames {
  /** The requestheader CA(s): front-proxy client certificates must chain to one of these. */
  roots: X509Certificate[];
  /** CNs allowed to assert identities; empty = any certificate from `roots`. */
  allowedNames: string[];
}

/** What an aggregated server defaults to (k8s.io/apiserver/pkg/server/options NewDelegatingAuthenticationOptions). */
export const DEFAULT_REQUEST_HEADER_NAMES: RequestHeaderNames = {
  usernameHeaders: ['X-Remote-User'],
  uidHeaders: ['X-Remote-Uid'],
  groupHeaders: ['X-Remote-Group'],
  extraHeaderPrefixes: ['X-Remote-Extra-'],
};

/** Header values as sent, one entry per occurrence (Node joins repeated unknown headers with ", " in `headers`). */
export function rawHeaderValues(rawHeaders: readonly string[], name: string): string[] {
  const want = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === want) out.push(rawHeaders[i + 1]);
  return out;
}

/** Go's url.PathUnescape, falling back to the raw key when it is malformed (upstream unescapeExtraKey). */
function unescapeExtraKey(key: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(key)) return key;
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** The identity the headers assert, or undefined when no username header has a value. Pure. */
export function userFromHeaders(rawHeaders: readonly string[], names: RequestHeaderNames): UserInfo | undefined {
  const first = (headers: string[]) => {
    for (const h of headers) {
      const v = rawHeaderValues(rawHeaders, h).find((x) => x.length > 0);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const username = first(names.usernameHeaders);
  if (!username) return undefined;
  const uid = first(names.uidHeaders);
  const groups: string[] = [];
  for (const h of names.groupHeaders) for (const v of rawHeaderValues(rawHeaders, h)) if (v.length > 0) groups.push(v);
  const extra: Record<string, string[]> = {};
  for (const prefix of names.extraHeaderPrefixes) {
    const p = prefix.toLowerCase();
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const lower = rawHeaders[i].toLowerCase();
      if (!lower.startsWith(p) || lower.length === p.length) continue;
      const key = unescapeExtraKey(lower.slice(p.length));
      (extra[key] ??= []).push(rawHeaders[i + 1]);
    }
  }
  const user: UserInfo = { username, groups };
  if (uid) user.uid = uid;
  if (Object.keys(extra).length) user.extra = extra;
  return user;
}

/** Which (lowercase) header names carry an identity under the given namings: built once per naming, not per request. */
export class IdentityHeaderMatcher {
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];

  constructor(names: readonly RequestHeaderNames[]) {
    for (const n of names) {
      for (const h of [...n.usernameHeaders, ...n.uidHeaders, ...n.groupHeaders]) this.exact.add(h.toLowerCase());
      for (const p of n.extraHeaderPrefixes) this.prefixes.push(p.toLowerCase());
    }
  }

  matches(lowerName: string): boolean {
    if (this.exact.has(lowerName)) return true;
    for (const p of this.prefixes) if (lowerName.startsWith(p)) return true;
    return false;
  }
}

/**
 * Removes the identity headers (of every given naming) from the request, in `headers` and in `rawHeaders`, so no
 * handler, log or proxy after authentication can see or trust them.
 */
export function stripAuthenticationHeaders(
  req: Pick<IncomingMessage, 'headers' | 'rawHeaders'>,
  names: readonly RequestHeaderNames[] | IdentityHeaderMatcher,
): void {
  const matcher = names instanceof IdentityHeaderMatcher ? names : new IdentityHeaderMatcher(names);
  let found = false;
  // `headers` keys are already lowercase; most requests carry no identity header and are left untouched.
  for (const k in req.headers) {
    if (matcher.matches(k)) {
      delete req.headers[k];
      found = true;
    }
  }
  if (!found) return;
  const raw = req.rawHeaders;
  let w = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (matcher.matches(raw[i].toLowerCase())) continue;
    raw[w++] = raw[i];
    raw[w++] = raw[i + 1];
  }
  raw.length = w;
}

export type RequestHeaderOutcome =
  | { kind: 'user'; user: UserInfo }
  /** No certificate from the requestheader CA, or no username header: try the other authenticators. */
  | { kind: 'none' }
  /** A requestheader certificate whose CN is not allowed (upstream: an error, and the next authenticator runs). */
  | { kind: 'rejected'; reason: string };

export class RequestHeaderAuthenticator {
  constructor(private current?: RequestHeaderConfig) {}

  /** Replaces the configuration (a reload); undefined disables front-proxy authentication (fail closed). */
  setConfig(config: RequestHeaderConfig | undefined): void {
    this.current = config;
  }

  config(): RequestHeaderConfig | undefined {
    return this.current;
  }

  /** Who the headers say, when the peer chain is a trusted front proxy. Does not strip anything. */
  authenticate(chain: X509Certificate[], rawHeaders: readonly string[], now = new Date()): RequestHeaderOutcome {
    const config = this.current; // one snapshot per request, as upstream's NewSecure takes
    if (!config || !verifyChain(chain, config.roots, now)) return { kind: 'none' };
    const cn = subjectOf(chain[0]).cn ?? '';
    if (config.allowedNames.length > 0 && !config.allowedNames.includes(cn)) {
      return { kind: 'rejected', reason: `x509: subject with cn=${cn} is not in the allowed list` };
    }
    const user = userFromHeaders(rawHeaders, config);
    return user ? { kind: 'user', user } : { kind: 'none' };
  }
}
