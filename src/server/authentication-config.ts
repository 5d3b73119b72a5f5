// Builds the request authenticator from plain options (the flags) and, in a cluster, from ConfigMap
// kube-system/extension-apiserver-authentication, reloaded when it changes. Flags win over the ConfigMap, piece by
// piece, as in k8s.io/apiserver/pkg/server/options/authentication.go (DelegatingAuthenticationOptions.ApplyTo):
// --client-ca-file replaces the ConfigMap's client-ca-file; --requestheader-client-ca-file replaces all of the
// ConfigMap's requestheader-* keys.
import { promises as fs } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Authenticator } from './app.js';
import { DelegatingAuthenticator } from './authenticator-chain.js';
import { DEFAULT_REQUEST_HEADER_NAMES, RequestHeaderAuthenticator, type RequestHeaderConfig } from './requestheader-authenticator.js';
import { TokenReviewAuthenticator, type TokenReviewer } from './token-authenticator.js';
import { X509Authenticator, parsePemBundle } from './x509-authenticator.js';

export interface AuthenticationOptions {
  /** --client-ca-file */
  clientCaFile?: string;
  /** --requestheader-client-ca-file */
  requestheaderClientCaFile?: string;
  /** --requestheader-allowed-names (empty = any CN from the requestheader CA) */
  requestheaderAllowedNames?: string[];
  requestheaderUsernameHeaders?: string[];
  requestheaderUidHeaders?: string[];
  requestheaderGroupHeaders?: string[];
  requestheaderExtraHeadersPrefix?: string[];
  /** --authentication-token-webhook-cache-ttl, seconds. Default 10. */
  tokenWebhookCacheTtlSeconds?: number;
  /** --authentication-tolerate-lookup-failure: start even when the ConfigMap cannot be read (retried in the background). */
  tolerateLookupFailure?: boolean;
}

/** Where the ConfigMap's data comes from (src/cluster/authentication-configmap.ts ConfigMapWatcher fits). */
export interface AuthenticationConfigSource {
  /** The current data (undefined = no ConfigMap); later changes go to onChange. Rejects when it cannot be read. */
  start(onChange: (data: Record<string, string> | undefined) => void): Promise<Record<string, string> | undefined>;
  stop(): Promise<void>;
}

/** pino-compatible (fastify's `app.log` fits). */
export interface AuthLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AuthenticationDeps {
  /** The main cluster's TokenReview; absent = bearer tokens are not accepted (standalone). */
  tokenReviewer?: TokenReviewer;
  /** The authentication ConfigMap; absent = flags only (standalone, or --authentication-skip-lookup). */
  configSource?: AuthenticationConfigSource;
  log?: AuthLogger;
  /** Milliseconds clock for the token cache (tests move it by hand). Default Date.now. */
  now?: () => number;
  /**
   * Called after a reload changed the CAs the TLS layer should ask client certificates from; the caller
   * re-applies them (e.g. `app.server.setSecureContext({cert, key, ca: pems, minVersion})`).
   */
  onClientCasChanged?: (pems: string[]) => void;
}

export interface Authentication {
  authenticator: Authenticator;
  /** Removes X-Remote-* (as configured) from a request that skips authentication (e.g. the admission webhooks). */
  stripIdentityHeaders(req: Pick<IncomingMessage, 'headers' | 'rawHeaders'>): void;
  /** The client CA and requestheader CA bundles in force now, for buildServer's `tls.clientCaPems`. */
  tlsClientCaPems(): string[];
  /** The front-proxy settings in force now (undefined = front-proxy authentication off). */
  requestHeaderConfig(): RequestHeaderConfig | undefined;
  /** Lets a logger created later (the server's) receive reload messages. */
  setLogger(log: AuthLogger): void;
  close(): Promise<void>;
}

const silent: AuthLogger = { info() {}, warn() {}, error() {} };

