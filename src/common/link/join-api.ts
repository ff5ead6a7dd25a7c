/**
 * The join endpoints, outside the Kubernetes API (docs/link.md):
 *
 * - GET  CACERTS_PATH   → the cluster CA (PEM), unauthenticated. The device checks its SHA-256
 *   against the join token's caHash before it trusts the server or sends a secret (like K3s's
 *   /cacerts and kubeadm's cluster-info discovery).
 * - GET  JOIN_INFO_PATH → `JoinInfo`, unauthenticated: where agents should dial.
 * - POST JOIN_PATH      → `JoinRequest` with `Authorization: Bearer <id>.<secret>`; answers
 *   `JoinResponse` (201), or a Status with 401 (token rejected), 409 (node name taken), 400.
 *   The bootstrap identity can do nothing else: this is its only endpoint.
 */
export const CACERTS_PATH = '/cacerts';
export const JOIN_INFO_PATH = '/edgeos/v1/join-info';
export const JOIN_PATH = '/edgeos/v1/join';

export interface JoinInfo {
  readonly servers: readonly string[];
}

export interface JoinRequest {
  readonly nodeName: string;
  /** PEM PKCS#10 for the device's own key. */
  readonly csr: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { key: string; value?: string; effect: string }[];
}

export interface JoinResponse {
  /** CN=system:node:<nodeName>, O=system:nodes, signed by the cluster CA. */
  readonly certificate: string;
}
