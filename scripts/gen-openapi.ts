// Generates src/server/openapi/schemas.json: OpenAPI v3 component schemas for the built-in kinds
// edgeos serves, in the shape of upstream kubernetes api/openapi-spec/v3 (names like
// io.k8s.api.core.v1.PodSpec, `allOf: [$ref]` for nested structs, x-kubernetes-group-version-kind on
// every kind). Source: the kubernetes-types package (Apache-2.0; its doc comments are the upstream
// field descriptions), read with the TypeScript compiler API. Patch metadata
// (x-kubernetes-patch-merge-key/-strategy), which kubectl's client-side apply needs to build
// strategic merge patches, is not in those typings, so it comes from the table below, transcribed
// from the `patchStrategy`/`patchMergeKey` struct tags in k8s.io/api. Nor is the width of an integer
// (TypeScript has only `number`): int32 or int64 comes from @kubernetes/client-node's generated
// models, which carry upstream's OpenAPI formats; typed decoding (openapi/type-check) range-checks
// and names Go types with it.
//
// edgeos's own groups (apps.edgeos.io) are TypeScript types in src/server/kinds (OWN_MODULES below),
// read the same way: their doc comments are the descriptions, and their integers are int32 except
// the fields listed in OWN_INT64.
//
// Run: node scripts/gen-openapi.ts [out.json]   (re-run after upgrading kubernetes-types; the
// default output is the committed module, test/server/openapi checks it is up to date)
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import * as clientNode from '@kubernetes/client-node';
import ts from 'typescript';
import { SCHEMA_PREFIX, typesModule } from '../src/server/openapi/schema-names.ts';
import { builtinResources } from '../src/server/registry/index.ts';

type Schema = Record<string, unknown>;

const root = resolve(import.meta.dirname, '..');
const typesDir = dirname(createRequire(import.meta.url).resolve('kubernetes-types/package.json'));
const outFile = resolve(process.argv[2] ?? join(root, 'src/server/openapi/schemas.json'));

const PACKAGES = SCHEMA_PREFIX;

/** edgeos's own types modules and the file that declares each. */
const OWN_MODULES: Record<string, string> = {
  'edgeos-apps/v1': join(root, 'src/server/kinds/pools-api.ts'),
};
const OWN_INT64 = new Set(['edgeos-apps/v1.PoolSetStatus.observedGeneration']);

/**
 * Kinds whose schemas (and everything they reach) are published: every stored kind the registry
 * serves, plus the bodies of subresources and meta responses. Lists are added automatically.
 */
const ROOT_KINDS: Record<string, string[]> = {
  'core/v1': ['Binding'],
  'policy/v1': ['Eviction'],
  'authentication/v1': ['TokenRequest'],
  'autoscaling/v1': ['Scale'],
  'meta/v1': ['Status', 'DeleteOptions', 'WatchEvent', 'APIResourceList'],
};
for (const r of builtinResources()) {
  const module = typesModule(r.group, r.version);
  if (r.virtual || !PACKAGES[module]) continue;
  (ROOT_KINDS[module] ??= []).push(r.kind);
}

