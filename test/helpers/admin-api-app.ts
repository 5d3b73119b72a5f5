// The API plugin on a bare fastify app, for suites that exercise the API machinery in-process on plain HTTP without
// the server's TLS and delegated authentication: every request is an admin's, and a thrown error is rendered as a
// Status the way the server's error handler renders it.
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { apiPlugin, type ApiPluginOptions } from '../../src/apimachinery/api-plugin.js';
import { encodeJson } from '../../src/apimachinery/json-encoding.js';
import { toStatusError } from '../../src/apimachinery/status-response.js';

export interface AdminApiAppOptions {
  fastify?: FastifyServerOptions;
  /** Sees every request first (e.g. to record it). */
  onRequest?: (req: FastifyRequest) => void;
}

/** The app with the plugin registered, not yet listening (routes may still be added). */
export async function adminApiApp(plugin: ApiPluginOptions, options: AdminApiAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(options.fastify);
  app.addHook('onRequest', async (req) => {
    options.onRequest?.(req);
    req.user = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };
  });
  app.setErrorHandler((err, _req, reply) => {
    const status = toStatusError(err);
    reply.code(status.code).header('content-type', 'application/json').send(encodeJson(status.toStatus()));
  });
  await app.register(apiPlugin, plugin);
  return app;
}
