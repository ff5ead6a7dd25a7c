import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../../common/atomic-file.ts';
import { InvalidInputError } from '../../common/errors.ts';
import { parseCidr } from '../config.ts';
import type { Route } from './cidr-check.ts';

export interface PodCidrOptions {
  /** The agent's data dir: the choice is kept in <data-dir>/agent/pod-cidr. */
  readonly dataDir: string;
  /** --pod-cidr, when given. */
  readonly requested?: string;
  /** The server's choice (node.spec.podCIDR), used unless --pod-cidr is given. */
  readonly assigned?: string;
  /** Host-wide claims, one file per CIDR naming the data dir that owns it (default: claimsDirOf this namespace). */
  readonly claimsDir?: string;
  /** The host's routes (other agents' bridges, local networks). */
  readonly routes: readonly Route[];
  /** This agent's bridge: its routes are not another's. */
  readonly bridge?: string;
}

export const DEFAULT_CLAIMS_DIR = '/run/edgeos/pod-cidrs';

/**
 * Bridges collide only inside one network namespace: an agent in a named namespace of its own
 * (`ip netns add`: the tests' nodes) claims among the agents of that namespace, in a subdirectory
 * named by the namespace's inode; every other agent (the host's namespace, or one we cannot tell
 * apart from it) in DEFAULT_CLAIMS_DIR, as before.
 */
export function claimsDirOf(netnsInode: number | undefined): string {
  return netnsInode === undefined ? DEFAULT_CLAIMS_DIR : join(DEFAULT_CLAIMS_DIR, `netns-${netnsInode}`);
}

function ownClaimsDir(): string {
  let mine: number | undefined;
  try {
    mine = statSync('/proc/self/ns/net').ino;
  } catch {
    return DEFAULT_CLAIMS_DIR;
  }
  let named: string[] = [];
  try {
    named = readdirSync('/var/run/netns');
  } catch {
    // No named namespaces on this host.
  }
  const inNamed = named.some((n) => {
    try {
      return statSync(join('/var/run/netns', n)).ino === mine;
    } catch {
      return false;
    }
  });
  return claimsDirOf(inNamed ? mine : undefined);
}

export interface PodCidrChoice {
  readonly cidr: string;
  /**
   * Set when the server's CIDR is another agent's on this host (agents of several clusters on
   * one test host): the bridge got `cidr`, a free one of the host, instead; names that agent.
   */
  readonly assignedTakenBy?: string;
}

/**
 * The node's pod CIDR: --pod-cidr when given, else the server's (node.spec.podCIDR, unique in
 * the cluster, docs/podnet.md). Either is also claimed host-wide, since several agents on one
 * machine (tests, demos; even of different clusters) must not share a bridge subnet. Without
 * either (an agent whose runtime is checked alone), the first start picks the first 10.42.N.0/24 that no route on the host
 * overlaps and no other agent on the host has claimed, and keeps it in the data dir, so restarts
 * and offline reboots use the same subnet without asking anyone. Claims are files created with
 * link(2) (atomic, never seen half-written); a claim whose owner is gone (its data dir no longer
 * holds that CIDR) is taken over. The whole choice (claim, then keep) runs under a host-wide lock:
 * without it, an agent starting at the same moment could see a claim before its owner kept the
 * CIDR, take it for stale and take it over, and two bridges would share a subnet.
 */
export function resolvePodCidr(o: PodCidrOptions): PodCidrChoice {
  const claims = o.claimsDir ?? ownClaimsDir();
  mkdirSync(claims, { recursive: true, mode: 0o755 });
  return withHostLock(join(claims, '.lock'), () => resolveLocked(o, claims));
}

/** Longest a lock may be held before it counts as left behind by a dead process. */
const LOCK_STALE_MS = 10_000;

