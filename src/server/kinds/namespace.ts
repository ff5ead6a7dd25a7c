/**
 * core/v1 Namespace: the registry's PrepareForCreate (spec.finalizers [kubernetes]) and
 * SetDefaults_NamespaceStatus (phase Active), ValidateNamespace (DNS-1123 label names) and
 * printNamespace.
 */
import { child, list, map, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid } from './field-errors.ts';
import { isQualifiedName } from './names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KindBehavior, KubeObject } from './types.ts';

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

export const namespaceBehavior: KindBehavior = {
  default(obj) {
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
};