/** patchStrategy/patchMergeKey struct tags of k8s.io/api (types.go), by "<module>.<Type>.<field>". */
const PATCH_META: Record<string, { strategy: string; key?: string }> = {
  'core/v1.PodSpec.volumes': { strategy: 'merge,retainKeys', key: 'name' },
  'core/v1.PodSpec.initContainers': { strategy: 'merge', key: 'name' },
  'core/v1.PodSpec.containers': { strategy: 'merge', key: 'name' },
  'core/v1.PodSpec.ephemeralContainers': { strategy: 'merge', key: 'name' },
  'core/v1.PodSpec.imagePullSecrets': { strategy: 'merge', key: 'name' },
  'core/v1.PodSpec.hostAliases': { strategy: 'merge', key: 'ip' },
  'core/v1.PodSpec.topologySpreadConstraints': { strategy: 'merge', key: 'topologyKey' },
  'core/v1.PodSpec.resourceClaims': { strategy: 'merge,retainKeys', key: 'name' },
  'core/v1.PodSpec.schedulingGates': { strategy: 'merge', key: 'name' },
  'core/v1.Container.ports': { strategy: 'merge', key: 'containerPort' },
  'core/v1.Container.env': { strategy: 'merge', key: 'name' },
  'core/v1.Container.volumeMounts': { strategy: 'merge', key: 'mountPath' },
  'core/v1.Container.volumeDevices': { strategy: 'merge', key: 'devicePath' },
  'core/v1.EphemeralContainer.ports': { strategy: 'merge', key: 'containerPort' },
  'core/v1.EphemeralContainer.env': { strategy: 'merge', key: 'name' },
  'core/v1.EphemeralContainer.volumeMounts': { strategy: 'merge', key: 'mountPath' },
  'core/v1.EphemeralContainer.volumeDevices': { strategy: 'merge', key: 'devicePath' },
  'core/v1.PodStatus.conditions': { strategy: 'merge', key: 'type' },
  'core/v1.PodStatus.podIPs': { strategy: 'merge', key: 'ip' },
  'core/v1.PodStatus.hostIPs': { strategy: 'merge', key: 'ip' },
  'core/v1.PodStatus.resourceClaimStatuses': { strategy: 'merge,retainKeys', key: 'name' },
  'core/v1.ServiceSpec.ports': { strategy: 'merge', key: 'port' },
  'core/v1.ServiceStatus.conditions': { strategy: 'merge', key: 'type' },
  'core/v1.NodeSpec.podCIDRs': { strategy: 'merge' },
  'core/v1.NodeStatus.conditions': { strategy: 'merge', key: 'type' },
  'core/v1.NodeStatus.addresses': { strategy: 'merge', key: 'type' },
  'core/v1.NamespaceStatus.conditions': { strategy: 'merge', key: 'type' },
  'core/v1.ServiceAccount.secrets': { strategy: 'merge', key: 'name' },
  'core/v1.PersistentVolumeClaimStatus.conditions': { strategy: 'merge', key: 'type' },
  'meta/v1.ObjectMeta.finalizers': { strategy: 'merge' },
  'meta/v1.ObjectMeta.ownerReferences': { strategy: 'merge', key: 'uid' },
  'apps/v1.DeploymentSpec.strategy': { strategy: 'retainKeys' },
  'apps/v1.DeploymentStatus.conditions': { strategy: 'merge', key: 'type' },
  'apps/v1.ReplicaSetStatus.conditions': { strategy: 'merge', key: 'type' },
  'apps/v1.DaemonSetStatus.conditions': { strategy: 'merge', key: 'type' },
  'apps/v1.StatefulSetStatus.conditions': { strategy: 'merge', key: 'type' },
  'batch/v1.JobStatus.conditions': { strategy: 'merge', key: 'type' },
  'policy/v1.PodDisruptionBudgetStatus.conditions': { strategy: 'merge', key: 'type' },
  'autoscaling/v2.HorizontalPodAutoscalerStatus.conditions': { strategy: 'merge', key: 'type' },
};

/** Types whose upstream schema is not the structure of their TypeScript rendering. */
const SPECIAL: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
    description: 'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
    format: 'int-or-string',
    // v3 publishes OpenAPIV3OneOfTypes; with no plain `type`, kubectl explain prints <IntOrString>.
    oneOf: [{ type: 'integer' }, { type: 'string' }],
  },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': { type: 'object' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON': { 'x-kubernetes-preserve-unknown-fields': true },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray': { 'x-kubernetes-preserve-unknown-fields': true },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool': { 'x-kubernetes-preserve-unknown-fields': true },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray': { 'x-kubernetes-preserve-unknown-fields': true },
};

/** Fields that are floats or base64 bytes upstream (TypeScript has only number and string). */
const FIELD_FORMAT: Record<string, Schema> = {
  'apiextensions/v1.JSONSchemaProps.maximum': { type: 'number', format: 'double' },
  'apiextensions/v1.JSONSchemaProps.minimum': { type: 'number', format: 'double' },
  'apiextensions/v1.JSONSchemaProps.multipleOf': { type: 'number', format: 'double' },
};
const BYTE_MAPS = new Set(['core/v1.Secret.data', 'core/v1.ConfigMap.binaryData']);

