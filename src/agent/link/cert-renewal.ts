/**
 * Node client certificates renew themselves online, as the kubelet's certificate manager does:
 * once 2/3 of the lifetime has passed, a fresh key is made on the device and its CSR sent over the
 * link (authenticated by the current certificate); the new pair replaces the old on disk and is
 * used from the next connection on. A failure is retried at the next check.
 */
import { X509Certificate } from 'node:crypto';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { AckMessage, AgentMessage, WithoutId } from '../../common/link/protocol.ts';

const CHECK_EVERY_MS = 60 * 60 * 1000;

export function renewalDue(certPem: string, now: number): boolean {
  const c = new X509Certificate(certPem);
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  return now >= from + ((to - from) * 2) / 3;
}

export interface CertRenewalOptions {
  readonly node: string;
  readonly currentCert: () => string;
  readonly caPem: string;
  readonly request: (m: WithoutId<Exclude<AgentMessage, AckMessage>>) => Promise<AckMessage>;
  readonly save: (certPem: string, keyPem: string) => void;
  readonly log: Logger;
  readonly now?: () => number;
  readonly checkEveryMs?: number;
}

export interface CertRenewal {
  /** Renews now if due; resolves true when a new certificate was saved. */
  check(): Promise<boolean>;
  stop(): void;
}

export function startCertRenewal(o: CertRenewalOptions): CertRenewal {
  const now = o.now ?? Date.now;
  let running = false;
  async function check(): Promise<boolean> {
    if (running || !renewalDue(o.currentCert(), now())) return false;
    running = true;
    try {
      // Loaded only when due (every ~8 months): nothing of it need stay resident in the agent
      // (docs/runtime.md, "Memory").
      const { createNodeKeyAndCsr } = await import('../../common/link/node-csr.ts');
      const { keyPem, csrPem } = await createNodeKeyAndCsr(o.node);
      const ack = await o.request({ type: 'renew-certificate', csr: csrPem });
      const cert = ack.certificate;
      if (!cert || !new X509Certificate(cert).checkIssued(new X509Certificate(o.caPem))) throw new Error('the server answered no certificate issued by the cluster CA');
      o.save(cert, keyPem);
      o.log.info({ notAfter: new X509Certificate(cert).validTo }, 'renewed the node client certificate');
      return true;
    } catch (err) {
      o.log.warn({ err: errorMessage(err) }, 'renewing the node client certificate failed; retrying later');
      return false;
    } finally {
      running = false;
    }
  }
  const timer = setInterval(() => void check(), o.checkEveryMs ?? CHECK_EVERY_MS);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
