import { readFileSync } from 'node:fs';

const CAP_SYS_RESOURCE = 24n;

/**
 * Whether this process holds CAP_SYS_RESOURCE (bit 24 of CapEff in /proc/self/status). Without it
 * (LXC, unprivileged hosts, these CI machines) runc cannot write oom_score_adj below ours, and
 * containerd must be told restrict_oom_score_adj or every RunPodSandbox fails.
 */
export function hasCapSysResource(statusText: string = readFileSync('/proc/self/status', 'utf8')): boolean {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  if (!m) return false;
  return ((BigInt(`0x${m[1]}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}
