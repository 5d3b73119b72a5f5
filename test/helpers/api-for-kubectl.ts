// The API plugin served in-process on plain HTTP (kubectl accepts an http:// server) to an admin, with a kubeconfig
// that points kubectl at it: how the kubectl suites drive the API machinery without the rest of the server's wiring.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Registry } from '../../src/apimachinery/registry.js';
import { encodeJson } from '../../src/apimachinery/json-encoding.js';
import { adminApiApp } from './admin-api-app.js';

export interface ApiForKubectl {
  kubeconfig: string;
  /** A temporary directory (holding the kubeconfig) for the test's own files; removed at teardown. */
  dir: string;
  /** `METHOD url` of every request received, in order. */
  urls: string[];
}

/** Serves `registry` until the test's teardown. */
export async function serveApiForKubectl(t: { teardown(fn: () => unknown): void }, registry: Registry): Promise<ApiForKubectl> {
  const urls: string[] = [];
  const app = await adminApiApp({ registry }, { onRequest: (req) => urls.push(`${req.method} ${req.url}`) });
  app.get('/version', async (_req, reply) => {
    reply.header('content-type', 'application/json').send(encodeJson({ major: '1', minor: '35', gitVersion: 'v1.35.0' }));
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kubectl-api-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  await fs.writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "${address}"}
users:
- name: admin
  user: {}
contexts:
- name: local
  context: {cluster: local, user: admin, namespace: default}
current-context: local
`,
  );
  t.teardown(async () => {
    await app.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { kubeconfig, dir, urls };
}
