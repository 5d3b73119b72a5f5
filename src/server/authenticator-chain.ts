// The order kube-apiserver's delegated authentication tries things in (k8s.io/apiserver/pkg/authentication/
// authenticatorfactory/delegating.go): front proxy (requestheader) → client certificate → bearer token (TokenReview);
// the first that knows the user wins, and the user gets `system:authenticated`
// (request/union + group.AuthenticatedGroupAdder). Identity headers never survive authentication, whoever sent them.
import type { X509Certificate } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { UserInfo } from '../apimachinery/user-info.js';
import type { Authenticator } from './app.js';
import {
  DEFAULT_REQUEST_HEADER_NAMES,
  IdentityHeaderMatcher,
  stripAuthenticationHeaders,
  type RequestHeaderAuthenticator,
  type RequestHeaderConfig,
} from './requestheader-authenticator.js';
import { bearerToken, type TokenReviewAuthenticator } from './token-authenticator.js';
import { peerChain, type X509Authenticator } from './x509-authenticator.js';

export interface AuthenticatorChainParts {
  requestHeader?: RequestHeaderAuthenticator;
  x509?: X509Authenticator;
  token?: TokenReviewAuthenticator;
}

/** Adds `system:authenticated` once (upstream skips it for system:anonymous). */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.username === 'system:anonymous' || user.groups.includes('system:authenticated')) return user;
  return { ...user, groups: [...user.groups, 'system:authenticated'] };
}

function chainOf(req: FastifyRequest): X509Certificate[] {
  const socket = req.raw.socket as TLSSocket;
  return typeof socket?.getPeerCertificate === 'function' ? peerChain(socket) : [];
}

export class DelegatingAuthenticator implements Authenticator {
  private readonly defaultMatcher = new IdentityHeaderMatcher([DEFAULT_REQUEST_HEADER_NAMES]);
  private matcher: { config: RequestHeaderConfig; matcher: IdentityHeaderMatcher } | undefined;

  constructor(private readonly parts: AuthenticatorChainParts) {}

  /** The identity headers of the current front-proxy configuration and the defaults (rebuilt when it is reloaded). */
  private headerNames(): IdentityHeaderMatcher {
    const config = this.parts.requestHeader?.config();
    if (!config) return this.defaultMatcher;
    if (this.matcher?.config !== config) {
      this.matcher = { config, matcher: new IdentityHeaderMatcher([config, DEFAULT_REQUEST_HEADER_NAMES]) };
    }
    return this.matcher.matcher;
  }

  /**
   * Removes the identity headers without authenticating: for paths that skip authentication (the admission
   * webhooks), so that nothing behind them can read an X-Remote-* header either.
   */
  stripIdentityHeaders(req: Pick<IncomingMessage, 'headers' | 'rawHeaders'>): void {
    stripAuthenticationHeaders(req, this.headerNames());
  }

  async authenticate(req: FastifyRequest): Promise<UserInfo | undefined> {
    const chain = chainOf(req);
    const rh = this.parts.requestHeader;
    const names = this.headerNames();
    if (rh) {
      const outcome = rh.authenticate(chain, req.raw.rawHeaders);
      if (outcome.kind === 'rejected') req.log.warn({ reason: outcome.reason }, 'front-proxy certificate not allowed');
      if (outcome.kind === 'user') {
        stripAuthenticationHeaders(req.raw, names);
        return withAuthenticatedGroup(outcome.user);
      }
    }
    stripAuthenticationHeaders(req.raw, names);

    const certUser = this.parts.x509?.authenticate(chain);
    if (certUser) return withAuthenticatedGroup(certUser);

    const token = this.parts.token ? bearerToken(req.headers.authorization) : undefined;
    if (token && this.parts.token) {
      try {
        const user = await this.parts.token.authenticateToken(token);
        if (user) {
          // As upstream's bearertoken authenticator: a recognised token goes no further than authentication.
          delete req.raw.headers.authorization;
          return withAuthenticatedGroup(user);
        }
      } catch (err) {
        req.log.warn({ reason: (err as Error).message }, 'unable to authenticate the request: token review failed');
      }
    }
    return undefined;
  }
}
