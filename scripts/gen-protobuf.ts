// Generates src/server/protobuf/schema/messages.generated.json: the protobuf messages of every
// built-in kind edgeos serves (each served version of each descriptor in src/server/kinds, the
// kinds their subresources take, DeleteOptions), and every message they reach, in the compact form
// src/server/protobuf/registry.ts turns into protobufjs types.
//
// Sources (Apache-2.0, © The Kubernetes Authors), read from checkouts given on the command line:
//  - the `generated.proto` of each package (k8s.io/api, k8s.io/apimachinery,
//    k8s.io/apiextensions-apiserver): message names, field names, numbers and wire types;
//  - the Go structs of the same packages (`types.go`): what protobuf does not say but Kubernetes'
//    JSON encoding depends on — the JSON name (`json:"x-kubernetes-…"` differs from the proto
//    name), whether a scalar survives when zero (a Go pointer, or a field without `omitempty`:
//    flag `k`), whether a struct is embedded inline (`json:",inline"`: flag `i`), and which
//    messages are Go slices wrapped for protobuf (`type ExtraValue []string`: JSON is the list).
//
// Run: node scripts/gen-protobuf.ts --api <k8s.io/api> --apimachinery <k8s.io/apimachinery>
//      --apiextensions <k8s.io/apiextensions-apiserver> [out.json]
// (re-run when a kind is added; test/server/protobuf checks every served kind has its message).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_KINDS } from '../src/server/kinds/builtin.ts';
import { EXTRA_MESSAGES, protoPackage } from '../src/server/protobuf/packages.ts';
import type { GeneratedMessages, GeneratedField } from '../src/server/protobuf/packages.ts';
import { isNone } from '../src/server/kinds/types.ts';

const { values, positionals } = parseArgs({
  options: { api: { type: 'string' }, apimachinery: { type: 'string' }, apiextensions: { type: 'string' } },
  allowPositionals: true,
});
if (!values.api || !values.apimachinery || !values.apiextensions) {
  console.error('usage: node scripts/gen-protobuf.ts --api <dir> --apimachinery <dir> --apiextensions <dir> [out.json]');
  process.exit(2);
}
const root = resolve(import.meta.dirname, '..');
const outFile = resolve(positionals[0] ?? join(root, 'src/server/protobuf/schema/messages.generated.json'));

/** Proto package → the directory holding its generated.proto and Go files. */
function packageDir(pkg: string): string {
  const api = /^k8s\.io\.api\.(.+)$/.exec(pkg);
  if (api) return join(values.api!, ...api[1]!.split('.'));
  const machinery = /^k8s\.io\.apimachinery\.(.+)$/.exec(pkg);
  if (machinery) return join(values.apimachinery!, ...machinery[1]!.split('.'));
  const ext = /^k8s\.io\.apiextensions_apiserver\.(.+)$/.exec(pkg);
  if (ext) return join(values.apiextensions!, ...ext[1]!.split('.'));
  throw new Error(`no source directory for proto package ${pkg}`);
}

interface ProtoField { name: string; number: number; type: string; repeated: boolean; map?: { key: string; value: string } }
interface ProtoMessage { pkg: string; name: string; fields: ProtoField[] }
interface GoField { json: string; pointer: boolean; omitempty: boolean; inline: boolean }
interface GoPackage { structs: Map<string, Map<number, GoField>>; sliceTypes: Set<string> }

const protoCache = new Map<string, Map<string, ProtoMessage>>();
const goCache = new Map<string, GoPackage>();

