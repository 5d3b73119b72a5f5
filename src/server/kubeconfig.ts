import { promises as fs } from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigInput {
  server: string;
  caCertPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  user: string;
  contextName?: string;
}

/** A kubeconfig with embedded credentials, as `kubeadm kubeconfig user` writes one. */
export function renderKubeconfig(k: KubeconfigInput): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const context = k.contextName ?? `${k.user}@volumesnapshot`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'volumesnapshot', cluster: { server: k.server, 'certificate-authority-data': b64(k.caCertPem) } }],
    users: [{ name: k.user, user: { 'client-certificate-data': b64(k.clientCertPem), 'client-key-data': b64(k.clientKeyPem) } }],
    contexts: [{ name: context, context: { cluster: 'volumesnapshot', user: k.user, namespace: 'default' } }],
    'current-context': context,
    preferences: {},
  });
}

export async function writeKubeconfig(file: string, k: KubeconfigInput): Promise<void> {
  await fs.writeFile(file, renderKubeconfig(k), { mode: 0o600 });
  await fs.chmod(file, 0o600);
}
