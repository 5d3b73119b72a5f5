// Renders manifests/ the way an admin does: `volumesnapshot-apiserver certs` into components/generated-certs/pki,
// then the real `kubectl kustomize <overlay>` (offline). Works on a copy, so the repository's pki/ is never touched.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { kubectl135 } from '../helpers/kubectl.js';
import { mainJs, repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);

export const OVERLAYS = ['aws', 'gce', 'openshift', 'cert-manager', 'ha'] as const;
export type Overlay = (typeof OVERLAYS)[number];

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface RenderedManifests {
  /** The copy of manifests/ that was rendered (with its generated pki/). */
  dir: string;
  pkiDir: string;
  /** The base64 CA bundle the `certs` command printed. */
  printedCaBundle: string;
  render(target: Overlay | 'base'): Promise<K8sObject[]>;
  cleanup(): Promise<void>;
}

export async function prepareManifests(serviceName = 'volumesnapshot-apiserver', serviceNamespace = 'volumesnapshot'): Promise<RenderedManifests> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vsas-manifests-'));
  const dir = path.join(tmp, 'manifests');
  await fs.cp(path.join(repoRoot, 'manifests'), dir, {
    recursive: true,
    filter: (src) => !src.split(path.sep).includes('pki'),
  });
  const pkiDir = path.join(dir, 'components', 'generated-certs', 'pki');
  const certs = await run(process.execPath, [mainJs, 'certs', '--cert-dir', pkiDir, '--service-name', serviceName, '--service-namespace', serviceNamespace]);
  const kubectl = await kubectl135();
  return {
    dir,
    pkiDir,
    printedCaBundle: certs.stdout.trim(),
    async render(target) {
      const where = target === 'base' ? path.join(dir, 'base') : path.join(dir, 'overlays', target);
      const { stdout } = await run(kubectl, ['kustomize', where], { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, HOME: tmp } });
      return parseAllDocuments(stdout).map((d) => {
        if (d.errors.length) throw new Error(`${target}: ${d.errors[0].message}`);
        return d.toJS() as K8sObject;
      });
    },
    cleanup: () => fs.rm(tmp, { recursive: true, force: true }),
  };
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function one<T = K8sObject>(objects: K8sObject[], kind: string, name?: string): T {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}