const SCALARS = new Set(['string', 'bool', 'bytes', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float', 'sint32', 'sint64', 'fixed32', 'fixed64']);

/** The messages of one package's generated.proto (no nested messages, no enums in these files). */
function protoPackageMessages(pkg: string): Map<string, ProtoMessage> {
  const cached = protoCache.get(pkg);
  if (cached) return cached;
  const text = readFileSync(join(packageDir(pkg), 'generated.proto'), 'utf8').replace(/\/\/.*$/gm, '');
  const declared = /^package\s+([\w.]+);/m.exec(text)?.[1];
  if (declared !== pkg) throw new Error(`${packageDir(pkg)}/generated.proto declares package ${declared}, expected ${pkg}`);
  const out = new Map<string, ProtoMessage>();
  for (const m of text.matchAll(/^message\s+(\w+)\s*\{([^}]*)\}/gm)) {
    const fields: ProtoField[] = [];
    for (const f of m[2]!.matchAll(/^\s*(?:(optional|repeated)\s+([\w.]+)|map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>)\s+(\w+)\s*=\s*(\d+)/gm)) {
      if (f[3]) fields.push({ name: f[5]!, number: Number(f[6]), type: '', repeated: false, map: { key: f[3], value: qualify(pkg, f[4]!) } });
      else fields.push({ name: f[5]!, number: Number(f[6]), type: qualify(pkg, f[2]!), repeated: f[1] === 'repeated' });
    }
    out.set(m[1]!, { pkg, name: m[1]!, fields });
  }
  protoCache.set(pkg, out);
  return out;
}

/** A field type as an absolute name (".pkg.Msg") or a scalar. */
function qualify(pkg: string, type: string): string {
  if (SCALARS.has(type)) return type;
  if (type.startsWith('.')) return type;
  return `.${pkg}.${type}`;
}

/** Go structs of a package by name: per protobuf field number, the JSON facts of the Go field. */
function goPackage(pkg: string): GoPackage {
  const cached = goCache.get(pkg);
  if (cached) return cached;
  const dir = packageDir(pkg);
  const structs = new Map<string, Map<number, GoField>>();
  const sliceTypes = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go') && !f.startsWith('zz_') && !f.startsWith('generated'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const s of text.matchAll(/^type\s+(\w+)\s+\[\][\w.]+\s*$/gm)) sliceTypes.add(s[1]!);
    for (const s of text.matchAll(/^type\s+(\w+)\s+struct\s*\{(?:\s*\}|([\s\S]*?)^\})/gm)) {
      const fields = new Map<number, GoField>();
      for (const line of (s[2] ?? '').split('\n')) {
        const tag = /`([^`]*)`/.exec(line)?.[1];
        if (!tag) continue;
        const proto = /protobuf:"[a-z0-9]+,(\d+),/.exec(tag);
        if (!proto) continue;
        const json = /json:"([^"]*)"/.exec(tag)?.[1] ?? '';
        const [jsonName = '', ...opts] = json.split(',');
        const decl = line.slice(0, line.indexOf('`')).trim().split(/\s+/);
        const embedded = decl.length === 1;
        const goType = embedded ? decl[0]! : decl[1]!;
        // encoding/json promotes the fields of an embedded struct that has no JSON name of its own.
        const inline = opts.includes('inline') || (embedded && jsonName === '');
        fields.set(Number(proto[1]), { json: jsonName, pointer: goType.startsWith('*'), omitempty: opts.includes('omitempty'), inline });
      }
      structs.set(s[1]!, fields);
    }
  }
  const out = { structs, sliceTypes };
  goCache.set(pkg, out);
  return out;
}

function splitName(full: string): { pkg: string; name: string } {
  const i = full.lastIndexOf('.');
  return { pkg: full.slice(1, i), name: full.slice(i + 1) };
}

// The apimachinery types with hand-written JSON (src/server/protobuf/to-json.ts) and the envelope:
// their fields are taken as they are, no Go struct is read.
const HAND_WRITTEN = new Set([
  '.k8s.io.apimachinery.pkg.apis.meta.v1.Time', '.k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime', '.k8s.io.apimachinery.pkg.apis.meta.v1.Duration',
  '.k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1', '.k8s.io.apimachinery.pkg.api.resource.Quantity', '.k8s.io.apimachinery.pkg.util.intstr.IntOrString',
  '.k8s.io.apimachinery.pkg.runtime.RawExtension', '.k8s.io.apimachinery.pkg.runtime.Unknown', '.k8s.io.apimachinery.pkg.runtime.TypeMeta',
  '.k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON', '.k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray',
  '.k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool', '.k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray',
]);

const messages: GeneratedMessages = {};

function add(full: string): void {
  if (messages[full]) return;
  const { pkg, name } = splitName(full);
  const m = protoPackageMessages(pkg).get(name);
  if (!m) throw new Error(`message ${full} is not in ${packageDir(pkg)}/generated.proto`);
  const go = HAND_WRITTEN.has(full) ? undefined : goPackage(pkg);
  const goFields = go?.structs.get(name);
  const isList = go?.sliceTypes.has(name) ?? false;
  if (go && !goFields && !isList) throw new Error(`no Go struct ${name} in ${packageDir(pkg)}`);
  const fields: GeneratedField[] = [];
  messages[full] = isList ? { list: true, fields } : { fields };
  for (const f of m.fields) {
    const g = goFields?.get(f.number);
    let flags = '';
    if (f.repeated) flags += 'r';
    if (g?.inline) flags += 'i';
    else if (g && (g.pointer || !g.omitempty)) flags += 'k';
    const type = f.map ? `map:${f.map.key}:${f.map.value}` : f.type;
    const field: GeneratedField = [f.name, f.number, type, flags];
    if (g && !g.inline && g.json !== f.name) field.push(g.json);
    fields.push(field);
    const ref = f.map ? f.map.value : f.type;
    if (ref.startsWith('.')) add(ref);
  }
}

const roots = new Set<string>(['.k8s.io.apimachinery.pkg.runtime.Unknown', ...EXTRA_MESSAGES.map((m) => `.${m.message}`)]);
for (const k of BUILTIN_KINDS) {
  if (isNone(k.protobuf)) continue;
  for (const version of k.versions) roots.add(`.${protoPackage(k.protobuf, k.group, version)}.${k.kind}`);
  for (const s of k.subresources) {
    const r = s.responseKind;
    if (r.kind !== k.kind) roots.add(`.${protoPackage('k8s.io/api', r.group, r.version)}.${r.kind}`);
  }
}
for (const r of [...roots].sort()) {
  const { pkg } = splitName(r);
  if (!existsSync(join(packageDir(pkg), 'generated.proto'))) throw new Error(`no generated.proto for ${r}`);
  add(r);
}

const sorted = Object.fromEntries(Object.keys(messages).sort().map((k) => [k, messages[k]]));
writeFileSync(outFile, JSON.stringify(sorted) + '\n');
console.log(`${Object.keys(sorted).length} messages from ${roots.size} roots → ${outFile}`);