/** A JSON list as the ConfigMap stores them (`["X-Remote-User"]`); absent → undefined. */
function jsonList(data: Record<string, string>, key: string): string[] | undefined {
  const raw = data[key];
  if (raw === undefined || raw === '') return undefined;
  const v: unknown = JSON.parse(raw);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${key}: not a JSON list of strings`);
  return v as string[];
}

function pemRoots(pem: string, what: string): X509Certificate[] {
  const roots = parsePemBundle(pem);
  if (roots.length === 0) throw new Error(`${what}: no certificate found`);
  return roots;
}

interface Snapshot {
  clientCaPem?: string;
  clientRoots: X509Certificate[];
  requestHeaderPem?: string;
  requestHeader?: RequestHeaderConfig;
}

async function readOptional(file: string | undefined, what: string): Promise<string | undefined> {
  if (!file) return undefined;
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`unable to load ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export async function createAuthentication(options: AuthenticationOptions, deps: AuthenticationDeps = {}): Promise<Authentication> {
  let log = deps.log ?? silent;
  const flagClientCaPem = await readOptional(options.clientCaFile, 'client-ca-file');
  const flagRequestHeaderPem = await readOptional(options.requestheaderClientCaFile, 'requestheader-client-ca-file');
  const flagNames = {
    usernameHeaders: options.requestheaderUsernameHeaders ?? DEFAULT_REQUEST_HEADER_NAMES.usernameHeaders,
    uidHeaders: options.requestheaderUidHeaders ?? DEFAULT_REQUEST_HEADER_NAMES.uidHeaders,
    groupHeaders: options.requestheaderGroupHeaders ?? DEFAULT_REQUEST_HEADER_NAMES.groupHeaders,
    extraHeaderPrefixes: options.requestheaderExtraHeadersPrefix ?? DEFAULT_REQUEST_HEADER_NAMES.extraHeaderPrefixes,
  };

  /** The settings from the flags and (where the flags are silent) the ConfigMap's data. Throws on bad data. */
  function resolve(data: Record<string, string> | undefined): Snapshot {
    const snap: Snapshot = { clientRoots: [] };
    snap.clientCaPem = flagClientCaPem ?? data?.['client-ca-file'];
    if (snap.clientCaPem) snap.clientRoots = pemRoots(snap.clientCaPem, 'client-ca-file');
    if (flagRequestHeaderPem) {
      snap.requestHeaderPem = flagRequestHeaderPem;
      snap.requestHeader = {
        roots: pemRoots(flagRequestHeaderPem, 'requestheader-client-ca-file'),
        allowedNames: options.requestheaderAllowedNames ?? [],
        ...flagNames,
      };
    } else if (data?.['requestheader-client-ca-file']) {
      snap.requestHeaderPem = data['requestheader-client-ca-file'];
      snap.requestHeader = {
        roots: pemRoots(snap.requestHeaderPem, 'requestheader-client-ca-file'),
        allowedNames: jsonList(data, 'requestheader-allowed-names') ?? [],
        usernameHeaders: jsonList(data, 'requestheader-username-headers') ?? flagNames.usernameHeaders,
        uidHeaders: jsonList(data, 'requestheader-uid-headers') ?? flagNames.uidHeaders,
        groupHeaders: jsonList(data, 'requestheader-group-headers') ?? flagNames.groupHeaders,
        extraHeaderPrefixes: jsonList(data, 'requestheader-extra-headers-prefix') ?? flagNames.extraHeaderPrefixes,
      };
    }
    return snap;
  }

  const x509 = new X509Authenticator([]);
  const requestHeader = new RequestHeaderAuthenticator();
  let current: Snapshot = { clientRoots: [] };
  const pemsOf = (s: Snapshot) => [s.clientCaPem, s.requestHeaderPem].filter((p): p is string => !!p);

  function apply(snap: Snapshot): void {
    const before = pemsOf(current).join('\n');
    current = snap;
    x509.setRoots(snap.clientRoots);
    requestHeader.setConfig(snap.requestHeader);
    if (pemsOf(snap).join('\n') !== before) deps.onClientCasChanged?.(pemsOf(snap));
  }

  let initialData: Record<string, string> | undefined;
  if (deps.configSource) {
    const onChange = (data: Record<string, string> | undefined) => {
      try {
        apply(resolve(data));
        log.info(
          { requestheader: !!current.requestHeader, allowedNames: current.requestHeader?.allowedNames },
          'reloaded authentication configuration from configmap kube-system/extension-apiserver-authentication',
        );
      } catch (err) {
        log.error({ reason: (err as Error).message }, 'ignoring invalid configmap kube-system/extension-apiserver-authentication; keeping the previous configuration');
      }
    };
    try {
      initialData = await deps.configSource.start(onChange);
    } catch (err) {
      const reason = `unable to load configmap based request-header-client-ca-file: ${(err as Error).message}`;
      if (!options.tolerateLookupFailure) {
        await deps.configSource.stop();
        throw new Error(reason, { cause: err });
      }
      log.warn({ reason }, 'starting with the flags only; the configmap is retried in the background');
    }
  }
  try {
    apply(resolve(initialData));
  } catch (err) {
    await deps.configSource?.stop();
    throw err;
  }

  const token = deps.tokenReviewer
    ? new TokenReviewAuthenticator(deps.tokenReviewer, { cacheTtlMs: (options.tokenWebhookCacheTtlSeconds ?? 10) * 1000, now: deps.now })
    : undefined;

  const authenticator = new DelegatingAuthenticator({ requestHeader, x509, token });
  return {
    authenticator,
    stripIdentityHeaders: (req) => authenticator.stripIdentityHeaders(req),
    tlsClientCaPems: () => pemsOf(current),
    requestHeaderConfig: () => requestHeader.config(),
    setLogger(l) {
      log = l;
    },
    close: async () => {
      await deps.configSource?.stop();
    },
  };
}
