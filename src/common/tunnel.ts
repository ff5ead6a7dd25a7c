/**
 * The tunnel contract shared by the server and the agent: how the API server reaches a pod on a
 * node it cannot dial. The agent keeps one outbound link to the server (src/server/link,
 * src/agent/link); over it the server opens byte streams, one per kubectl logs/exec/attach/
 * port-forward request or node proxy read.
 *
 * Like the kubelet, the agent does not speak kubectl's streaming protocols itself: for exec,
 * attach and port-forward it asks the runtime for the CRI streaming URL, replays the client's HTTP
 * upgrade request to containerd's streaming server, and pipes bytes both ways. WebSocket
 * (v5.channel.k8s.io, SPDY-in-WebSocket for port-forward) or kubectl's SPDY/3.1 fallback then run
 * end to end between kubectl and containerd, exit codes included.
 */
import type { Duplex } from 'node:stream';

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export type TunnelRequest =
  | (PodRef & {
      readonly kind: 'logs';
      readonly container: string;
      readonly follow: boolean;
      readonly previous: boolean;
      readonly timestamps: boolean;
      readonly tailLines?: number;
      readonly sinceSeconds?: number;
      /** RFC 3339. */
      readonly sinceTime?: string;
      readonly limitBytes?: number;
    })
  | (PodRef & {
      readonly kind: 'exec';
      readonly container: string;
      readonly command: readonly string[];
      readonly stdin: boolean;
      readonly stdout: boolean;
      readonly stderr: boolean;
      readonly tty: boolean;
    })
  | (PodRef & {
      readonly kind: 'attach';
      readonly container: string;
      readonly stdin: boolean;
      readonly stdout: boolean;
      readonly stderr: boolean;
      readonly tty: boolean;
    })
  | (PodRef & { readonly kind: 'portforward'; readonly ports: readonly number[] })
  | NodeHttpRequest;

/**
 * A read of the node's own HTTP endpoints (`/api/v1/nodes/<n>/proxy/<path>`: healthz, pods,
 * stats/summary, metrics, metrics/resource, metrics/cadvisor), answered by the agent as its kubelet
 * would answer on port 10250. The stream carries NodeHttpHead as one JSON line, then the body.
 */
export interface NodeHttpRequest {
  readonly kind: 'node-http';
  /** Without the leading slash, e.g. "stats/summary". */
  readonly path: string;
  /** The query string without '?' ('' for none). */
  readonly query: string;
}

/** The first line of a node-http stream, before the body bytes. */
export interface NodeHttpHead {
  readonly status: number;
  readonly contentType: string;
}

export interface TunnelOpen {
  readonly request: TunnelRequest;
  /**
   * For exec, attach and portforward: the client's HTTP upgrade request head (request line and
   * headers, ending with the blank line), which the agent replays to the CRI streaming URL with
   * the path replaced. The stream then carries the raw bytes of that connection both ways.
   * For logs: absent; the stream carries the log text from agent to server and ends with it.
   */
  readonly httpHead?: Buffer;
}

/** Server side: implemented by the link registry (src/server/link). */
export interface NodeTunnel {
  /**
   * A byte stream to `node`'s agent serving `open`. Rejects with an EdgeosError whose code is
   * 'TUNNEL_NO_AGENT' when the node has no live link (the API answers 503 with its message) and
   * 'TUNNEL_FAILED' when the agent refused the request (message from the agent, e.g. the
   * container does not exist).
   */
  open(node: string, open: TunnelOpen, signal?: AbortSignal): Promise<Duplex>;
}

/** Agent side: implemented in src/agent/tunnel; the agent's link hands it every stream it opens. */
export interface TunnelHandler {
  /**
   * Serves one stream. Throwing before writing anything makes the link report TUNNEL_FAILED with
   * the error's message to the server; afterwards errors end the stream.
   */
  handle(open: TunnelOpen, stream: Duplex): Promise<void>;
}
