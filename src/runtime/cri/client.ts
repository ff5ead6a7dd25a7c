import * as grpc from '@grpc/grpc-js';
import { errorMessage } from '../../common/errors.ts';
import { fromGrpcStatus, grpcCode, RuntimeError, RuntimeUnavailableError } from '../errors.ts';
import { decode, encode } from './codec.ts';
import { criServices } from './schema.ts';
import type { CriMethod, CriResponses } from './wire.ts';

/** One RPC as grpc-js needs it: the path and plain functions to turn messages into bytes and back. */
export interface CriRpc {
  readonly path: string;
  readonly serialize: (request: object) => Buffer;
  readonly deserialize: (bytes: Buffer) => unknown;
}

/**
 * Every CRI method edgeos calls, keyed by name. The codec (cri/codec.ts, tables in cri/schema.ts)
 * stands in for protobufjs reflection and @grpc/proto-loader, which cost the agent ~10 MB of heap
 * and code for one small schema (docs/runtime.md).
 */
export const criRpcs: ReadonlyMap<string, CriRpc> = new Map(
  Object.entries(criServices).flatMap(([service, methods]) => methods.map((method): [string, CriRpc] => [method, {
    path: `/runtime.v1.${service}/${method}`,
    serialize: (request) => encode(`${method}Request`, request),
    deserialize: (bytes) => decode(`${method}Response`, bytes),
  }])),
);

/** Channel options shared by the client and the benchmark's raw baseline. */
export const channelOptions: grpc.ChannelOptions = {
  // ExecSync output is capped at 16 MiB per stream by the CRI; leave room for both.
  'grpc.max_receive_message_length': 40 * 1024 * 1024,
  // After a containerd restart the default backoff (1 s growing to 120 s) would keep the channel
  // down long after the socket is back.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

export interface CallOptions {
  /** Deadline for the whole call including retries; default CriClientOptions.defaultTimeoutMs. */
  timeoutMs?: number;
}

export interface CriClientOptions {
  /** unix:///path/to/containerd.sock or a bare absolute socket path. */
  endpoint: string;
  /** kubelet's --runtime-request-timeout default is 2 minutes. */
  defaultTimeoutMs?: number;
}

export function endpointAddress(endpoint: string): string {
  return endpoint.startsWith('unix:') ? endpoint : `unix://${endpoint}`;
}

/**
 * A typed CRI client: every call has a deadline, UNAVAILABLE (containerd starting or restarting)
 * is retried with backoff until that deadline, and failures become RuntimeErrors. Retrying is safe
 * for the create calls too: UNAVAILABLE means the request never reached containerd, and a
 * duplicate that did is refused by containerd's name reservation ("name is reserved").
 */
export class CriClient {
  readonly endpoint: string;
  private readonly client: grpc.Client;
  private readonly defaultTimeoutMs: number;

  constructor(opts: CriClientOptions) {
    this.endpoint = endpointAddress(opts.endpoint);
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? 120_000;
    // One channel (one connection) for both services: a method's path names its service.
    this.client = new grpc.Client(this.endpoint, grpc.credentials.createInsecure(), channelOptions);
  }

  async call<M extends CriMethod>(method: M, request: object, opts: CallOptions = {}): Promise<CriResponses[M]> {
    const rpc = criRpcs.get(method);
    if (!rpc) throw new RuntimeError('RUNTIME_CALL_FAILED', `${method}: not in the CRI schema`);
    const deadline = Date.now() + (opts.timeoutMs ?? this.defaultTimeoutMs);
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<CriResponses[M]>((resolve, reject) => {
          this.client.makeUnaryRequest(rpc.path, rpc.serialize, rpc.deserialize, request, new grpc.Metadata(), { deadline }, (err, res) => {
            if (err) reject(err);
            else resolve(res as CriResponses[M]);
          });
        });
      } catch (err) {
        const e = err as Partial<grpc.ServiceError>;
        const wait = Math.min(1000, 50 * 2 ** attempt);
        if (e.code === grpcCode.UNAVAILABLE && Date.now() + wait < deadline) {
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        if (e.code === undefined) throw new RuntimeUnavailableError(`${method}: ${errorMessage(err)}`, { cause: err });
        throw fromGrpcStatus(method, e.code, e.details ?? errorMessage(err), err);
      }
    }
  }

  close(): void {
    this.client.close();
  }
}
