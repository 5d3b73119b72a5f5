// The server behind a kube-aggregator stand-in (test/fakes/fake-aggregator.ts), run with the flags of the base
// Deployment: the availability probe passes, aggregated discovery and OpenAPI are fetched as kube-aggregator does,
// and the real kubectl works through the aggregator with the aggregator's idea of the user.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { GROUP } from '../../src/apis/volumesnapshot/v1/types.js';
import { FakeAggregator } from '../fakes/fake-aggregator.js';
import { httpsRequest } from '../helpers/https-client.js';
import { makeKubectl } from '../helpers/kubectl.js';
import { freePort, startServer, type TestServer } from '../helpers/test-server.js';
import { prepareManifests } from '../manifests/render-manifests.js';

const SERVICE = 'volumesnapshot-apiserver.volumesnapshot.svc';

/** The base Deployment's flags that mean the same in standalone mode (paths, port and cloud are the test's own). */
async function manifestFlags(): Promise<string[]> {
  const m = await prepareManifests();
  try {
    const objects = await m.render('base');
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    const args = (deployment.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0].args;
    const local = ['--secure-port', '--bind-address', '--tls-cert-file', '--tls-private-key-file', '--cert-dir', '--data-dir', '--cloudprovider'];
    return args.slice(1).filter((a) => !local.some((f) => a.startsWith(`${f}=`)));
  } finally {
    await m.cleanup();
  }
}

async function aggregatorFor(server: TestServer, port = server.port, discoveryAccept?: string): Promise<{ agg: FakeAggregator; url: string }> {
  const read = (f: string) => fs.readFile(path.join(server.certDir, f), 'utf8');
  const agg = new FakeAggregator({
    group: GROUP,
    version: 'v1',
    backend: { host: '127.0.0.1', port, serverName: SERVICE, caBundle: await read('ca.crt') },
    frontProxyClient: { cert: await read('front-proxy-client.crt'), key: await read('front-proxy-client.key') },
    serving: { cert: await read('apiserver.crt'), key: await read('apiserver.key') },
    tokens: { 'alice-token': { name: 'alice', uid: 'alice-uid', groups: ['developers'], extra: { 'example.org/team': ['storage'] } } },
    discoveryAccept,
    timeoutMs: 5000,
  });
  const aggPort = await agg.start();
  return { agg, url: `https://127.0.0.1:${aggPort}` };
}

