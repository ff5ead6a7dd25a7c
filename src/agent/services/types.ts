/**
 * The contract of the Service datapath (docs/services.md). Desired state in, one nftables
 * transaction out: `planServices` (pure) turns the cached Services and EndpointSlices into one
 * plan per Service port, `renderRuleset` (pure) turns plans into the node's table, `nftScript`
 * (pure) into the one transaction that takes the kernel from the last applied table to it, and
 * the applier hands that to `nft -f` and keeps the last table the kernel accepted.
 */

export type L4Protocol = 'tcp' | 'udp' | 'sctp';

export interface EndpointTarget {
  readonly ip: string;
  readonly port: number;
  /** On this node (externalTrafficPolicy/internalTrafficPolicy Local). */
  readonly local: boolean;
}

/** One port of one Service, with the endpoints each kind of traffic goes to. */
export interface ServicePortPlan {
  /** `<ns>/<name>/<protocol>/<port name>`: names the chains, stable across changes. */
  readonly id: string;
  /** `<ns>/<name>`, for logs and Events. */
  readonly service: string;
  readonly protocol: L4Protocol;
  readonly clusterIP: string | undefined;
  readonly port: number;
  readonly nodePort: number | undefined;
  /** spec.externalIPs and status.loadBalancer.ingress IPs: traffic to <ip>:<port> from outside. */
  readonly externalIPs: readonly string[];
  /** sessionAffinity ClientIP: its timeout in seconds. */
  readonly affinitySeconds: number | undefined;
  /** Where ClusterIP traffic goes (internalTrafficPolicy applied). Empty: rejected. */
  readonly clusterEndpoints: readonly EndpointTarget[];
  /** externalTrafficPolicy Local: external traffic only to local endpoints, with its source kept. */
  readonly externalLocal: boolean;
  /** Where external traffic goes under externalTrafficPolicy Local (the local endpoints). */
  readonly localEndpoints: readonly EndpointTarget[];
}

/** What the node itself contributes to the datapath. */
export interface DatapathSettings {
  /** Names the table: `ip <table>`. */
  readonly table: string;
  readonly serviceCidr: string;
  /** The cluster DNS address, answered by the agent on this node (never proxied). */
  readonly clusterDns: string;
  /** This node's pod CIDR: traffic from elsewhere to a Service is masqueraded. */
  readonly podCidr: string;
}

export interface Chain {
  /** `type nat hook prerouting priority dstnat; policy accept;` for base chains. */
  readonly hook?: string;
  readonly rules: readonly string[];
}

/** A piece of the table: chains, map/set declarations and the elements it adds to maps and sets. */
export interface Fragment {
  readonly chains: ReadonlyMap<string, Chain>;
  /** Map and set name → what it is and its declaration body (`type …; flags …;`). */
  readonly containers: ReadonlyMap<string, { readonly kind: 'map' | 'set'; readonly body: string }>;
  /** `<map or set> <key>` → the element value ('' for a set element). */
  readonly elements: ReadonlyMap<string, { readonly container: string; readonly key: string; readonly value: string }>;
}

/**
 * The node's whole table as data: the fixed part and one fragment per Service port, so two tables
 * can be compared and a port the kernel refused can be kept at its last good fragment.
 */
export interface Ruleset {
  readonly base: Fragment;
  readonly ports: ReadonlyMap<string, Fragment>;
}

/** Runs `nft`: `-f -` with the script on stdin (`check` adds `--check`, which applies nothing). */
export type NftRunner = (script: string, opts?: { check?: boolean }) => Promise<void>;
