/**
 * The embedded proto definitions, parsed once on first use (the single executable reads no .proto
 * files), and the message type of each apiVersion/kind a typed kubectl command sends (the kind
 * descriptors name them).
 */
import protobuf from 'protobufjs';
import { BUILTIN_KINDS } from '../kinds/builtin.ts';
import { present } from '../kinds/types.ts';
import { authenticationV1Proto, networkingV1Proto, policyV1Proto, rbacV1Proto, schedulingV1Proto } from './schema/access.ts';
import { coreV1Proto } from './schema/core.ts';
import { metaProto, metaV1Proto } from './schema/meta.ts';
import { appsV1Proto, autoscalingV1Proto, batchV1Proto } from './schema/workloads.ts';

// The built-in kinds' messages (each descriptor's `protobuf`), and DeleteOptions, which travels as
// v1 (drain's DELETE fallback) or meta.k8s.io/v1.
const kinds: ReadonlyMap<string, string> = new Map([
  ...BUILTIN_KINDS.flatMap((k) => present(k.protobuf) ?? []).map((m): [string, string] => [`${m.apiVersion}/${m.kind}`, m.message]),
  ['v1/DeleteOptions', 'meta.DeleteOptions'],
  ['meta.k8s.io/v1/DeleteOptions', 'meta.DeleteOptions'],
]);

let root: protobuf.Root | undefined;

function loadRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  for (const text of [
    metaProto, metaV1Proto, coreV1Proto, appsV1Proto, batchV1Proto, autoscalingV1Proto,
    rbacV1Proto, policyV1Proto, schedulingV1Proto, networkingV1Proto, authenticationV1Proto,
  ]) {
    // keepCase: field names are the JSON names already (go-to-protobuf uses the json tags).
    protobuf.parse(text, r, { keepCase: true });
  }
  r.resolveAll();
  root = r;
  return r;
}

export function unknownType(): protobuf.Type {
  return loadRoot().lookupType('runtime.Unknown');
}

/** The message type for apiVersion/kind, or undefined when this server has no definition. */
export function typeFor(apiVersion: string, kind: string): protobuf.Type | undefined {
  const name = kinds.get(`${apiVersion}/${kind}`);
  return name === undefined ? undefined : loadRoot().lookupType(name);
}

/** The apiVersion/kind pairs that decode (for tests and error messages). */
export function supportedKinds(): string[] {
  return [...kinds.keys()];
}