async function kubeconfigThrough(server: TestServer, url: string, dir: string): Promise<string> {
  const ca = await fs.readFile(path.join(server.certDir, 'ca.crt'));
  const cert = await fs.readFile(path.join(server.certDir, 'admin.crt'));
  const key = await fs.readFile(path.join(server.certDir, 'admin.key'));
  const b64 = (b: Buffer) => b.toString('base64');
  const file = path.join(dir, 'aggregator.kubeconfig');
  await fs.writeFile(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: aggregator
  cluster: {server: "${url}", certificate-authority-data: ${b64(ca)}}
users:
- name: admin
  user: {client-certificate-data: ${b64(cert)}, client-key-data: ${b64(key)}}
- name: alice
  user: {token: alice-token}
contexts:
- name: admin
  context: {cluster: aggregator, user: admin, namespace: default}
- name: alice
  context: {cluster: aggregator, user: alice, namespace: default}
current-context: admin
`,
  );
  return file;
}

t.test('through a kube-aggregator stand-in', async (t) => {
  const flags = await manifestFlags();
  t.ok(flags.includes('--service-name=volumesnapshot-apiserver') && flags.includes('--storage=sqlite'), `manifest flags: ${flags.join(' ')}`);
  const server = await startServer({ args: flags });
  t.teardown(() => server.stop());
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vsas-agg-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const { agg, url } = await aggregatorFor(server);
  t.teardown(() => agg.stop());

  await t.test('the availability probe passes and discovery and OpenAPI are fetched', async (t) => {
    await agg.sync();
    t.match(agg.condition, { type: 'Available', status: 'True', reason: 'Passed', message: 'all checks passed' });
    t.equal(agg.discoveryMode, 'aggregated-v2', 'the v2 aggregated discovery answer was used');
    const resources = (agg.groupDiscovery!.versions[0].resources as { resource: string; scope: string }[]).map((r) => [r.resource, r.scope]);
    t.same(resources.sort(), [
      ['volumesnapshotdatas', 'Cluster'],
      ['volumesnapshots', 'Namespaced'],
    ]);
    t.equal(agg.openapiV2?.status, 200, '/openapi/v2 downloaded');
    t.ok(agg.openapiV2?.etag, 'with an ETag for the next poll');
    t.ok(Object.keys(agg.openapiV2?.spec?.paths ?? {}).some((p) => p.startsWith(`/apis/${GROUP}/v1/`)), 'v2 spec has the group paths');
    const v3 = agg.openapiV3Index?.paths?.[`apis/${GROUP}/v1`];
    t.match(v3?.serverRelativeURL, new RegExp(`^/openapi/v3/apis/${GROUP.replace(/\./g, '\\.')}/v1\\?hash=`), 'v3 index names the group version');
  });

  await t.test('legacy discovery when the aggregated answer is not v2', async (t) => {
    const { agg: legacyAgg } = await aggregatorFor(server, server.port, 'application/json');
    t.teardown(() => legacyAgg.stop());
    await legacyAgg.sync();
    t.equal(legacyAgg.discoveryMode, 'legacy');
    const resources = (legacyAgg.groupDiscovery!.versions[0].resources as { resource: string; subresources: { subresource: string }[] }[]).map((r) => r.resource);
    t.same(resources.sort(), ['volumesnapshotdatas', 'volumesnapshots']);
  });

  await t.test('kubectl through the aggregator', async (t) => {
    const kubectl = await makeKubectl(await kubeconfigThrough(server, url, dir));
    const apiservice = await kubectl.run(['get', 'apiservice', `v1.${GROUP}`]);
    t.equal(apiservice.code, 0, apiservice.stderr);
    t.match(apiservice.stdout, new RegExp(`v1\\.${GROUP.replace(/\./g, '\\.')}\\s+volumesnapshot/volumesnapshot-apiserver\\s+True`), 'Available True');

    const manifest = `apiVersion: ${GROUP}/v1
kind: VolumeSnapshot
metadata:
  name: through-aggregator
spec:
  persistentVolumeClaimName: some-claim
`;
    const created = await kubectl.run(['create', '-f', '-'], { input: manifest });
    t.equal(created.code, 0, created.stderr);
    t.match(created.stdout, 'volumesnapshot.volumesnapshot.external-storage.k8s.io/through-aggregator created');
    const got = await kubectl.run(['get', 'volumesnapshot', 'through-aggregator', '-o', 'json']);
    t.equal(got.code, 0, got.stderr);
    const obj = JSON.parse(got.stdout) as { metadata: { uid: string; namespace: string }; spec: { persistentVolumeClaimName: string } };
    t.equal(obj.metadata.namespace, 'default');
    t.equal(obj.spec.persistentVolumeClaimName, 'some-claim');
    const table = await kubectl.run(['get', 'vsnap']);
    t.equal(table.code, 0, table.stderr);
    t.match(table.stdout, /through-aggregator/, 'short name and Table through the proxy');

    // The server saw the aggregator's front-proxy identity headers, never the user's credentials.
    const toServer = agg.proxied.filter((r) => r.path.includes('/volumesnapshots'));
    t.ok(toServer.length >= 3);
    for (const r of toServer) {
      t.equal(r.headers['X-Remote-User'], 'admin');
      t.same(r.headers['X-Remote-Group'], ['system:masters', 'system:authenticated']);
      t.notOk('authorization' in r.headers);
    }

    // alice is known to the aggregator by her token only; the server authorizes what the headers say.
    const alice = await kubectl.run(['--context', 'alice', 'get', 'volumesnapshots']);
    t.not(alice.code, 0);
    t.match(alice.stderr, /User "alice" cannot list resource "volumesnapshots" in API group "volumesnapshot\.external-storage\.k8s\.io" in the namespace "default"/);
    const last = agg.proxied[agg.proxied.length - 1];
    t.same([last.headers['X-Remote-User'], last.headers['X-Remote-Uid'], last.headers['X-Remote-Extra-example.org%2Fteam']], ['alice', 'alice-uid', ['storage']]);

    // kubectl explain reads /openapi/v3 (the aggregator's index) and the group's document it proxies live.
    const explain = await kubectl.run(['explain', 'volumesnapshot.spec']);
    t.equal(explain.code, 0, explain.stderr);
    t.match(explain.stdout, /persistentVolumeClaimName/);

    const deleted = await kubectl.run(['delete', 'volumesnapshot', 'through-aggregator']);
    t.equal(deleted.code, 0, deleted.stderr);
    t.match(deleted.stdout, 'deleted');
    const gone = await kubectl.run(['get', 'volumesnapshot', 'through-aggregator']);
    t.not(gone.code, 0);
    t.match(gone.stderr, 'volumesnapshots.volumesnapshot.external-storage.k8s.io "through-aggregator" not found');
  });

  await t.test('identity headers a user sends are stripped, not trusted', async (t) => {
    const ca = await fs.readFile(path.join(server.certDir, 'ca.crt'));
    const r = await httpsRequest({
      url: `${url}/apis/${GROUP}/v1/namespaces/default/volumesnapshots`,
      ca,
      headers: { authorization: 'Bearer alice-token', 'x-remote-user': 'system:admin', 'x-remote-group': 'system:masters', 'impersonate-user': 'admin' },
    });
    t.equal(r.status, 403, r.body);
    t.match(r.json(), { reason: 'Forbidden', message: /User "alice"/ });
  });

  await t.test('without the front-proxy certificate the headers count for nothing', async (t) => {
    const ca = await fs.readFile(path.join(server.certDir, 'ca.crt'));
    const r = await httpsRequest({ url: `${server.url}/apis/${GROUP}/v1/namespaces/default/volumesnapshots`, ca, headers: { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' } });
    t.ok(r.status === 401 || r.status === 403, `direct request with forged headers: ${r.status}`);
  });

  await t.test('an unreachable server fails the probe and the group answers 503', async (t) => {
    const { agg: dead, url: deadUrl } = await aggregatorFor(server, await freePort());
    t.teardown(() => dead.stop());
    const condition = await dead.probe();
    t.match(condition, { status: 'False', reason: 'FailedDiscoveryCheck', message: new RegExp(`^failing or missing response from https://${SERVICE.replace(/\./g, '\\.')}:\\d+/apis/${GROUP.replace(/\./g, '\\.')}/v1`) });
    const ca = await fs.readFile(path.join(server.certDir, 'ca.crt'));
    const r = await httpsRequest({ url: `${deadUrl}/apis/${GROUP}/v1/volumesnapshotdatas`, ca, headers: { authorization: 'Bearer alice-token' } });
    t.equal(r.status, 503);
    t.match(r.json(), { reason: 'ServiceUnavailable', message: 'the server is currently unable to handle the request' });
  });
});
