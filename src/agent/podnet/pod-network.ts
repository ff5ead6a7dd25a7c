/**
 * The node's part of the one pod network (docs/podnet.md), as an agent component: the VXLAN
 * overlay to every other node and the masquerade of traffic leaving the cluster CIDR, both
 * programmed from the agent's cache (the Node objects of every node, this node's pod CIDR, the
 * cluster network the server last told), so they come back after an agent restart or a reboot
 * with the server unreachable. Resynced on every Node change and every 30 s (a device someone
 * removed comes back). stop() removes the masquerade table, as the Services datapath removes its
 * own, and leaves the overlay in place: pods keep running while the agent is down, and so does
 * their traffic to other nodes.
 */
import { createHash } from 'node:crypto';
import type { ClusterNetwork } from '../../common/cluster-network.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { runTool } from '../services/tools.ts';
import type { AgentCache } from '../types.ts';
import { masqueradeScript } from './masquerade.ts';
import { applyOverlay, planOverlay, readDevice } from './overlay.ts';
import { peersOf } from './peers.ts';
import type { CommandRunner, LocalEnd, Peer } from './types.ts';

export interface PodNetworkOptions {
  readonly dataDir: string;
  readonly nodeName: string;
  readonly cache: AgentCache;
  /** This node's end: device, VTEP address and MAC, MTU, pod CIDR. */
  readonly local: LocalEnd;
  /** The cluster network as last told by the server (or kept on disk). */
  readonly network: () => ClusterNetwork;
  readonly log: Logger;
  /** A Warning about this node (an Event on the Node). */
  readonly warn: (reason: string, message: string) => void;
  /** Runs ip/bridge/nft (tests: inside a namespace). */
  readonly run?: CommandRunner;
}

export interface PodNetwork {
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Resync now (the cluster network changed). */
  resync(): void;
  /** The peers the last successful sync programmed. */
  readonly peers: readonly Peer[];
}

const RESYNC_MS = 30_000;

/** Per data dir, as the bridge and the Services table: several agents on one host keep apart. */
export function podNetworkNames(dataDir: string): { device: string; table: string } {
  const suffix = createHash('sha256').update(dataDir).digest('hex').slice(0, 8);
  return { device: `eosv${suffix}`, table: `edgeos-podnet-${suffix}` };
}

export function createPodNetwork(o: PodNetworkOptions): PodNetwork {
  const log = o.log.child({ component: 'pod-network' });
  const run: CommandRunner = o.run ?? ((argv, input) => runTool(argv, input));
  const { table } = podNetworkNames(o.dataDir);
  let programmed: readonly Peer[] = [];
  let lastMasquerade = '';
  let lastError = '';
  /** The last read found no device and there was no peer. */
  let noDevice = false;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  async function syncOnce(): Promise<void> {
    const script = masqueradeScript(table, o.local.podCidr, o.network().clusterCidr);
    if (script !== lastMasquerade) {
      const r = await run(['nft', '-f', '-'], script);
      if (r.code !== 0) throw new Error(`nft: ${r.stderr.trim()}`);
      lastMasquerade = script;
      log.info({ table, podCidr: o.local.podCidr, clusterCidr: o.network().clusterCidr }, 'pod network masquerade programmed');
    }
    const peers = peersOf(await o.cache.list('Node'), { node: o.nodeName, vtepIp: o.local.vtepIp });
    // No device until there is another node to reach: a single node (or agents sharing one test
    // host) needs no overlay, and once it is known to have none, its resyncs start no process.
    if (peers.length === 0 && noDevice) return;
    const have = await readDevice(run, o.local.device);
    noDevice = !have.exists && peers.length === 0;
    if (noDevice) return;
    await applyOverlay(run, planOverlay(o.local, peers, have));
    const changed = JSON.stringify(peers) !== JSON.stringify(programmed);
    programmed = peers;
    if (changed) log.info({ device: o.local.device, peers: peers.map((p) => `${p.node}=${p.podCidr}@${p.vtepIp}`) }, 'pod network overlay programmed');
  }

  function sync(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = syncOnce().then(() => {
      lastError = '';
    }, (err: unknown) => {
      const message = errorMessage(err);
      log.error({ err: message }, 'cannot program the pod network: retrying');
      if (message !== lastError) o.warn('PodNetworkFailed', `cannot program the pod network: ${message}`);
      lastError = message;
    }).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        sync();
      }
    });
  }

  return {
    async start() {
      unsubscribe = o.cache.subscribe((c) => {
        if (c.kind === 'Node') sync();
      });
      sync();
      await running;
      timer = setInterval(sync, RESYNC_MS);
      timer.unref();
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      clearInterval(timer);
      await running;
      if (!lastMasquerade) return;
      const r = await run(['nft', 'delete', 'table', 'ip', table]);
      if (r.code === 0) log.info({ table }, 'pod network masquerade removed');
    },
    resync: sync,
    get peers() {
      return programmed;
    },
  };
}
