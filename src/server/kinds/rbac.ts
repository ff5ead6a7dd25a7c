/**
 * rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding: defaults
 * (pkg/apis/rbac/v1/defaults.go: roleRef and subject apiGroups), validation
 * (pkg/apis/rbac/validation: names are path segments, roleRef cannot change, rules need verbs) and
 * the printers (printRole/printClusterRole: CREATED AT; bindings: ROLE, AGE, USERS, GROUPS, …).
 */
import { jsonEqual, map, maps, setDefault, str, type JsonMap } from './access.ts';
import { AGE_COLUMN, CREATED_AT_TABLE, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid, notSupported, required } from './field-errors.ts';
import { isDns1123Subdomain, isValidPathSegmentName } from './names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { BuiltinKind, FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, STORED, NO_DEFAULTS, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { atomic, struct } from '../patch/merge-keys.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const SUBJECT_KINDS = ['Group', 'ServiceAccount', 'User'];

function validateRules(obj: KubeObject, allowEmptyFor: boolean): FieldError[] {
  const errs: FieldError[] = [];
  maps(obj.rules).forEach((rule, i) => {
    const p = `rules[${i}]`;
    if (!Array.isArray(rule.verbs) || rule.verbs.length === 0)
      errs.push(required(`${p}.verbs`, 'verbs must contain at least one value'));
    const nonResource = Array.isArray(rule.nonResourceURLs) && rule.nonResourceURLs.length > 0;
    if (nonResource && !allowEmptyFor) {
      errs.push(invalid(`${p}.nonResourceURLs`, rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
      return;
    }
    if (nonResource) return;
    if (!Array.isArray(rule.apiGroups) || rule.apiGroups.length === 0)
      errs.push(required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
    if (!Array.isArray(rule.resources) || rule.resources.length === 0)
      errs.push(required(`${p}.resources`, 'resource rules must supply at least one resource'));
  });
  return errs;
}

type Strategy = Pick<BuiltinKind, 'defaults' | 'validate' | 'table'>;

function roleStrategy(namespaced: boolean): Strategy {
  return {
    defaults: NO_DEFAULTS,
    validate(obj, old) {
      const meta = old ? validateObjectMetaUpdate(obj, old, namespaced, 'path-segment') : validateObjectMeta(obj, namespaced, 'path-segment');
      return [...meta, ...validateRules(obj, !namespaced)];
    },
    table: CREATED_AT_TABLE,
  };
}

function defaultBinding(obj: KubeObject): void {
  const roleRef = map(obj.roleRef);
  if (roleRef) setDefault(roleRef, 'apiGroup', RBAC_GROUP);
  for (const s of maps(obj.subjects)) {
    if (s.kind === 'ServiceAccount') setDefault(s, 'apiGroup', '');
    else if (s.kind === 'User' || s.kind === 'Group') setDefault(s, 'apiGroup', RBAC_GROUP);
  }
}

function validateSubject(s: JsonMap, p: string, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(s.name) ?? '';
  if (!name) errs.push(required(`${p}.name`));
  const kind = str(s.kind) ?? '';
  const apiGroup = str(s.apiGroup) ?? '';
  switch (kind) {
    case 'ServiceAccount':
      if (name) for (const msg of isDns1123Subdomain(name)) errs.push(invalid(`${p}.name`, name, msg));
      if (apiGroup !== '') errs.push(notSupported(`${p}.apiGroup`, apiGroup, ['']));
      if (!namespaced && !str(s.namespace)) errs.push(required(`${p}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) errs.push(notSupported(`${p}.apiGroup`, apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(`${p}.kind`, kind, SUBJECT_KINDS));
  }
  return errs;
}

function validateBinding(obj: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const roleRef = map(obj.roleRef) ?? {};
  const allowedKinds = namespaced ? ['ClusterRole', 'Role'] : ['ClusterRole'];
  const kind = str(roleRef.kind) ?? '';
  if (!allowedKinds.includes(kind)) errs.push(notSupported('roleRef.kind', kind, allowedKinds));
  const apiGroup = str(roleRef.apiGroup) ?? '';
  if (apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', apiGroup, [RBAC_GROUP]));
  const name = str(roleRef.name) ?? '';
  if (!name) errs.push(required('roleRef.name'));
  else for (const msg of isValidPathSegmentName(name)) errs.push(invalid('roleRef.name', name, msg));
  maps(obj.subjects).forEach((s, i) => errs.push(...validateSubject(s, `subjects[${i}]`, namespaced)));
  return errs;
}

/** rbac.SubjectsStrings: service accounts print as namespace/name. */
function subjectNames(obj: KubeObject, kind: string): string {
  return maps(obj.subjects)
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' && str(s.namespace) ? `${str(s.namespace)}/${str(s.name) ?? ''}` : str(s.name) ?? ''))
    .join(', ');
}

function bindingStrategy(namespaced: boolean): Strategy {
  return {
    defaults: defaultBinding,
    validate(obj, old) {
      const meta = old ? validateObjectMetaUpdate(obj, old, namespaced, 'path-segment') : validateObjectMeta(obj, namespaced, 'path-segment');
      const errs = [...meta, ...validateBinding(obj, namespaced)];
      if (old && !jsonEqual(obj.roleRef, old.roleRef)) errs.push(invalid('roleRef', obj.roleRef, 'cannot change roleRef'));
      return errs;
    },
    table: {
      columns: [
        NAME_COLUMN,
        col('Role', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
        AGE_COLUMN,
        col('Users', 'Users in the roleBinding', 1),
        col('Groups', 'Groups in the roleBinding', 1),
        col('ServiceAccounts', 'ServiceAccounts in the roleBinding', 1),
      ],
      row(obj, now) {
        const roleRef = map(obj.roleRef) ?? {};
        return [
          nameOf(obj),
          `${str(roleRef.kind) ?? ''}/${str(roleRef.name) ?? ''}`,
          ageOf(obj, now),
          subjectNames(obj, 'User'),
          subjectNames(obj, 'Group'),
          subjectNames(obj, 'ServiceAccount'),
        ];
      },
    },
  };
}

/** The four RBAC kinds: rbac.authorization.k8s.io/v1, stored as plural.group, no subresources. */
function rbacKind(kindName: string, plural: string, namespaced: boolean, strategy: Strategy, mergeKeys: BuiltinKind['mergeKeys']): BuiltinKind {
  return defineKind({
    group: RBAC_GROUP,
    versions: ['v1'],
    kind: kindName,
    plural,
    namespaced,
    shortNames: [],
    categories: [],
    verbs: CRUD,
    subresources: [],
    ttlSeconds: NO_TTL,
    tracksGeneration: false,
    keepStatusOnCreate: false,
    computed: STORED,
    ...strategy,
    hooks: NO_HOOKS,
    deletion: NO_DELETION_POLICY,
    fieldSelectors: NO_FIELD_SELECTORS,
    mergeKeys,
    protobuf: K8S_API_PROTO,
    conversion: NO_CONVERSION,
  });
}

// Rules are replaced whole; roleRef is `+structType=atomic`.
const bindingMergeKeys = kind({ subjects: atomic(), roleRef: struct({}, { atomic: true }) });

export const role = rbacKind('Role', 'roles', true, roleStrategy(true), kind({ rules: atomic() }));
export const roleBinding = rbacKind('RoleBinding', 'rolebindings', true, bindingStrategy(true), bindingMergeKeys);
export const clusterRole = rbacKind('ClusterRole', 'clusterroles', false, roleStrategy(false), kind({ rules: atomic(), aggregationRule: struct({ clusterRoleSelectors: atomic() }) }));
export const clusterRoleBinding = rbacKind('ClusterRoleBinding', 'clusterrolebindings', false, bindingStrategy(false), bindingMergeKeys);
