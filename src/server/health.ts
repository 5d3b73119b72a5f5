// /healthz, /livez and /readyz in kube-apiserver's shape (k8s.io/apiserver/pkg/server/healthz):
// "ok" when all checks pass; `?verbose` lists `[+]name ok` / `[-]name failed: reason withheld`; `/readyz/<check>`
// answers one check; `?exclude=<check>` skips one.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export type HealthCheck = () => boolean | Promise<boolean>;

export class HealthChecks {
  private readonly live = new Map<string, HealthCheck>([['ping', () => true]]);
  private readonly ready = new Map<string, HealthCheck>([['ping', () => true]]);

  addLivenessCheck(name: string, check: HealthCheck): void {
    this.live.set(name, check);
  }

  /** Readiness checks are also part of /healthz, as upstream's are. */
  addReadinessCheck(name: string, check: HealthCheck): void {
    this.ready.set(name, check);
  }

  async run(which: 'livez' | 'readyz' | 'healthz', only?: string, exclude: string[] = []): Promise<{ ok: boolean; lines: string[] } | undefined> {
    const checks = which === 'livez' ? this.live : this.ready;
    const names = [...checks.keys()].filter((n) => !exclude.includes(n));
    if (only !== undefined && !checks.has(only)) return undefined;
    const lines: string[] = [];
    let ok = true;
    for (const name of only !== undefined ? [only] : names) {
      let passed: boolean;
      try {
        passed = await checks.get(name)!();
      } catch {
        passed = false;
      }
      ok &&= passed;
      lines.push(passed ? `[+]${name} ok` : `[-]${name} failed: reason withheld`);
    }
    return { ok, lines };
  }
}

export function registerHealthRoutes(app: FastifyInstance, checks: HealthChecks): void {
  for (const which of ['healthz', 'livez', 'readyz'] as const) {
    const handler = async (req: FastifyRequest<{ Params: { check?: string }; Querystring: Record<string, string | string[]> }>, reply: FastifyReply) => {
      const q = req.query;
      const exclude = ([] as string[]).concat(q.exclude ?? []);
      const result = await checks.run(which, req.params.check, exclude);
      reply.header('content-type', 'text/plain; charset=utf-8').header('x-content-type-options', 'nosniff');
      if (!result) return reply.code(404).send('404 page not found\n');
      const verbose = 'verbose' in q || !result.ok;
      if (!verbose) return reply.code(200).send('ok');
      const tail = result.ok ? `${which} check passed` : `${which} check failed`;
      return reply.code(result.ok ? 200 : 500).send([...result.lines, tail].join('\n') + '\n');
    };
    app.get(`/${which}`, handler);
    app.get(`/${which}/:check`, handler);
  }
}
