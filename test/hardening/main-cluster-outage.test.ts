// The main cluster goes away and comes back. Two real server processes: "main" plays the cluster (standalone mode
// serves PVCs, PVs, events and leases over HTTPS), "aggregated" runs in cluster mode against it with --kubeconfig,
// the hostpath provider and its own client CA (its admin is system:masters, so no SubjectAccessReview is needed and
// the outage is the worker's alone). While main is down the aggregated API keeps serving reads and writes; once main
// is back on the same address the worker recovers by itself and finishes what was asked during the outage.

import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServer, type TestServer } from '../helpers/test-server.js';
import { bindHostPathClaim } from '../helpers/hostpath-claim.js';
import { makeKubectl, type Kubectl } from '../helpers/kubectl.js';
import { mainJs } from '../helpers/paths.js';

const VS = 'volumesnapshot.volumesnapshot.external-storage.k8s.io';

function snapshot(name: string): string {
  return `{"apiVersion":"volumesnapshot.external-storage.k8s.io/v1","kind":"VolumeSnapshot","metadata":{"name":"${name}","namespace":"default"},"spec":{"persistentVolumeClaimName":"data"}}`;
}

async function readyStatus(kubectl: Kubectl, name: string): Promise<string> {
  const r = await kubectl.run(['get', VS, name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
  return r.code === 0 ? r.stdout.trim() : `error: ${r.stderr.trim()}`;
}

t.test('the main cluster down: the API keeps serving, the worker backs off and recovers', async (t) => {
  const main = await startServer({ args: ['--worker=false'] });
  let mainNow: TestServer = main;
  t.teardown(() => mainNow.stop());
  const mainKubectl = await makeKubectl(main.kubeconfig);
  const volume = path.join(main.dataDir, '..', 'volume');
  await bindHostPathClaim(mainKubectl, volume);

  const aggregatedCerts = path.join(await mkdtemp(path.join(os.tmpdir(), 'vsas-agg-')), 'certs');
  await promisify(execFile)(process.execPath, [mainJs, 'certs', '--cert-dir', aggregatedCerts]);
  const aggregated = await startServer({
    localCluster: false,
    certDir: aggregatedCerts,
    args: [
      '--kubeconfig', main.kubeconfig,
      '--authentication-skip-lookup',
      '--client-ca-file', path.join(aggregatedCerts, 'ca.crt'),
      '--cloudprovider', 'hostpath',
    ],
  });
  t.teardown(() => aggregated.stop());
  const kubectl = await makeKubectl(aggregated.kubeconfig);

  await kubectl.output(['create', '-f', '-'], snapshot('before'));
  await kubectl.output(['wait', '--for=condition=Ready', `${VS}/before`, '--timeout=60s']);
  t.pass('a snapshot of a claim in the main cluster is Ready');

  await main.stop();
  t.comment('main cluster stopped');
  t.equal(await readyStatus(kubectl, 'before'), 'True', 'reads go on');
  await kubectl.output(['create', '-f', '-'], snapshot('during'));
  await kubectl.output(['label', VS, 'before', 'outage=yes']);
  t.match(await kubectl.output(['get', VS, '-l', 'outage=yes', '-o', 'name']), /before/, 'writes go on');
  await new Promise((r) => setTimeout(r, 4000));
  t.not(await readyStatus(kubectl, 'during'), 'True', 'no snapshot of a claim the worker cannot see');
  t.equal((await kubectl.output(['get', '--raw', '/livez'])).trim(), 'ok', 'alive');
  t.equal(aggregated.proc.exitCode, null, 'still running');

  mainNow = await startServer({ port: main.port, certDir: main.certDir, dataDir: main.dataDir, args: ['--worker=false'] });
  t.comment('main cluster back');
  await kubectl.output(['wait', '--for=condition=Ready', `${VS}/during`, '--timeout=90s']);
  t.pass('the snapshot asked for during the outage becomes Ready once the main cluster is back');
  const outageLines = aggregated.logs.filter((l) => /ECONNREFUSED|connect|unreachable/i.test(l) && /"level":(40|50)/.test(l));
  t.comment(outageLines.slice(0, 3).join('\n'));
  t.ok(outageLines.length > 0, 'the outage was logged as a warning or error');
  // Backing off, not spinning: the outage lasted several seconds (the restart included), so a retry loop without
  // backoff would have logged hundreds of failures.
  const retries = outageLines.filter((l) => l.includes('default/during') && /snapshot creation failed/.test(l)).length;
  const informerRestarts = outageLines.filter((l) => /informer failed/.test(l)).length;
  t.comment(`${retries} failed attempts at default/during, ${informerRestarts} informer restarts`);
  t.ok(retries >= 2 && retries <= 8, 'the snapshot was retried, with exponential backoff (1 s, 2 s, 4 s, …)');
  t.ok(informerRestarts <= 40, 'the informers restarted with backoff');
  const events = await mainKubectl.output(['get', 'events', '-n', 'default', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
  t.match(events, /SnapshotReady/, 'events recorded in the main cluster');
});
