// The admin kubeconfig, in the layout k3s writes to /etc/rancher/k3s/k3s.yaml: one cluster, user
// and context, all named after the product, with the CA and the client certificate embedded so
// the file works on its own when copied to another machine.
import { stringify } from 'yaml';
import { writeFileAtomic } from './files.ts';

export interface AdminKubeconfig {
  /** e.g. https://127.0.0.1:6443 */
  readonly server: string;
  readonly caCertPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Name of the cluster, user and context. */
  readonly name?: string;
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

export function renderKubeconfig(k: AdminKubeconfig): string {
  const name = k.name ?? 'edgeos';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: k.server, 'certificate-authority-data': b64(k.caCertPem) } }],
    users: [{ name, user: { 'client-certificate-data': b64(k.clientCertPem), 'client-key-data': b64(k.clientKeyPem) } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
  });
}

/**
 * Writes the kubeconfig atomically with `mode`, creating parent directories. The file holds the
 * admin key, so the default mode is 0600 and a group/world-readable mode must be asked for.
 */
export function writeKubeconfig(file: string, k: AdminKubeconfig, mode: number): void {
  writeFileAtomic(file, renderKubeconfig(k), mode);
}
