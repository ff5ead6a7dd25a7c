/**
 * Network namespaces a test makes for itself (never another address of the host): created with
 * loopback up, commands run inside with `nsenter --net`, deleted (with what lives in them) by the
 * test's clean-up.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Netns {
  readonly name: string;
  /** Runs a command inside and returns its stdout; throws with stderr on failure. */
  exec(argv: readonly string[], input?: string): string;
  /** `nsenter --net=…` — a prefix for running a command inside. */
  readonly prefix: readonly string[];
  spawn(argv: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess;
  remove(): void;
}

export function createNetns(label: string): Netns {
  const name = `eos-${label}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  // nsenter switches the network namespace only: `ip netns exec` also remounts /sys, which hides
  // the cgroup mounts runc needs.
  const prefix = ['nsenter', `--net=/var/run/netns/${name}`];
  const exec = (argv: readonly string[], input?: string) =>
    execFileSync(prefix[0]!, [...prefix.slice(1), ...argv], { encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
  exec(['ip', 'link', 'set', 'lo', 'up']);
  return {
    name,
    exec,
    prefix,
    spawn: (argv, env) => spawn(prefix[0]!, [...prefix.slice(1), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env }),
    remove: () => {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    },
  };
}

/** A veth pair between two namespaces with an address on each end (a /24 of the test's own). */
export function linkNetns(a: Netns, aIp: string, b: Netns, bIp: string, prefixLen = 24): void {
  const ifa = `v${randomBytes(4).toString('hex')}`;
  const ifb = `v${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['link', 'add', ifa, 'netns', a.name, 'type', 'veth', 'peer', 'name', ifb, 'netns', b.name]);
  a.exec(['ip', 'addr', 'add', `${aIp}/${prefixLen}`, 'dev', ifa]);
  a.exec(['ip', 'link', 'set', ifa, 'up']);
  b.exec(['ip', 'addr', 'add', `${bIp}/${prefixLen}`, 'dev', ifb]);
  b.exec(['ip', 'link', 'set', ifb, 'up']);
}
