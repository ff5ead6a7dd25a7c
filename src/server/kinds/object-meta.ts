/**
 * metadata checks shared by every kind, custom resources included:
 * k8s.io/apimachinery/pkg/api/validation/objectmeta.go (ValidateObjectMetaAccessor,
 * ValidateObjectMetaUpdate) and metav1 validation.ValidateLabels.
 */
import { isMap, list, map, str, stringMap } from './access.ts';
import { forbidden, immutable, invalid, required, tooLong } from './field-errors.ts';
import { checkName, isDns1123Label, isLabelValue, isQualifiedName, type NameRule } from './names.ts';
import type { FieldError, KubeObject } from './types.ts';

/** apimachinery TotalAnnotationSizeLimitB. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** ValidateNameFunc with prefix=true: a trailing '-' is fine in generateName (maskTrailingDash). */
function checkGenerateName(rule: NameRule, prefix: string): string[] {
  const masked = prefix.length > 1 && prefix.endsWith('-') ? `${prefix.slice(0, -1)}a` : prefix;
  return checkName(rule, masked);
}

/** metav1validation.ValidateLabels. */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(map(labels) ?? {})) {
    for (const msg of isQualifiedName(k)) errs.push(invalid(path, k, msg));
    const value = typeof v === 'string' ? v : String(v);
    for (const msg of isLabelValue(value)) errs.push(invalid(path, value, msg));
  }
  return errs;
}

/** ValidateAnnotations: keys are qualified names (checked lower-cased), 256 KiB in total. */
export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(map(annotations) ?? {})) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, msg));
    total += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : '');
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const controllers: string[] = [];
  for (const ref of list(refs)) {
    const r = map(ref) ?? {};
    const apiVersion = str(r.apiVersion) ?? '';
    const kind = str(r.kind) ?? '';
    // ValidateOwnerReferences reports on the list path, not the item's index.
    if (!apiVersion.split('/').pop()) errs.push(invalid(`${path}.apiVersion`, apiVersion, 'version must not be empty'));
    if (!kind) errs.push(invalid(`${path}.kind`, kind, 'kind must not be empty'));
    if (!str(r.name)) errs.push(invalid(`${path}.name`, '', 'name must not be empty'));
    if (!str(r.uid)) errs.push(invalid(`${path}.uid`, '', 'uid must not be empty'));
    if (r.controller === true) controllers.push(`${str(r.name) ?? ''}`);
  }
  if (controllers.length > 1)
    errs.push(
      invalid(
        path,
        refs,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`,
      ),
    );
  return errs;
}

function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of list(finalizers)) {
    const name = typeof f === 'string' ? f : String(f);
    for (const msg of isQualifiedName(name)) errs.push(invalid(path, name, msg));
  }
  return errs;
}

/**
 * ValidateObjectMetaAccessor for a new object. `nameRule` is the kind's name function (most kinds use
 * DNS-1123 subdomains; Namespaces use labels, Services DNS-1035 labels, RBAC path segments).
 */
export function validateObjectMeta(obj: KubeObject, namespaced: boolean, nameRule: NameRule = 'subdomain'): FieldError[] {
  const errs: FieldError[] = [];
  const meta = isMap(obj.metadata) ? obj.metadata : {};
  const generateName = str(meta.generateName) ?? '';
  if (generateName) for (const msg of checkGenerateName(nameRule, generateName)) errs.push(invalid('metadata.generateName', generateName, msg));
  const name = str(meta.name) ?? '';
  // The registry turns generateName into a name before validating; either one is enough here.
  if (!name) {
    if (!generateName) errs.push(required('metadata.name', 'name or generateName is required'));
  }
  else for (const msg of checkName(nameRule, name)) errs.push(invalid('metadata.name', name, msg));

  const namespace = str(meta.namespace) ?? '';
  if (namespaced) {
    if (!namespace) errs.push(required('metadata.namespace'));
    else for (const msg of isDns1123Label(namespace)) errs.push(invalid('metadata.namespace', namespace, msg));
  } else if (namespace) {
    errs.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }
  const generation = meta.generation;
  if (typeof generation === 'number' && generation < 0)
    errs.push(invalid('metadata.generation', generation, 'must be greater than or equal to 0'));
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  errs.push(...validateOwnerReferences(meta.ownerReferences, 'metadata.ownerReferences'));
  errs.push(...validateFinalizers(meta.finalizers, 'metadata.finalizers'));
  return errs;
}

/** ValidateObjectMetaUpdate: the new metadata must be valid, and identity fields cannot change. */
export function validateObjectMetaUpdate(obj: KubeObject, old: KubeObject, namespaced: boolean, nameRule: NameRule = 'subdomain'): FieldError[] {
  const errs = validateObjectMeta(obj, namespaced, nameRule);
  const meta = map(obj.metadata) ?? {};
  const before = map(old.metadata) ?? {};
  for (const key of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
    const now = meta[key] ?? '';
    const was = before[key] ?? '';
    // An update that omits uid/creationTimestamp gets them from the stored object in the API layer.
    if (now !== '' && was !== '' && now !== was) errs.push(immutable(`metadata.${key}`, now));
  }
  return errs;
}

/** helper.IsStandardFinalizerName: the finalizers Kubernetes itself owns. */
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/**
 * core validation's validateKubeFinalizerName, applied to built-in kinds only (custom resources get
 * just the qualified-name check): an unprefixed finalizer must be a standard one.
 */
export function validateKubeFinalizers(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of list(map(obj.metadata)?.finalizers)) {
    const name = typeof f === 'string' ? f : String(f);
    if (!name.includes('/') && !STANDARD_FINALIZERS.has(name))
      errs.push(invalid('metadata.finalizers', name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

/** Labels of an object as a plain string map. */
export function labelsOf(obj: KubeObject): Record<string, string> {
  return stringMap(map(obj.metadata)?.labels);
}
