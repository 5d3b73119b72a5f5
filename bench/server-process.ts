// Parent side of bench/server-main.ts: start a server process, know its port, PID and RSS, and stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { pkiFiles } from '../src/server/pki.js';

const ENTRY = fileURLToPath(new URL('./server-main.js', import.meta.url));

export interface ServerProcess {
  port: number;
  pid: number;
  /** From fork to listening (and, for the real server, to serve() having returned: store open, local cluster seeded). */
  startMs: number;
  child: ChildProcess;
  /** Resident set size in bytes, from /proc/<pid>/status (VmRSS). */
  rss(): number;
  stop(): Promise<void>;
}

export interface ClientTls {
  key: Buffer;
  cert: Buffer;
  ca: Buffer;
}

/** The admin client certificate of a cert dir (kubeadm names), as the generated kubeconfig uses it. */
export async function adminTls(certDir: string): Promise<ClientTls> {
  const f = pkiFiles(certDir);
  const [key, cert, ca] = await Promise.all([fs.readFile(f.adminKey), fs.readFile(f.adminCert), fs.readFile(f.caCert)]);
  return { key, cert, ca };
}

export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function start(args: string[], timeoutMs: number): Promise<ServerProcess> {
  const started = performance.now();
  // BENCH_SERVER_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the servers (written when they stop).
  const execArgv = process.env.BENCH_SERVER_EXEC_ARGV?.split(' ').filter(Boolean) ?? [];
  const child = fork(ENTRY, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.on('message', (m: { port?: number }) => {
      if (typeof m.port === 'number') {
        clearTimeout(timer);
        resolve(m.port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${stderr}`));
    });
  });
  const startMs = performance.now() - started;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    pid: child.pid!,
    startMs,
    child,
    rss: () => rssOf(child.pid!),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** The real server, standalone (--local-cluster), worker off, logs silenced. */
export function startRealServer(certDir: string, dataDir: string, extraFlags: string[] = [], timeoutMs = 120_000): Promise<ServerProcess> {
  return start(
    ['real', '--local-cluster', `--cert-dir=${certDir}`, `--data-dir=${dataDir}`, '--bind-address=127.0.0.1', '--worker=false', '--log-level=silent', ...extraFlags],
    timeoutMs,
  );
}

/** The bare fastify HTTPS server with the serving certificate of certDir. */
export async function startBareServer(certDir: string, body: string): Promise<ServerProcess> {
  const server = await start(['bare', certDir], 30_000);
  await new Promise<void>((resolve) => {
    const onMessage = (m: { bodySet?: boolean }) => {
      if (m.bodySet) {
        server.child.off('message', onMessage);
        resolve();
      }
    };
    server.child.on('message', onMessage);
    server.child.send({ body });
  });
  return server;
}
