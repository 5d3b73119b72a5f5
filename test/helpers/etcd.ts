// A throwaway single-member etcd for tests: Debian's etcd-server binary on free loopback ports with a temp data dir.
// A missing binary fails the test (CI installs it: `apt-get install -y etcd-server`); it never skips.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BINARY = process.env.ETCD_BINARY ?? '/usr/bin/etcd';

export interface EtcdTls {
  /** PEM files: etcd's serving certificate (SAN 127.0.0.1) and key, and the CA that client certificates must chain to. */
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  /** A client certificate and key signed by trustedCaFile (for the health check). */
  clientCertFile: string;
  clientKeyFile: string;
}

export interface TestEtcd {
  /** http://127.0.0.1:<port>, or https:// with `tls` */
  endpoint: string;
  dataDir: string;
  /** SIGTERM, wait for the exit. The data dir stays (restart() brings it back). */
  stop(): Promise<void>;
  /** SIGKILL, wait for the exit. */
  kill9(): Promise<void>;
  /** Starts it again on the same ports and data dir (after stop or kill9); resolves when it is healthy. */
  restart(): Promise<void>;
  /** Stops it and removes the data dir (for t.teardown). */
  cleanup(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function health(endpoint: string, tls: EtcdTls | undefined): Promise<boolean> {
  if (!tls) {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { health?: string }).health === 'true';
  }
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      `${endpoint}/health`,
      {
        ca: readFileSync(tls.trustedCaFile),
        cert: readFileSync(tls.clientCertFile),
        key: readFileSync(tls.clientKeyFile),
        timeout: 1000,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => resolve(body.includes('"health":"true"')));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function waitHealthy(
  endpoint: string,
  tls: EtcdTls | undefined,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`etcd exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${output()}`);
    }
    try {
      if (await health(endpoint, tls)) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`etcd at ${endpoint} was not healthy within ${timeoutMs} ms:\n${output()}`);
}

export async function startEtcd(options: { tls?: EtcdTls } = {}): Promise<TestEtcd> {
  const tls = options.tls;
  if (!existsSync(ETCD_BINARY)) {
    throw new Error(
      `etcd binary not found at ${ETCD_BINARY}: install Debian's etcd-server (apt-get install -y etcd-server) ` +
        'or point ETCD_BINARY at an etcd 3.4+ binary; the etcd suites need a real etcd and do not skip',
    );
  }
  const clientPort = await freePort();
  const peerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'etcd-test-'));
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name=test',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-level=error',
    // Progress notifications let idle watches learn the current revision quickly (bookmarks).
    '--experimental-watch-progress-notify-interval=1s',
    ...(tls
      ? [
          `--cert-file=${tls.certFile}`,
          `--key-file=${tls.keyFile}`,
          `--trusted-ca-file=${tls.trustedCaFile}`,
          '--client-cert-auth',
        ]
      : []),
  ];
  let child: ChildProcess | undefined;
  let log = '';
  const launch = async () => {
    log = '';
    const proc = spawn(ETCD_BINARY, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Debian's etcd 3.4 refuses to start on arches other than amd64/arm64 unless told to.
      env: ['x64', 'arm64'].includes(process.arch) ? process.env : { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch },
    });
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-8000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    child = proc;
    await waitHealthy(endpoint, tls, proc, () => log);
  };
  const end = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await launch();
  } catch (error) {
    await end('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint,
    dataDir,
    stop: () => end('SIGTERM'),
    kill9: () => end('SIGKILL'),
    restart: async () => {
      await end('SIGTERM');
      await launch();
    },
    cleanup: async () => {
      await end('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TcpProxy {
  /** http://127.0.0.1:<port>, forwarding to the target. */
  endpoint: string;
  /** Drops every connection and refuses new ones (a network partition between client and etcd). */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  close(): Promise<void>;
}

/** A TCP forwarder to `target` (host:port or http://host:port) that a test can cut and restore. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const url = new URL(target.includes('://') ? target : `http://${target}`);
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(url.port), url.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const dropAll = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut: () => {
      open = false;
      dropAll();
    },
    restore: () => {
      open = true;
    },
    close: async () => {
      open = false;
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
