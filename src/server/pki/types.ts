/**
 * The cluster's certificates as the rest of the server uses them. One cluster CA signs the serving
 * certificate and every client certificate (admin, nodes); clients trust it to reach the server and
 * the server trusts it to authenticate clients — the single-CA layout of a small k3s/kubeadm cluster.
 */
export interface Pki {
  /** The directory holding the files (<data-dir>/server/tls). */
  readonly dir: string;
  readonly caCertPem: string;
  readonly servingCertPem: string;
  readonly servingKeyPem: string;
  /** CN=admin, O=system:masters: what the admin kubeconfig embeds. */
  readonly adminCertPem: string;
  readonly adminKeyPem: string;
  /**
   * Issues a client certificate for a joining node: CN=system:node:<nodeName>, O=system:nodes,
   * clientAuth only, for the public key of the CSR (whose own subject is ignored: the caller has
   * already decided who the node is). Returns the certificate PEM.
   */
  signNodeCsr(csrPem: string, nodeName: string): Promise<string>;
  /**
   * A new key and a client certificate for `subject` ("CN=…, O=…"), issued now and never written
   * to disk: a server's identity towards the other servers of its cluster (docs/ha.md).
   */
  issueClientCertificate(subject: string): Promise<{ certPem: string; keyPem: string }>;
}
