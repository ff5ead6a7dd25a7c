import type { KubeObject } from '../kinds/types.ts';
import { corrupt, unsupportedKind } from './errors.ts';
import { typeFor, unknownType } from './registry.ts';
import { messageToJson } from './to-json.ts';

// k8s.io/apimachinery/pkg/runtime/serializer/protobuf: every protobuf body starts with these bytes.
const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/**
 * Decode an application/vnd.kubernetes.protobuf request body (`k8s\0` + runtime.Unknown wrapping
 * TypeMeta and the object's bytes) into the JSON object Kubernetes' JSON encoding would give.
 * Throws ProtobufDecodeError: 400 for bytes that do not decode, 415 for a kind without definitions.
 * Fields this server's trimmed definitions do not know are skipped, like any protobuf reader does.
 */
export function decodeKubernetesProtobuf(body: Buffer): KubeObject {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) {
    throw corrupt('the body does not start with the Kubernetes protobuf prefix "k8s\\x00"');
  }
  let envelope: Record<string, unknown>;
  try {
    envelope = unknownType().decode(body.subarray(magic.length)) as unknown as Record<string, unknown>;
  } catch (err) {
    throw corrupt(`invalid runtime.Unknown envelope: ${(err as Error).message}`, err);
  }
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (typeof envelope.contentEncoding === 'string' && envelope.contentEncoding !== '') {
    throw corrupt(`content encoding ${JSON.stringify(envelope.contentEncoding)} is not supported`);
  }
  const type = typeFor(apiVersion, kind);
  if (!type) throw unsupportedKind(apiVersion, kind);
  let message: Record<string, unknown>;
  try {
    message = type.decode((envelope.raw ?? new Uint8Array()) as Uint8Array) as unknown as Record<string, unknown>;
  } catch (err) {
    throw corrupt(`invalid ${kind} (${apiVersion}): ${(err as Error).message}`, err);
  }
  return { apiVersion, kind, ...messageToJson(type, message) };
}
