import type {} from 'fastify';
// Who a request comes from, as the server's authentication decides (k8s.io/apiserver/pkg/authentication/user).
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the server's authentication hook before any route handler runs. */
    user?: UserInfo;
  }
}
