#!/usr/bin/env node
// volumesnapshot-apiserver: `serve` runs the server, `certs` only prepares the PKI.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  FlagError,
  certsFlags,
  parseFlags,
  serveFlags,
  usage,
  validateServeOptions,
  type CertsOptions,
  type ServeOptions,
} from './config.js';
import { ensurePki } from './server/pki.js';

const SERVE_SUMMARY =
  'Serve volumesnapshot.external-storage.k8s.io/v1 (volumesnapshots, volumesnapshotdatas) over HTTPS as an aggregated\n' +
  'API server, the PVC admission webhooks, and the embedded snapshot worker.';
const CERTS_SUMMARY =
  'Generate (or reuse) the PKI in --cert-dir — CA, serving certificate for <service>.<namespace>.svc, front-proxy CA and\n' +
  'client, admin and viewer client certificates — and print the CA bundle (base64) for the APIService and webhooks.';

const TOP_USAGE = `Usage: volumesnapshot-apiserver <command> [flags]

Commands:
  serve    ${SERVE_SUMMARY.split('\n').join('\n           ')}
  certs    Generate the PKI in --cert-dir and print the CA bundle for manifests.
  migrate  Export VolumeSnapshots/VolumeSnapshotDatas from the original CRDs; import them into a stopped server's store.

Run 'volumesnapshot-apiserver <command> --help' for the flags of a command.
`;

function fail(message: string): never {
  process.stderr.write(`Error: ${message}\nRun with --help for usage.\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(TOP_USAGE);
    process.exit(command === undefined ? 2 : 0);
  }
  if (command === 'serve') {
    if (wantsHelp) {
      process.stdout.write(usage('serve', SERVE_SUMMARY, serveFlags));
      return;
    }
    let opts: ServeOptions;
    try {
      opts = parseFlags<ServeOptions>(serveFlags, rest);
      validateServeOptions(opts);
    } catch (e) {
      if (e instanceof FlagError) fail(e.message);
      throw e;
    }
    const { serve } = await import('./serve.js');
    const server = await serve(opts);
    process.stderr.write(
      `\nvolumesnapshot-apiserver is ready on https://127.0.0.1:${server.port}\n` +
        `  export KUBECONFIG=${path.resolve(server.kubeconfigPath)}\n` +
        `  kubectl api-resources --api-group=volumesnapshot.external-storage.k8s.io\n\n`,
    );
    let signals = 0;
    const stop = (signal: string) => {
      if (++signals > 1) process.exit(1);
      server.app.log.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        (err) => {
          server.app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    return;
  }
  if (command === 'certs') {
    if (wantsHelp) {
      process.stdout.write(usage('certs', CERTS_SUMMARY, certsFlags));
      return;
    }
    let opts: CertsOptions;
    try {
      opts = parseFlags<CertsOptions>(certsFlags, rest);
    } catch (e) {
      if (e instanceof FlagError) fail(e.message);
      throw e;
    }
    const { files, generated } = await ensurePki(opts);
    process.stderr.write(generated.length ? `generated ${generated.join(', ')} in ${opts.certDir}\n` : `reused the PKI in ${opts.certDir}\n`);
    process.stdout.write(Buffer.from(await readFile(files.caCert)).toString('base64') + '\n');
    return;
  }
  if (command === 'migrate') {
    const { main: migrate } = await import('./migrate/import-crd-objects.js');
    process.exit(await migrate(rest));
  }
  fail(`unknown command "${command}" for "volumesnapshot-apiserver"`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Error: ${message}\n`);
  process.exit(1);
});
