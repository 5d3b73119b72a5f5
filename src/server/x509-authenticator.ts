// Client-certificate authentication, as k8s.io/apiserver/pkg/authentication/request/x509 does it:
// the chain must verify against one of the trusted CAs, allow client auth, and be in its validity period;
// then user = CN, groups = O (+ system:authenticated).
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { UserInfo } from '../apimachinery/user-info.js';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** Splits a PEM bundle into its certificates. */
export function parsePemBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

// A TLS connection's client certificate cannot change while it lives, and keep-alive clients send many requests on
// one connection: parsing and verifying the chain once per connection instead of once per request halves the CPU of
// a small GET. Both caches are weak, so they go with their socket (or root set).
const chains = new WeakMap<TLSSocket, X509Certificate[]>();
const verdicts = new WeakMap<X509Certificate, WeakMap<X509Certificate[], { ok: boolean; until: number }>>();

/** The peer's chain as sent (leaf first), without the self-signed loop Node appends at the root. */
export function peerChain(socket: TLSSocket): X509Certificate[] {
  const cached = chains.get(socket);
  if (cached) return cached;
  const chain = readPeerChain(socket);
  chains.set(socket, chain);
  return chain;
}

function readPeerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cur = socket.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>;
  const seen = new Set<string>();
  while (cur && 'raw' in cur && cur.raw && !seen.has(cur.fingerprint256)) {
    seen.add(cur.fingerprint256);
    chain.push(new X509Certificate(cur.raw));
    cur = cur.issuerCertificate as DetailedPeerCertificate;
  }
  return chain;
}

function validAt(c: X509Certificate, now: Date): boolean {
  return new Date(c.validFrom) <= now && now <= new Date(c.validTo);
}

/**
 * True when `chain[0]` chains (through the sent intermediates) to one of `roots`. The verdict is remembered per leaf
 * and root set (root sets are replaced, never mutated, when CAs reload) until the first certificate involved expires.
 */
export function verifyChain(chain: X509Certificate[], roots: X509Certificate[], now = new Date()): boolean {
  if (chain.length === 0 || roots.length === 0) return false;
  let byRoots = verdicts.get(chain[0]);
  const known = byRoots?.get(roots);
  if (known && now.getTime() <= known.until) return known.ok;
  const ok = verifyChainUncached(chain, roots, now);
  const until = Math.min(...[...chain, ...roots].map((c) => new Date(c.validTo).getTime()));
  if (!byRoots) verdicts.set(chain[0], (byRoots = new WeakMap()));
  byRoots.set(roots, { ok, until });
  return ok;
}

function verifyChainUncached(chain: X509Certificate[], roots: X509Certificate[], now: Date): boolean {
  const leaf = chain[0];
  const eku = leaf.keyUsage;
  if (eku && eku.length > 0 && !eku.includes(CLIENT_AUTH_OID)) return false;
  let current = leaf;
  const pool = chain.slice(1);
  for (let depth = 0; depth < 8; depth++) {
    if (!validAt(current, now)) return false;
    const root = roots.find((r) => current.checkIssued(r) && current.verify(r.publicKey));
    if (root) return validAt(root, now);
    const next = pool.find((p) => p !== current && p.ca && current.checkIssued(p) && current.verify(p.publicKey));
    if (!next) return false;
    current = next;
  }
  return false;
}

/** Parses a subject line as Node prints it ("CN=admin\nO=system:masters\nO=other"). */
export function subjectFields(subject: string): { cn?: string; o: string[] } {
  const o: string[] = [];
  let cn: string | undefined;
  for (const line of subject.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1);
    if (k === 'CN') cn = v;
    if (k === 'O') o.push(v);
  }
  return { cn, o };
}

const subjects = new WeakMap<X509Certificate, { cn?: string; o: string[] }>();

/** The CN and Os of a certificate, read once per certificate (reading `subject` crosses into native code). */
export function subjectOf(cert: X509Certificate): { cn?: string; o: string[] } {
  let fields = subjects.get(cert);
  if (!fields) subjects.set(cert, (fields = subjectFields(cert.subject)));
  return fields;
}

export class X509Authenticator {
  constructor(private roots: X509Certificate[]) {}

  setRoots(roots: X509Certificate[]): void {
    this.roots = roots;
  }

  /** The identity of a verified client certificate, or undefined (no certificate, or not from our CAs). */
  authenticate(chain: X509Certificate[], now = new Date()): UserInfo | undefined {
    if (!verifyChain(chain, this.roots, now)) return undefined;
    const { cn, o } = subjectOf(chain[0]);
    if (!cn) return undefined;
    return { username: cn, groups: [...o, 'system:authenticated'] };
  }
}
