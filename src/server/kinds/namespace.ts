/**
 * core/v1 Namespace: the registry's PrepareForCreate (spec.finalizers [kubernetes]) and
 * SetDefaults_NamespaceStatus (phase Active), ValidateNamespace (DNS-1123 label names) and
 * printNamespace, the create hook and the deletion policy (always through Terminating).
 */
import { child, list, map, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid } from './field-errors.ts';
import { isQualifiedName } from './names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { DeletionPolicy, FieldError, KubeObject, WriteHooks } from './types.ts';
import { defineKind, gvk, statusSubresource, STORED, NO_TTL, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind, statusWithConditions } from '../patch/merge-keys-core.ts';
import { atomic, struct } from '../patch/merge-keys.ts';
import { pathFields } from './selectable-fields.ts';

function validateFinalizers(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of list(map(obj.spec)?.finalizers)) {
    const name = String(f);
    // validateFinalizerName: "kubernetes" or a qualified name with a domain.
    if (name === 'kubernetes') continue;
    for (const msg of isQualifiedName(name)) errs.push(invalid('spec.finalizers', name, msg));
    if (!name.includes('/') && isQualifiedName(name).length === 0)
      errs.push(invalid('spec.finalizers', name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

/**
 * What the registry's PrepareForCreate sets whatever the client sent: the
 * `kubernetes.io/metadata.name` label, the `kubernetes` finalizer unless spec.finalizers is given,
 * and phase Active.
 */
const namespaceHooks: WriteHooks = {
  async beforeCreate(_ctx, obj) {
    const m = child(obj, 'metadata');
    const labels = child(m, 'labels');
    labels['kubernetes.io/metadata.name'] = str(m.name) ?? '';
    const spec = child(obj, 'spec');
    if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
    obj.status = { phase: 'Active' };
    return [];
  },
};

/**
 * A namespace always passes through Terminating: the first delete marks it, and it goes once the
 * namespace controller has emptied it and removed the `kubernetes` finalizer from spec.finalizers.
 */
const namespaceDeletion: DeletionPolicy = {
  terminate(obj) {
    obj.status = { ...map(obj.status), phase: 'Terminating' };
  },
  finalizers: (obj) => list(map(obj.spec)?.finalizers),
};

export const namespace = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'Namespace',
  plural: 'namespaces',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [
    statusSubresource('', 'v1', 'Namespace'),
    { name: 'finalize', responseKind: gvk('', 'v1', 'Namespace'), verbs: ['update'], handler: 'finalize' },
  ],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    const spec = child(obj, 'spec');
    setDefault(spec, 'finalizers', ['kubernetes']);
    setDefault(child(obj, 'status'), 'phase', 'Active');
  },
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, false, 'dns1123-label'), ...validateFinalizers(obj)];
    return [...validateObjectMetaUpdate(obj, old, false, 'dns1123-label'), ...validateFinalizers(obj)];
  },
  table: {
    columns: [NAME_COLUMN, col('Status', 'The status of the namespace'), AGE_COLUMN],
    row(obj, now) {
      return [nameOf(obj), str(map(obj.status)?.phase) ?? '', ageOf(obj, now)];
    },
  },
  hooks: namespaceHooks,
  deletion: namespaceDeletion,
  fieldSelectors: pathFields('status.phase'),
  mergeKeys: kind({ spec: struct({ finalizers: atomic() }), status: statusWithConditions }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
