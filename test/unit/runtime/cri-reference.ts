// The reference the CRI codec is checked against: protobufjs reflection built from the same tables
// (src/runtime/cri/schema.ts), with the options @grpc/proto-loader used to give the runtime before
// the codec replaced it. So the tests compare two independent encoders/decoders on one schema; the
// schema itself is proven by the tests against a real containerd (test/runtime/cri-codec.test.ts).
import protobuf from 'protobufjs';
import { criEnums, criMessages } from '../../../src/runtime/cri/schema.ts';

/** proto-loader's options as src/runtime used them (keepCase false: names are camelCase already). */
export const loaderToObject: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, arrays: true, objects: true };

let root: protobuf.Root | undefined;

export function referenceType(name: string): protobuf.Type {
  if (!root) {
    root = new protobuf.Root();
    const ns = root.define('runtime.v1');
    for (const [enumName, values] of Object.entries(criEnums)) {
      ns.add(new protobuf.Enum(enumName, Object.fromEntries(values.map((v, i) => [v, i]))));
    }
    for (const [messageName, fields] of Object.entries(criMessages)) {
      const t = new protobuf.Type(messageName);
      for (const [fieldName, [no, type, repeated]] of Object.entries(fields)) {
        t.add(type === 'map' ? new protobuf.MapField(fieldName, no, 'string', 'string') : new protobuf.Field(fieldName, no, type, repeated));
      }
      ns.add(t);
    }
    root.resolveAll();
  }
  return root.lookupType(`runtime.v1.${name}`);
}

/** What proto-loader's deserialize gave for these bytes. */
export function referenceDecode(name: string, bytes: Uint8Array): Record<string, unknown> {
  const t = referenceType(name);
  return t.toObject(t.decode(bytes), loaderToObject);
}

/** What proto-loader's serialize sent for this object, decoded again by the reference. */
export function referenceEncode(name: string, obj: object): Uint8Array {
  const t = referenceType(name);
  return t.encode(t.fromObject(obj)).finish();
}
