/**
 * apiextensions.k8s.io/v1 CustomResourceDefinition: SetDefaults_CustomResourceDefinition (singular,
 * listKind, conversion None), the commonly hit checks of ValidateCustomResourceDefinition
 * (apiextensions-apiserver pkg/apis/apiextensions/validation), the CREATED AT table, and the write
 * hooks that establish a CRD, serve it, and delete its custom resources with it.
 */
import { child, list, map, maps, setDefault, str } from './access.ts';
import { CREATED_AT_TABLE } from './columns.ts';
import { immutable, invalid, notSupported, required } from './field-errors.ts';
import { isDns1035Label, isDns1123Label, isDns1123Subdomain } from './names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { TxnOp } from '../../store/types.ts';
import { rfc3339 } from './age.ts';
import type { FieldError, KubeObject, WriteHooks } from './types.ts';
import { CRUD, defineKind, storageSegment, statusSubresource, STORED, NO_TTL, NO_DELETION_POLICY, NO_FIELD_SELECTORS, APIEXTENSIONS_PROTO, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';

const SCOPES = ['Cluster', 'Namespaced'];

function defaultCrd(obj: KubeObject): void {
  const spec = child(obj, 'spec');
  const names = child(spec, 'names');
  const kind = str(names.kind);
  if (kind) {
    setDefault(names, 'singular', kind.toLowerCase());
    setDefault(names, 'listKind', `${kind}List`);
  }
  setDefault(child(spec, 'conversion'), 'strategy', 'None');
}

function validateSpec(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = map(obj.spec) ?? {};
  const names = map(spec.names) ?? {};
  const group = str(spec.group) ?? '';
  const plural = str(names.plural) ?? '';
  const name = str(map(obj.metadata)?.name) ?? '';
  if (name !== `${plural}.${group}`) errs.push(invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  if (!group) errs.push(required('spec.group'));
  else {
    for (const msg of isDns1123Subdomain(group)) errs.push(invalid('spec.group', group, msg));
    if (group.split('.').length < 2) errs.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  const scope = str(spec.scope) ?? '';
  if (!scope) errs.push(required('spec.scope'));
  else if (!SCOPES.includes(scope)) errs.push(notSupported('spec.scope', scope, SCOPES));
  if (!plural) errs.push(required('spec.names.plural'));
  else for (const msg of isDns1123Label(plural)) errs.push(invalid('spec.names.plural', plural, msg));
  const singular = str(names.singular);
  if (singular) for (const msg of isDns1123Label(singular)) errs.push(invalid('spec.names.singular', singular, msg));
  const kind = str(names.kind) ?? '';
  if (!kind) errs.push(required('spec.names.kind'));
  const listKind = str(names.listKind) ?? '';
  if (!listKind) errs.push(required('spec.names.listKind'));
  else if (listKind === kind) errs.push(invalid('spec.names.listKind', listKind, 'kind and listKind may not be the same'));
  list(names.shortNames).forEach((s, i) => {
    for (const msg of isDns1123Label(String(s))) errs.push(invalid(`spec.names.shortNames[${i}]`, s, msg));
  });
  const versions = maps(spec.versions);
  if (versions.length === 0) errs.push(invalid('spec.versions', [], 'must have exactly one version marked as storage version'));
  const seen = new Set<string>();
  let storage = 0;
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    const vname = str(v.name) ?? '';
    if (!vname) errs.push(required(`${p}.name`));
    else for (const msg of isDns1035Label(vname)) errs.push(invalid(`${p}.name`, vname, msg));
    if (seen.has(vname)) errs.push(invalid('spec.versions', vname, 'must appear only once'));
    seen.add(vname);
    if (v.storage === true) storage++;
    if (!map(map(v.schema)?.openAPIV3Schema)) errs.push(required(`${p}.schema.openAPIV3Schema`, 'schemas are required'));
  });
  if (versions.length > 0 && storage !== 1) errs.push(invalid('spec.versions', versions.map((v) => str(v.name) ?? ''), 'must have exactly one version marked as storage version'));
  if (versions.length > 0 && !versions.some((v) => v.served === true)) errs.push(invalid('spec.versions', versions.map((v) => str(v.name) ?? ''), 'must have at least one version marked as served'));
  return errs;
}

/**
 * Names accepted and established in the same write (edgeos has no separate naming and establishing
 * controllers): status.acceptedNames, the NamesAccepted and Established conditions, storedVersions.
 */
function establish(obj: KubeObject, now: Date): void {
  const spec = map(obj.spec) ?? {};
  const storage = maps(spec.versions).find((v) => v.storage === true)?.name;
  const time = rfc3339(now);
  const old = map(obj.status) ?? {};
  const stored = new Set(list(old.storedVersions).filter((v): v is string => typeof v === 'string'));
  if (typeof storage === 'string') stored.add(storage);
  obj.status = {
    ...old,
    acceptedNames: spec.names ?? {},
    conditions: [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: time, reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: time, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ],
    storedVersions: [...stored],
  };
}

/**
 * A CRD is served as soon as its write commits; deleting it deletes its custom resources in the
 * same transaction (apiserver does this through the customresourcecleanup finalizer).
 */
const crdHooks: WriteHooks = {
  async beforeCreate(ctx, obj) {
    establish(obj, ctx.now());
    return [];
  },
  async beforeUpdate(ctx, obj) {
    establish(obj, ctx.now());
    return [];
  },
  async beforeDelete(ctx, obj) {
    const spec = map(obj.spec) ?? {};
    const group = str(spec.group);
    const plural = str(map(spec.names)?.plural);
    if (!group || !plural) return [];
    // Every version of the CRD shares this one storage prefix.
    const prefix = `/registry/${storageSegment(group, plural)}/`;
    return (await ctx.store.list(prefix)).kvs.map((kv): TxnOp => ({ op: 'delete', key: kv.key }));
  },
  afterWrite(ctx, name, obj) {
    ctx.serveCrd(name, obj);
  },
};

export const customResourceDefinition = defineKind({
  group: 'apiextensions.k8s.io',
  versions: ['v1'],
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  verbs: CRUD,
  subresources: [statusSubresource('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition')],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: defaultCrd,
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, false), ...validateSpec(obj)];
    const errs = [...validateObjectMetaUpdate(obj, old, false), ...validateSpec(obj)];
    const group = str(map(obj.spec)?.group);
    if (group !== str(map(old.spec)?.group)) errs.push(immutable('spec.group', group ?? ''));
    const plural = str(map(map(obj.spec)?.names)?.plural);
    if (plural !== str(map(map(old.spec)?.names)?.plural)) errs.push(immutable('spec.names.plural', plural ?? ''));
    const scope = str(map(obj.spec)?.scope);
    if (scope !== str(map(old.spec)?.scope)) errs.push(immutable('spec.scope', scope ?? ''));
    return errs;
  },
  table: CREATED_AT_TABLE,
  hooks: crdHooks,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({}),
  protobuf: APIEXTENSIONS_PROTO,
  conversion: NO_CONVERSION,
});
