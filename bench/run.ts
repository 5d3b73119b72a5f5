// `npm run bench [-- --quick] [-- --only=api,watch] [-- --parallel|--sequential] [-- --out=file.json]`
// Runs every benchmark section, each in its own child process (a crash, a leaked handle or a memory high-water mark
// in one does not touch the others; a section over its time budget is killed and reported), prints one table —
// figure, limit measured in the same run, ratio, goal, met — and writes bench/results/latest.json with the machine
// the figures came from. Full runs go one section at a time; --quick runs them concurrently by default (a smoke run
// under a minute: figures printed, goals not to be read from it; the worker-overhead section is left out).
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { formatNotes, formatRows, type BenchRow } from './bench-row.js';

type Bench = (opts: { quick: boolean }) => Promise<BenchRow[]>;

interface Section {
  name: string;
  /** Which rows of issue 13's table it gives. */
  rows: string;
  /** Seconds before the child is killed (full run; quick runs share one budget). */
  budget: number;
  /** false: left out of --quick runs (unless named in --only). */
  quick?: boolean;
  load: () => Promise<Bench | undefined>;
}

const SECTIONS: Section[] = [
  {
    name: 'api',
    rows: '1, 2, 3, 5, 6',
    budget: 600,
    // The API and watch benchmarks share one server host process: its module loading is paid once.
    load: async () => {
      const [{ benchApi }, { benchWatch }, { startServerHost }] = await Promise.all([
        import('./api-bench.js'),
        import('./watch-bench.js'),
        import('./server-process.js'),
      ]);
      return async (opts) => {
        const host = await startServerHost();
        try {
          return [...(await benchApi({ ...opts, host })), ...(await benchWatch({ ...opts, host }))];
        } finally {
          await host.close();
        }
      };
    },
  },
  { name: 'admission', rows: '4', budget: 120, load: async () => (await import('./admission-bench.js')).benchAdmission },
  { name: 'worker-rate', rows: '7', budget: 300, load: async () => (await import('./worker-rate-bench.js')).benchWorkerRate },
  { name: 'worker', rows: '7 (overhead)', budget: 120, quick: false, load: async () => (await import('./worker-bench.js')).benchWorker },
  { name: 'store', rows: 'store', budget: 180, load: async () => (await import('./store-bench.js')).benchStore },
  {
    name: 'etcd',
    rows: '8',
    budget: 180,
    // Loaded by path so that the runner builds before bench/etcd-bench.ts exists, and picks it up once it does.
    load: async () => {
      const url = new URL('./etcd-bench.js', import.meta.url);
      if (!existsSync(fileURLToPath(url))) return undefined;
      return ((await import(url.href)) as { benchEtcd?: Bench }).benchEtcd;
    },
  },
];

const QUICK_BUDGET_S = 58;

interface SectionResult {
  name: string;
  seconds: number;
  rows: BenchRow[];
  error?: string;
}

function flag(args: string[], name: string): string | undefined {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}

/** Child mode: run one section, send its rows to the parent. */
async function runSection(name: string, quick: boolean): Promise<void> {
  const section = SECTIONS.find((s) => s.name === name);
  const bench = await section?.load();
  if (!bench) {
    process.send!({ rows: [], error: `${name}: not available` });
    return;
  }
  const rows = await bench({ quick });
  process.send!({ rows });
}

function startSection(section: Section, quick: boolean, budgetS: number): Promise<SectionResult> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  return new Promise((resolve) => {
    const child = fork(fileURLToPath(import.meta.url), [`--section=${section.name}`, ...(quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    let message: { rows: BenchRow[]; error?: string } | undefined;
    child.on('message', (m: { rows: BenchRow[]; error?: string }) => {
      message = m;
      // A section whose handles keep the loop alive must not hold the run: its rows are in.
      setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), budgetS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (message) {
        resolve({ name: section.name, seconds: seconds(), rows: message.rows, error: message.error });
        return;
      }
      const why = signal === 'SIGKILL' ? `over its ${budgetS} s budget` : `exited with ${code ?? signal}`;
      const lastError = stderr.trim().split('\n').filter((l) => !/^\s*at /.test(l)).slice(-3).join(' | ');
      resolve({ name: section.name, seconds: seconds(), rows: [], error: `${why}${lastError ? `: ${lastError}` : ''}` });
    });
  });
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const section = flag(args, 'section');
  if (section) return runSection(section, quick);

  const only = flag(args, 'only')?.split(',');
  const unknown = only?.filter((n) => !SECTIONS.some((s) => s.name === n));
  if (unknown?.length) {
    process.stderr.write(`unknown section(s) ${unknown.join(', ')}; sections: ${SECTIONS.map((s) => s.name).join(', ')}\n`);
    process.exit(2);
  }
  const parallel = args.includes('--parallel') || (quick && !args.includes('--sequential'));
  const chosen = SECTIONS.filter((s) => (only ? only.includes(s.name) : !quick || s.quick !== false));
  const info = { date: new Date().toISOString(), quick, parallel, machine: machine() };
  const m = info.machine;
  process.stdout.write(
    `volumesnapshot-apiserver benchmarks (${quick ? 'quick' : 'full'}, sections ${parallel ? 'concurrently' : 'one at a time'}) — ` +
      `${m.cpuModel as string}, ${m.cores as number} cores, node ${m.node as string}, load average ${(m.loadAverageAtStart as number[]).join(' ')}\n`,
  );
  const started = performance.now();
  const budget = (s: Section) => (quick ? QUICK_BUDGET_S : s.budget);
  const results: SectionResult[] = [];
  const report = (r: SectionResult) => {
    results.push(r);
    process.stdout.write(`  ${r.name}: ${r.error ? `FAILED (${r.error})` : `${r.rows.length} rows`} in ${r.seconds.toFixed(1)} s\n`);
  };
  if (parallel) {
    await Promise.all(chosen.map((s) => startSection(s, quick, budget(s)).then(report)));
  } else {
    for (const s of chosen) report(await startSection(s, quick, budget(s)));
  }
  const seconds = (performance.now() - started) / 1000;
  // Table in the sections' order, whatever order they finished in.
  const ordered = chosen.map((s) => results.find((r) => r.name === s.name)!);
  const rows: BenchRow[] = ordered.flatMap((r) =>
    r.error ? [{ name: `${r.name}: not measured`, value: NaN, unit: '', met: false, note: r.error }] : r.rows,
  );
  process.stdout.write(`\n${formatRows(rows)}\n${formatNotes(rows)}`);
  const unmet = rows.filter((r) => r.met === false).length;
  process.stdout.write(`\n${rows.length} rows, ${unmet} goals not met, in ${seconds.toFixed(1)} s${parallel ? ' (sections ran concurrently: a smoke run, not figures to compare)' : ''}\n`);

  const out = flag(args, 'out') ?? fileURLToPath(new URL('../../bench/results/latest.json', import.meta.url));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        ...info,
        seconds: Math.round(seconds * 10) / 10,
        sections: ordered.map((r) => ({ name: r.name, rows: SECTIONS.find((s) => s.name === r.name)!.rows, seconds: Math.round(r.seconds * 10) / 10, ...(r.error ? { error: r.error } : {}) })),
        rows: rows.map((r) => ({ ...r, value: Number.isFinite(r.value) ? r.value : null })),
      },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write(`results: ${out}\n`);
}

await main(process.argv.slice(2));
