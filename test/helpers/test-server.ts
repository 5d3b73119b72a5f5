// Starts the real server (`node dist/src/main.js serve …`) as a child process on 127.0.0.1 with fresh
// directories, waits until it listens, and stops it at teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mainJs } from './paths.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  port: number;
  url: string;
  certDir: string;
  dataDir: string;
  kubeconfig: string;
  viewerKubeconfig: string;
  proc: ChildProcess;
  /** Every line the server wrote to stdout (JSON logs) so far. */
  logs: string[];
  stderr: string[];
  /** SIGTERM and wait for exit; resolves the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
}

export interface StartOptions {
  args?: string[];
  certDir?: string;
  dataDir?: string;
  port?: number;
  env?: Record<string, string>;
  /** Standalone mode (`--local-cluster`, the default here); false serves without it (then pass --kubeconfig). */
  localCluster?: boolean;
  /** How long to wait for the server to be ready (default 60 s: CI machines are loaded). */
  timeoutMs?: number;
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'vsas-'));
  const certDir = opts.certDir ?? path.join(base, 'certs');
  const dataDir = opts.dataDir ?? path.join(base, 'data');
  const port = opts.port ?? (await freePort());
  const args = [
    mainJs,
    'serve',
    '--secure-port',
    String(port),
    '--bind-address',
    '127.0.0.1',
    '--cert-dir',
    certDir,
    '--data-dir',
    dataDir,
    ...(opts.localCluster === false || opts.args?.includes('--local-cluster') ? [] : ['--local-cluster']),
    ...(opts.args ?? []),
  ];
  // tap's process-info loader follows into child processes and keeps every loaded module's source in the server's
  // heap (about 130 MiB, a second more per start); the server under test is not what tap needs to track.
  const env = { ...process.env, _TAPJS_PROCESSINFO_EXCLUDE_: '/./', ...opts.env };
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let buf = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time; stderr: ${stderr.join('')}`)), opts.timeoutMs ?? 60_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        logs.push(line);
        // The last startup line (the mode) is written after the kubeconfigs exist.
        if (line.includes('"localCluster"')) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready; stderr: ${stderr.join('')}`));
    });
  });
  await ready;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    certDir,
    dataDir,
    kubeconfig: path.join(certDir, 'kubeconfig'),
    viewerKubeconfig: path.join(certDir, 'viewer.kubeconfig'),
    proc,
    logs,
    stderr,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
