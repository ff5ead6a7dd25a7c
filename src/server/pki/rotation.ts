// Long-running edge servers outlive their one-year leaf certificates. Like k3s's dynamiclistener,
// re-check the certificates periodically and swap in renewed ones without a restart. A failed check
// is logged and retried at the next tick: the certificates in use stay valid for ~90 more days.
import type { Logger } from '../../common/log.ts';
import type { Pki } from './types.ts';

export interface RotationOptions {
  readonly intervalMs: number;
  /** ensurePki with the server's settings: reissues what is due and returns the current set. */
  readonly ensure: () => Promise<Pki>;
  /** Called with the new set when any certificate changed. */
  readonly onChange: (next: Pki, previous: Pki) => void;
  readonly log: Logger;
}

export interface Rotation {
  stop(): void;
}

export function startCertificateRotation(current: Pki, opts: RotationOptions): Rotation {
  let pki = current;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    opts
      .ensure()
      .then((next) => {
        const changed =
          next.servingCertPem !== pki.servingCertPem || next.adminCertPem !== pki.adminCertPem || next.caCertPem !== pki.caCertPem;
        if (!changed) return;
        const previous = pki;
        pki = next;
        opts.onChange(next, previous);
      })
      .catch((err: unknown) => opts.log.error({ err }, 'checking the certificates for renewal failed; retrying at the next check'))
      .finally(() => (running = false));
  }, opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
