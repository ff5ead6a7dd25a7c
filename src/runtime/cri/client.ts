import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { errorMessage } from '../../common/errors.ts';
import { fromGrpcStatus, grpcCode, RuntimeError, RuntimeUnavailableError } from '../errors.ts';
import { criProto } from './proto.ts';
import { imageMethods } from './wire.ts';
import type { CriMethod, CriResponses } from './wire.ts';

/** Options that shape what grpc-js hands back; cri/wire.ts describes the result. */
export const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

let cachedDefinition: grpc.GrpcObject | undefined;

/**
 * The runtime.v1 package, built from the embedded schema string: protobufjs parses it and
 * proto-loader turns the reflection JSON into service definitions, so nothing is read from disk.
 */
export function criPackage(): grpc.GrpcObject {
  if (!cachedDefinition) {
    // protobufjs applies keepCase while parsing; proto-loader's fromJSON takes names as they are.
    const root = protobuf.parse(criProto, { keepCase: false }).root;
    const def = protoLoader.fromJSON(root.toJSON(), loaderOptions);
    cachedDefinition = grpc.loadPackageDefinition(def);
  }
  return cachedDefinition;
}

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

type UnaryMethod = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
type ServiceClient = grpc.Client & Record<string, UnaryMethod>;

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
  private readonly runtime: ServiceClient;
  private readonly image: ServiceClient;
  private readonly defaultTimeoutMs: number;

  constructor(opts: CriClientOptions) {
    this.endpoint = endpointAddress(opts.endpoint);
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? 120_000;
    const pkg = criPackage() as unknown as { runtime: { v1: Record<string, grpc.ServiceClientConstructor> } };
    const creds = grpc.credentials.createInsecure();
    const RuntimeService = pkg.runtime.v1.RuntimeService!;
    const ImageService = pkg.runtime.v1.ImageService!;
    this.runtime = new RuntimeService(this.endpoint, creds, channelOptions) as unknown as ServiceClient;
    // Same address and options: grpc-js shares one subchannel (one connection) between both.
    this.image = new ImageService(this.endpoint, creds, channelOptions) as unknown as ServiceClient;
  }

  async call<M extends CriMethod>(method: M, request: object, opts: CallOptions = {}): Promise<CriResponses[M]> {
    const client = imageMethods.has(method) ? this.image : this.runtime;
    const fn = client[method];
    if (typeof fn !== 'function') throw new RuntimeError('EDGEOS_RUNTIME_CALL_FAILED', `${method}: not in the CRI schema`);
    const deadline = Date.now() + (opts.timeoutMs ?? this.defaultTimeoutMs);
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<CriResponses[M]>((resolve, reject) => {
          fn.call(client, request, new grpc.Metadata(), { deadline }, (err, res) => {
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
    this.runtime.close();
    this.image.close();
  }
}
