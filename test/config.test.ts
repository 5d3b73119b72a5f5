import t from 'tap';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDurationSeconds, parseFlags, serveFlags, validateServeOptions, type ServeOptions } from '../src/config.js';
import { mainJs } from './helpers/paths.js';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [mainJs, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

t.test('defaults match kube-apiserver conventions', async (t) => {
  const o = parseFlags<ServeOptions>(serveFlags, []);
  t.equal(o.securePort, 8443);
  t.equal(o.bindAddress, '0.0.0.0');
  t.equal(o.certDir, './certs');
  t.equal(o.dataDir, './data');
  t.equal(o.localCluster, false);
  t.equal(o.cloudProvider, 'hostpath');
  t.equal(o.logLevel, 'info');
});

t.test('both flag forms, booleans and durations parse', async (t) => {
  const o = parseFlags<ServeOptions>(serveFlags, ['--secure-port=9443', '--cert-dir', '/x', '--local-cluster', '--shutdown-timeout=1m30s']);
  t.equal(o.securePort, 9443);
  t.equal(o.certDir, '/x');
  t.equal(o.localCluster, true);
  t.equal(o.shutdownTimeoutSeconds, 90);
  t.equal(parseFlags<ServeOptions>(serveFlags, ['--local-cluster=false']).localCluster, false);
  t.equal(parseDurationSeconds('500ms'), 0.5);
  t.throws(() => parseDurationSeconds('10x'));
});

t.test('bad flags are FlagErrors with a one-line reason', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /^unknown flag: --bogus$/],
    [['--secure-port=abc'], /invalid argument "abc" for "--secure-port" flag/],
    [['--secure-port=70000'], /must be a port between 1 and 65535/],
    [['--cloudprovider=azure'], /must be one of aws, gce, hostpath/],
    [['--cert-dir'], /flag needs an argument: --cert-dir/],
    [['stray'], /unexpected argument "stray"/],
    [['--local-cluster=maybe'], /ParseBool/],
  ];
  for (const [argv, re] of cases) {
    t.throws(() => parseFlags(serveFlags, argv), { name: 'FlagError', message: re }, argv.join(' '));
  }
  const o = parseFlags<ServeOptions>(serveFlags, ['--tls-cert-file=/a', '--local-cluster']);
  t.throws(() => validateServeOptions(o), { name: 'FlagError', message: /must be given together/ });
  const noCluster = parseFlags<ServeOptions>(serveFlags, []);
  t.throws(() => validateServeOptions(noCluster, {}), { name: 'FlagError', message: /no main cluster/ });
  t.doesNotThrow(() => validateServeOptions(noCluster, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }), 'in-cluster config is enough');
});

t.test('the binary exits 2 on a bad flag before writing anything', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flags-'));
  const certDir = path.join(dir, 'certs');
  const r = await run(['serve', '--cert-dir', certDir, '--secure-port=nope']);
  t.equal(r.code, 2);
  t.match(r.stderr, /invalid argument "nope" for "--secure-port" flag/);
  t.equal(r.stderr.trim().split('\n').length, 2, 'a one-line reason plus the usage hint');
  await t.rejects(fs.stat(certDir), 'nothing was written');
  const u = await run(['serve', '--unknown-thing']);
  t.equal(u.code, 2);
  t.match(u.stderr, /unknown flag: --unknown-thing/);
  const c = await run(['frobnicate']);
  t.equal(c.code, 2);
});

t.test('--help explains every flag with its default', async (t) => {
  const r = await run(['serve', '--help']);
  t.equal(r.code, 0);
  for (const f of serveFlags) {
    t.match(r.stdout, `--${f.name}`, f.name);
  }
  t.match(r.stdout, /--secure-port int\n\s+The port on which to serve HTTPS.*\(default 8443\)/);
  const c = await run(['certs', '--help']);
  t.equal(c.code, 0);
  t.match(c.stdout, /--service-namespace/);
});

t.test('certs generates the PKI and prints the CA bundle', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'certs-'));
  const r = await run(['certs', '--cert-dir', dir, '--service-name', 'vs', '--service-namespace', 'kube-snap']);
  t.equal(r.code, 0, r.stderr);
  const ca = await fs.readFile(path.join(dir, 'ca.crt'), 'utf8');
  t.equal(Buffer.from(r.stdout.trim(), 'base64').toString(), ca);
});