type AttributeTypeMap = { name: string; baseName: string; format: string }[];
const MODELS = clientNode as unknown as Record<string, { getAttributeTypeMap?: () => AttributeTypeMap } | undefined>;

/**
 * int32 or int64 for an integer field, from the client-node model of the same type: `CoreV1Event`
 * where a name exists in several groups, `V1PodSpec` otherwise.
 */
function integerFormat(module: string, type: string, field: string): string {
  if (OWN_MODULES[module]) return OWN_INT64.has(`${module}.${type}.${field}`) ? 'int64' : 'int32';
  const [group = '', version = ''] = module.split('/');
  const v = version.charAt(0).toUpperCase() + version.slice(1);
  for (const candidate of [`${group.charAt(0).toUpperCase()}${group.slice(1)}${v}${type}`, `${v}${type}`]) {
    const attr = MODELS[candidate]?.getAttributeTypeMap?.().find((a) => a.baseName === field);
    if (attr?.format === 'int32' || attr?.format === 'int64') return attr.format;
  }
  throw new Error(`no integer format for ${module}.${type}.${field} in @kubernetes/client-node`);
}

/** Set the integer width of a field's schema (a plain integer or an array of them). */
function withIntegerFormat(schema: Schema, module: string, type: string, field: string): Schema {
  if (schema.type === 'integer') return { ...schema, format: integerFormat(module, type, field) };
  const items = schema.items as Schema | undefined;
  if (schema.type === 'array' && items?.type === 'integer') return { ...schema, items: { ...items, format: integerFormat(module, type, field) } };
  return schema;
}

const moduleFiles = Object.keys(PACKAGES).map((m) => OWN_MODULES[m] ?? join(typesDir, `${m}.d.ts`));
const program = ts.createProgram(moduleFiles, { noEmit: true, skipLibCheck: true, allowImportingTsExtensions: true });
const checker = program.getTypeChecker();

function moduleOf(file: string): string {
  const own = Object.entries(OWN_MODULES).find(([, f]) => resolve(f) === resolve(file));
  return own ? own[0] : relative(typesDir, file).replace(/\.d\.ts$/, '');
}

interface Decl {
  module: string;
  name: string;
  node: ts.InterfaceDeclaration | ts.TypeAliasDeclaration;
}

const declarations = new Map<string, Decl>();
for (const file of moduleFiles) {
  const sf = program.getSourceFile(file);
  if (!sf) throw new Error(`cannot read ${file}`);
  const module = moduleOf(file);
  for (const st of sf.statements)
    if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st))
      declarations.set(`${PACKAGES[module]}.${st.name.text}`, { module, name: st.name.text, node: st });
}

function docOf(node: ts.Node): string {
  const symbol = (node as { symbol?: ts.Symbol }).symbol;
  return symbol ? ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() : '';
}

/** The schema name a type reference points to. */
function refName(ref: ts.TypeReferenceNode): string {
  let symbol = checker.getSymbolAtLocation(ref.typeName);
  if (!symbol) throw new Error(`unresolved type ${ref.typeName.getText()}`);
  if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const decl = symbol.declarations?.[0];
  if (!decl) throw new Error(`no declaration for ${symbol.name}`);
  const module = moduleOf(decl.getSourceFile().fileName);
  const prefix = PACKAGES[module];
  if (!prefix) throw new Error(`type ${symbol.name} comes from unmapped module ${module}`);
  return `${prefix}.${symbol.name}`;
}

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** A schema for a type node; `wrap` puts references in allOf the way upstream v3 does for fields. */
function typeSchema(node: ts.TypeNode, wrap: boolean, reach: Set<string>): Schema {
  if (node.kind === ts.SyntaxKind.StringKeyword) return { type: 'string' };
  if (node.kind === ts.SyntaxKind.NumberKeyword) return { type: 'integer' };
  if (node.kind === ts.SyntaxKind.BooleanKeyword) return { type: 'boolean' };
  if (ts.isLiteralTypeNode(node)) return { type: 'string' };
  if (ts.isArrayTypeNode(node)) return { type: 'array', items: typeSchema(node.elementType, true, reach) };
  if (ts.isUnionTypeNode(node)) {
    const kinds = node.types.map((t) => t.kind).sort();
    if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) {
      reach.add(INT_OR_STRING);
      return wrap ? { allOf: [{ $ref: `#/components/schemas/${INT_OR_STRING}` }] } : { $ref: `#/components/schemas/${INT_OR_STRING}` };
    }
    throw new Error(`unsupported union ${node.getText()}`);
  }
  if (ts.isTypeReferenceNode(node)) {
    if (ts.isIdentifier(node.typeName) && node.typeName.text === 'Array' && node.typeArguments?.[0])
      return { type: 'array', items: typeSchema(node.typeArguments[0], true, reach) };
    const name = refName(node);
    reach.add(name);
    const ref = { $ref: `#/components/schemas/${name}` };
    return wrap ? { allOf: [ref] } : ref;
  }
  if (ts.isTypeLiteralNode(node)) {
    const index = node.members.find(ts.isIndexSignatureDeclaration);
    if (index) return { type: 'object', additionalProperties: typeSchema(index.type, true, reach) };
    if (node.members.length === 0) return { type: 'object' };
  }
  throw new Error(`unsupported type ${node.getText()}`);
}

