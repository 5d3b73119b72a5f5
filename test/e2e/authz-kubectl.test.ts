// The real kubectl (v1.35) against an in-process HTTPS server with the standalone authentication (generated client
// CA) and the built-in policy: the viewer certificate may read but gets kube-apiserver's 403 on create; the admin
// (system:masters) may do everything. Uses buildServer + the API plugin directly, so it does not depend on serve.ts.
import t from 'tap';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { apiPlugin } from '../../src/apimachinery/api-plugin.js';
import { Registry } from '../../src/apimachinery/registry.js';
import { volumeSnapshotDefinitions } from '../../src/apis/volumesnapshot/v1/index.js';
import { buildServer } from '../../src/server/app.js';
import { createAuthentication } from '../../src/server/authentication-config.js';
import { createAuthorization } from '../../src/server/authorization-config.js';
import { HealthChecks } from '../../src/server/health.js';
import { writeKubeconfig } from '../../src/server/kubeconfig.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { makeKubectl } from '../helpers/kubectl.js';
import { makeAuthPki } from '../server/fixtures/delegation-fixtures.js';

const G = 'volumesnapshot.external-storage.k8s.io';
const snapshot = `apiVersion: ${G}/v1
kind: VolumeSnapshot
metadata:
  name: snap-1
spec:
  persistentVolumeClaimName: pvc-1
`;

t.test('viewer reads, gets 403 on create; admin creates and deletes', async (t) => {
  const pki = await makeAuthPki();
  const store = SqliteStore.open({ path: ':memory:' });
  const registry = new Registry({ store, definitions: volumeSnapshotDefinitions });
  const auth = await createAuthentication({
    clientCaFile: pki.caFile,
    requestheaderClientCaFile: pki.frontProxyCaFile,
    requestheaderAllowedNames: ['front-proxy-client'],
  });
  const app = await buildServer({
    tls: { cert: pki.serving.cert, key: pki.serving.key, clientCaPems: auth.tlsClientCaPems(), minVersion: 'TLSv1.2' },
    authenticator: auth.authenticator,
    authorizer: await createAuthorization({}),
    health: new HealthChecks(),
    logLevel: 'silent',
    mount: async (app) => {
      await app.register(apiPlugin, { registry });
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    await app.close();
    await auth.close();
    await store.close();
  });
  const server = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const kubeconfig = async (user: 'admin' | 'viewer') => {
    const file = path.join(pki.dir, `${user}.kubeconfig`);
    const cred = pki[user];
    await writeKubeconfig(file, { server, caCertPem: pki.ca, clientCertPem: cred.cert, clientKeyPem: cred.key, user });
    return file;
  };
  const viewer = await makeKubectl(await kubeconfig('viewer'));
  const admin = await makeKubectl(await kubeconfig('admin'));

  const denied = await viewer.run(['create', '-f', '-'], { input: snapshot });
  t.not(denied.code, 0);
  t.equal(
    denied.stderr.trim(),
    `Error from server (Forbidden): error when creating "STDIN": volumesnapshots.${G} is forbidden: ` +
      `User "viewer" cannot create resource "volumesnapshots" in API group "${G}" in the namespace "default"`,
  );

  const created = await admin.run(['create', '-f', '-'], { input: snapshot });
  t.equal(created.code, 0, created.stderr);
  t.equal(created.stdout.trim(), `volumesnapshot.${G}/snap-1 created`);

  const listed = await viewer.run(['get', `volumesnapshots.${G}`]);
  t.equal(listed.code, 0, listed.stderr);
  t.match(listed.stdout, /snap-1/);

  const del = await viewer.run(['delete', `volumesnapshots.${G}`, 'snap-1', '--wait=false']);
  t.not(del.code, 0);
  t.match(del.stderr, `volumesnapshots.${G} "snap-1" is forbidden: User "viewer" cannot delete resource "volumesnapshots" in API group "${G}" in the namespace "default"`);
  t.equal((await admin.run(['delete', `volumesnapshots.${G}`, 'snap-1', '--wait=false'])).code, 0);
  await fs.rm(pki.dir, { recursive: true, force: true });
});