function withHostLock<T>(lock: string, fn: () => T): T {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; ; waited += 20) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') { // an uninstall removed the empty claims dir just now
        mkdirSync(dirname(lock), { recursive: true, mode: 0o755 });
        continue;
      }
      if (code !== 'EEXIST') throw err;
    }
    let age: number;
    try {
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      continue; // released between our mkdir and stat
    }
    if (age > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
    else if (waited > 2 * LOCK_STALE_MS) throw new Error(`${lock}: pod CIDR lock still held after ${waited} ms`);
    else Atomics.wait(pause, 0, 0, 20); // the section it guards takes milliseconds
  }
  try {
    return fn();
  } finally {
    rmdirSync(lock);
  }
}

function resolveLocked(o: PodCidrOptions, claims: string): PodCidrChoice {
  const kept = join(o.dataDir, 'agent', 'pod-cidr');
  const mine = existsSync(kept) ? readFileSync(kept, 'utf8').trim() : undefined;
  let assignedTakenBy: string | undefined;
  if (o.requested === undefined && o.assigned !== undefined) {
    const net = parseCidr('node.spec.podCIDR', o.assigned);
    // Routed here through another interface: another agent's bridge (of an agent that keeps no
    // claim) or a local network.
    const routed = o.routes.find((r) => r.iface !== o.bridge && overlaps(net, r));
    if (!routed && claim(claims, o.assigned, o.dataDir)) {
      keep(kept, o.assigned);
      return { cidr: o.assigned };
    }
    assignedTakenBy = routed ? `routed via ${routed.iface}` : ownerOf(claims, o.assigned);
  }
  const tag = (cidr: string): PodCidrChoice => (assignedTakenBy !== undefined ? { cidr, assignedTakenBy } : { cidr });
  // After a conflict, a kept CIDR is the fallback of an earlier start: keep using it.
  const want = o.requested ?? (mine !== o.assigned ? mine : undefined);
  if (want !== undefined) {
    const from = o.requested !== undefined ? '--pod-cidr' : kept;
    parseCidr(from, want);
    if (claim(claims, want, o.dataDir)) {
      keep(kept, want);
      return tag(want);
    }
    if (o.requested !== undefined || assignedTakenBy === undefined) {
      throw new InvalidInputError(`${from}: ${want} is used by another agent on this host (${ownerOf(claims, want)}); give each agent its own pod CIDR`);
    }
  }
  for (let n = 0; n < 256; n++) {
    const cidr = `10.42.${n}.0/24`;
    const net = parseCidr('--pod-cidr', cidr);
    if (o.routes.some((r) => overlaps(net, r))) continue;
    if (!claim(claims, cidr, o.dataDir)) continue;
    keep(kept, cidr);
    return tag(cidr);
  }
  throw new InvalidInputError('--pod-cidr: every 10.42.N.0/24 is routed or claimed on this host; pass --pod-cidr');
}

function overlaps(a: { network: number; prefix: number }, b: { network: number; prefix: number }): boolean {
  const size = 2 ** (32 - Math.min(a.prefix, b.prefix));
  return Math.floor(a.network / size) === Math.floor(b.network / size);
}

const claimFile = (dir: string, cidr: string) => join(dir, cidr.replace('/', '_'));

function ownerOf(dir: string, cidr: string): string {
  try {
    return readFileSync(claimFile(dir, cidr), 'utf8').trim();
  } catch {
    return '';
  }
}

/** True when `dataDir` now owns `cidr` on this host. */
function claim(dir: string, cidr: string, dataDir: string): boolean {
  const file = claimFile(dir, cidr);
  const draft = `${file}.${process.pid}.tmp`;
  writeFileAtomic(draft, dataDir + '\n', 0o644);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(draft, file); // fails with EEXIST when claimed; never exposes an empty file
        fsyncDirectory(dir);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = ownerOf(dir, cidr);
      if (owner === dataDir) return true;
      const ownersChoice = join(owner, 'agent', 'pod-cidr');
      const stillOwned = owner !== '' && existsSync(ownersChoice) && readFileSync(ownersChoice, 'utf8').trim() === cidr;
      if (stillOwned) return false;
      rmSync(file, { force: true }); // a stale claim: its agent is gone or moved on
    }
    return false;
  } finally {
    rmSync(draft, { force: true });
  }
}

function keep(file: string, cidr: string): void {
  writeFileAtomic(file, cidr + '\n', 0o644);
}
