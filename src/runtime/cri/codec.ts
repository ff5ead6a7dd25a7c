/**
 * Protobuf encoding of the CRI messages, driven by the tables in cri/schema.ts (resolved once
 * per message in message-table.ts; encode.ts, decode.ts). It replaces protobufjs reflection +
 * @grpc/proto-loader in the agent (docs/runtime.md: memory), and gives
 * exactly what proto-loader gave with { keepCase: false, longs: String, enums: String,
 * defaults: true, arrays: true, objects: true }:
 * - decode: camelCase keys; every schema field present (scalars at their default, messages null,
 *   repeated fields [], maps {}); enums as names (a number the table does not know stays a
 *   number); int64/uint64 as decimal strings; bytes as Buffers. Unknown fields are skipped.
 * - encode: the same shapes in, plus what protobufjs' fromObject accepts: enums as names or
 *   numbers, 64-bit values as numbers, strings or bigints, bytes as Buffer or base64. null and
 *   undefined fields are left out; keys the schema does not know are ignored.
 */
export { encode } from './encode.ts';
export { decode } from './decode.ts';
