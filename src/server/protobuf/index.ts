/** Decoding of application/vnd.kubernetes.protobuf request bodies (typed kubectl commands). */
export { decodeKubernetesProtobuf } from './decode.ts';
export { ProtobufDecodeError } from './errors.ts';
export { supportedKinds } from './registry.ts';