function declSchema(name: string, decl: Decl, reach: Set<string>): Schema {
  const description = docOf(decl.node);
  const special = SPECIAL[name];
  if (special) return description ? { description, ...special } : { ...special };
  if (ts.isTypeAliasDeclaration(decl.node)) return { description, ...typeSchema(decl.node.type, false, reach) };
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  let group: string | undefined;
  let version: string | undefined;
  let kind: string | undefined;
  for (const member of decl.node.members) {
    if (!ts.isPropertySignature(member) || !member.type) continue;
    const field = member.name.getText().replace(/^["']|["']$/g, '');
    const key = `${decl.module}.${decl.name}.${field}`;
    let schema = FIELD_FORMAT[key] ?? withIntegerFormat(typeSchema(member.type, true, reach), decl.module, decl.name, field);
    if (BYTE_MAPS.has(key)) schema = { type: 'object', additionalProperties: { type: 'string', format: 'byte' } };
    if (ts.isLiteralTypeNode(member.type) && ts.isStringLiteral(member.type.literal)) {
      const literal = member.type.literal.text;
      if (field === 'kind') kind = literal;
      if (field === 'apiVersion') [group, version] = literal.includes('/') ? (literal.split('/') as [string, string]) : ['', literal];
    }
    const fieldDoc = docOf(member);
    const out: Schema = { ...(fieldDoc ? { description: fieldDoc } : {}), ...schema };
    // Upstream marks embedded structs with default {} (they are non-pointer Go structs).
    if (Array.isArray(schema.allOf) && !member.questionToken) out.default = {};
    const patch = PATCH_META[key];
    if (patch) {
      if (patch.key) out['x-kubernetes-patch-merge-key'] = patch.key;
      out['x-kubernetes-patch-strategy'] = patch.strategy;
    }
    properties[field] = out;
    if (!member.questionToken) required.push(field);
  }
  const schema: Schema = { ...(description ? { description } : {}), type: 'object', properties };
  if (required.length) schema.required = required.sort();
  if (kind && version !== undefined) schema['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
  return schema;
}

const schemas: Record<string, Schema> = {};
const queue: string[] = [];
for (const [module, kinds] of Object.entries(ROOT_KINDS))
  for (const kind of kinds) {
    queue.push(`${PACKAGES[module]}.${kind}`);
    const list = `${PACKAGES[module]}.${kind}List`;
    if (declarations.has(list)) queue.push(list);
  }
for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
  if (schemas[name]) continue;
  const decl = declarations.get(name);
  const reach = new Set<string>();
  if (!decl) {
    const special = SPECIAL[name];
    if (!special) throw new Error(`no declaration for ${name}`);
    schemas[name] = special;
    continue;
  }
  schemas[name] = declSchema(name, decl, reach);
  for (const r of reach) if (!schemas[r]) queue.push(r);
}

const sorted = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(outFile, `${JSON.stringify(sorted)}\n`);
console.log(`wrote ${Object.keys(sorted).length} schemas to ${relative(root, outFile)} (${JSON.stringify(sorted).length} bytes)`);
