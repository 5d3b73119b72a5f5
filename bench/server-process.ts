// Parent side of bench/server-main.ts: start a server process, know its port, PID and RSS, and stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { pkiFiles } from '../src/server/pki.js';

const ENTRY = fileURLToPath(new URL('./server-main.js', import.meta.url));

export interface BenchServer {
  port: number;
  /** The process serving (for the hosted servers, the host's). */
  pid: number;
  /** From fork (or, hosted, from the serve command) to listening with serve() returned: store open, local cluster up. */
  startMs: number;
  /** Resident set size in bytes of the process serving, from /proc/<pid>/status (VmRSS). */
  rss(): number;
  stop(): Promise<void>;
}

export interface ServerProcess extends BenchServer {
  child: ChildProcess;
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

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (clock ticks of 1/100 s on Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** BENCH_SERVER_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the servers (written when they exit). */
function serverExecArgv(): string[] {
  return process.env.BENCH_SERVER_EXEC_ARGV?.split(' ').filter(Boolean) ?? [];
}

async function start(args: string[], timeoutMs: number): Promise<ServerProcess> {
  const started = performance.now();
  const child = fork(ENTRY, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: serverExecArgv() });
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

export interface ServerHost {
  /** Fork to modules loaded. */
  loadMs: number;
  /** Starts the real server on dataDir (standalone, worker off, silent); stop() closes it and leaves the process. */
  serve(certDir: string, dataDir: string): Promise<BenchServer>;
  close(): Promise<void>;
}

/** One process that starts and closes real servers on command (bench/server-main.ts `host`). */
export async function startServerHost(timeoutMs = 120_000): Promise<ServerHost> {
  const started = performance.now();
  const child = fork(ENTRY, ['host'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: serverExecArgv() });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  type Reply = { hostReady?: boolean; port?: number; serveMs?: number; closed?: boolean; error?: string };
  const next = (what: (m: Reply) => boolean) =>
    new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server host: no answer in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      const onMessage = (m: Reply) => {
        if (m.error || what(m)) {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (m.error) reject(new Error(m.error));
          else resolve(m);
        }
      };
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`server host exited with ${code}: ${stderr}`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  await next((m) => !!m.hostReady);
  const loadMs = performance.now() - started;
  return {
    loadMs,
    serve: async (certDir, dataDir) => {
      const reply = next((m) => typeof m.port === 'number');
      child.send({ serve: realFlags(certDir, dataDir) });
      const { port, serveMs } = await reply;
      return {
        port: port!,
        pid: child.pid!,
        startMs: serveMs!,
        rss: () => rssOf(child.pid!),
        stop: async () => {
          const closed = next((m) => !!m.closed);
          child.send({ close: true });
          await closed;
        },
      };
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

function realFlags(certDir: string, dataDir: string): string[] {
  return ['--local-cluster', `--cert-dir=${certDir}`, `--data-dir=${dataDir}`, '--bind-address=127.0.0.1', '--worker=false', '--log-level=silent'];
}

/** Seeds `<dataDir>/store.db` in a child process (bench/seed-store.ts); resolves with the milliseconds it took. */
export function seedInChild(dataDir: string, count: number, placement: 'small' | 'large'): Promise<number> {
  const child = fork(ENTRY, ['seed', dataDir, String(count), placement], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let seedMs: number | undefined;
    child.on('message', (m: { seedMs?: number }) => {
      seedMs = m.seedMs;
    });
    child.once('exit', (code) => (seedMs !== undefined ? resolve(seedMs) : reject(new Error(`seeding exited with ${code}: ${stderr}`))));
  });
}

/** The real server, standalone (--local-cluster), worker off, logs silenced. */
export function startRealServer(certDir: string, dataDir: string, extraFlags: string[] = [], timeoutMs = 120_000): Promise<ServerProcess> {
  return start(['real', ...realFlags(certDir, dataDir), ...extraFlags], timeoutMs);
}

/** The bare fastify HTTPS server with the serving certificate of certDir; it answers GET /bare with `{}` until
 *  setBareBody gives it the bytes to serve. */
export function startBareServer(certDir: string): Promise<ServerProcess> {
  return start(['bare', certDir], 60_000);
}

export function setBareBody(server: ServerProcess, body: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const onMessage = (m: { bodySet?: boolean }) => {
      if (m.bodySet) {
        server.child.off('message', onMessage);
        resolve();
      }
    };
    server.child.on('message', onMessage);
    server.child.send({ body });
  });
}
