/**
 * The protobuf definitions of the built-in kinds, built once on first use from the generated table
 * (schema/messages.generated.json: upstream generated.proto field numbers and types with the Go
 * JSON facts, scripts/gen-protobuf.ts), and the message of each apiVersion/kind a client may send:
 * every served version of every kind whose descriptor names a protobuf origin, the kinds its
 * subresources take (Scale, Eviction, Binding), and EXTRA_MESSAGES.
 */
import protobuf from 'protobufjs';
import { BUILTIN_KINDS } from '../kinds/builtin.ts';
import { present } from '../kinds/types.ts';
import { EXTRA_MESSAGES, protoPackage } from './packages.ts';
import type { GeneratedMessages } from './packages.ts';
import generated from './schema/messages.generated.json' with { type: 'json' };

const table = generated as unknown as GeneratedMessages;

const apiVersionOf = (group: string, version: string): string => (group ? `${group}/${version}` : version);

function servedMessages(): Map<string, string> {
  const out = new Map<string, string>();
  const add = (apiVersion: string, kind: string, message: string) => {
    if (table[`.${message}`] && !out.has(`${apiVersion}/${kind}`)) out.set(`${apiVersion}/${kind}`, message);
  };
  for (const k of BUILTIN_KINDS) {
    const origin = present(k.protobuf);
    if (!origin) continue;
    for (const v of k.versions) add(apiVersionOf(k.group, v), k.kind, `${protoPackage(origin, k.group, v)}.${k.kind}`);
    for (const s of k.subresources) {
      const r = s.responseKind;
      add(apiVersionOf(r.group, r.version), r.kind, `${protoPackage('k8s.io/api', r.group, r.version)}.${r.kind}`);
    }
  }
  for (const m of EXTRA_MESSAGES) add(m.apiVersion, m.kind, m.message);
  return out;
}

let kinds: Map<string, string> | undefined;
let root: protobuf.Root | undefined;

/** What to-json.ts reads of a field beyond protobuf: flags and the JSON name. */
export interface FieldFacts {
  readonly keep: boolean;
  readonly inline: boolean;
  readonly json: string;
}

const facts = new WeakMap<protobuf.FieldBase, FieldFacts>();
const lists = new WeakSet<protobuf.Type>();

export function fieldFacts(field: protobuf.FieldBase): FieldFacts {
  return facts.get(field) ?? { keep: false, inline: false, json: field.name };
}

/** A Go slice type wrapped for protobuf: its JSON is the `items` list. */
export function isListWrapper(type: protobuf.Type): boolean {
  return lists.has(type);
}

function loadRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  for (const [full, m] of Object.entries(table)) {
    const dot = full.lastIndexOf('.');
    const type = new protobuf.Type(full.slice(dot + 1));
    for (const [name, id, typeName, flags, json] of m.fields) {
      let field: protobuf.Field | protobuf.MapField;
      if (typeName.startsWith('map:')) {
        const [, key = 'string', value = 'string'] = typeName.split(':');
        field = new protobuf.MapField(name, id, key, value);
      } else {
        field = new protobuf.Field(name, id, typeName, flags.includes('r') ? 'repeated' : 'optional');
      }
      facts.set(field, { keep: flags.includes('k'), inline: flags.includes('i'), json: json ?? name });
      type.add(field);
    }
    if (m.list) lists.add(type);
    r.define(full.slice(1, dot)).add(type);
  }
  r.resolveAll();
  root = r;
  return r;
}

export function unknownType(): protobuf.Type {
  return loadRoot().lookupType('.k8s.io.apimachinery.pkg.runtime.Unknown');
}

/** The message type for apiVersion/kind, or undefined when this server has no definition. */
export function typeFor(apiVersion: string, kind: string): protobuf.Type | undefined {
  kinds ??= servedMessages();
  const name = kinds.get(`${apiVersion}/${kind}`);
  return name === undefined ? undefined : loadRoot().lookupType(`.${name}`);
}

/** The apiVersion/kind pairs that decode (for tests and error messages). */
export function supportedKinds(): string[] {
  kinds ??= servedMessages();
  return [...kinds.keys()];
}
