// RBAC over the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings in the store, evaluated
// per request like apiserver's RBACAuthorizer: ClusterRoleBindings apply everywhere, RoleBindings
// in their namespace; a RoleBinding may reference a Role of its namespace or a ClusterRole. RBAC
// only ever allows; missing roles are reported in the reason.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef } from 'kubernetes-types/rbac/v1';
import type { Logger } from '../../common/log.ts';
import type { Store } from '../../store/types.ts';
import { storageSegment } from '../registry/index.ts';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.ts';
import { allow, noOpinion } from './chain.ts';
import type { ChainLink } from './chain.ts';
import { selectorMatches } from '../kinds/label-selector.ts';
import { describeSubject, ruleAllows, subjectMatches } from './rbac-rules.ts';
import type { RequestAttributes, RuleSet, UserInfo } from './types.ts';
import { readStoredJson } from '../storage/read.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const segment = (plural: string) => `/registry/${storageSegment(RBAC_GROUP, plural)}/`;

/** Where the API server keeps RBAC objects (JSON): the registry's storage layout. */
export const rbacKeys = {
  role: (ns: string, name: string) => `${segment('roles')}${ns}/${name}`,
  roleBinding: (ns: string, name: string) => `${segment('rolebindings')}${ns}/${name}`,
  clusterRole: (name: string) => `${segment('clusterroles')}${name}`,
  clusterRoleBinding: (name: string) => `${segment('clusterrolebindings')}${name}`,
  roleBindings: (ns: string) => `${segment('rolebindings')}${ns}/`,
  clusterRoleBindings: () => segment('clusterrolebindings'),
  clusterRoles: () => segment('clusterroles'),
};

type Binding = RoleBinding | ClusterRoleBinding;

/** State of one authorization: roleRef errors for the reason, and ClusterRoles read once. */
interface RequestLookup {
  readonly errors: string[];
  all?: Map<string, ClusterRole>;
}

export function createRbacAuthorizer(deps: { store: Store; log: Logger }): ChainLink {
  const { store, log } = deps;

  const readJson = <T>(key: string) => readStoredJson<T>(store, log, key);

  async function listJson<T>(prefix: string): Promise<T[]> {
    const { kvs } = await store.list(prefix);
    const out: T[] = [];
    for (const kv of kvs) {
      try {
        out.push(JSON.parse(kv.value.toString('utf8')) as T);
      } catch (err) {
        log.error({ key: kv.key, err }, 'ignoring an RBAC object that is not JSON');
      }
    }
    return out;
  }

  /** ClusterRoles by name: the built-in defaults, overridden by stored ones of the same name. */
  async function allClusterRoles(): Promise<Map<string, ClusterRole>> {
    const all = new Map(bootstrapClusterRoles);
    for (const r of await listJson<ClusterRole>(rbacKeys.clusterRoles())) if (r.metadata?.name) all.set(r.metadata.name, r);
    return all;
  }

  /**
   * The effective rules of a ClusterRole. An aggregated role (aggregationRule) gets the union of
   * the roles its selectors pick, as the clusterrole-aggregation controller would write them;
   * evaluating it here means a new role with the right label counts at once. `seen` stops cycles.
   */
  async function clusterRoleRules(role: ClusterRole, lookup: RequestLookup, seen: Set<string>): Promise<PolicyRule[]> {
    const selectors = role.aggregationRule?.clusterRoleSelectors;
    if (!selectors) return role.rules ?? [];
    const name = role.metadata?.name ?? '';
    seen.add(name);
    lookup.all ??= await allClusterRoles();
    const rules: PolicyRule[] = [];
    for (const [otherName, other] of lookup.all) {
      if (seen.has(otherName)) continue;
      const labels = other.metadata?.labels ?? {};
      if (!selectors.some((sel) => selectorMatches(sel, labels))) continue;
      rules.push(...(await clusterRoleRules(other, lookup, seen)));
    }
    return rules;
  }

  /** The rules a binding grants, or an error text like apiserver's for a dangling roleRef. */
  async function rulesOf(ref: RoleRef, bindingNamespace: string, lookup: RequestLookup): Promise<PolicyRule[] | string> {
    if (ref.kind === 'ClusterRole') {
      const role = (await readJson<ClusterRole>(rbacKeys.clusterRole(ref.name))) ?? bootstrapClusterRoles.get(ref.name);
      if (!role) return `clusterrole.rbac.authorization.k8s.io "${ref.name}" not found`;
      return clusterRoleRules(role, lookup, new Set());
    }
    if (ref.kind === 'Role' && bindingNamespace) {
      const role = await readJson<Role>(rbacKeys.role(bindingNamespace, ref.name));
      return role ? (role.rules ?? []) : `role.rbac.authorization.k8s.io "${ref.name}" not found`;
    }
    return `unsupported roleRef kind ${JSON.stringify(ref.kind)}`;
  }

  async function check(b: Binding, kind: string, bindingNamespace: string, attrs: RequestAttributes, lookup: RequestLookup) {
    const subject = (b.subjects ?? []).find((s) => subjectMatches(s, attrs.user, bindingNamespace));
    if (!subject) return undefined;
    const rules = await rulesOf(b.roleRef, bindingNamespace, lookup);
    if (typeof rules === 'string') {
      lookup.errors.push(rules);
      return undefined;
    }
    if (!rules.some((r) => ruleAllows(r, attrs))) return undefined;
    const where = bindingNamespace ? ` in namespace "${bindingNamespace}"` : '';
    return `RBAC: allowed by ${kind} "${b.metadata?.name ?? ''}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(subject, bindingNamespace)}${where}`;
  }

  /** The rules of every binding whose subjects include the user (RBAC's RulesFor). */
  async function rulesFor(user: UserInfo, namespace: string): Promise<RuleSet> {
    const lookup: RequestLookup = { errors: [] };
    const rules: PolicyRule[] = [];
    const collect = async (b: Binding, bindingNamespace: string) => {
      if (!(b.subjects ?? []).some((s) => subjectMatches(s, user, bindingNamespace))) return;
      const granted = await rulesOf(b.roleRef, bindingNamespace, lookup);
      if (typeof granted === 'string') lookup.errors.push(granted);
      else rules.push(...granted);
    };
    for (const b of [...bootstrapClusterRoleBindings, ...(await listJson<ClusterRoleBinding>(rbacKeys.clusterRoleBindings()))]) await collect(b, '');
    if (namespace) for (const b of await listJson<RoleBinding>(rbacKeys.roleBindings(namespace))) await collect(b, namespace);
    return {
      resourceRules: rules.filter((r) => (r.resources ?? []).length > 0).map((r) => ({
        verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
      })),
      nonResourceRules: rules.filter((r) => (r.nonResourceURLs ?? []).length > 0).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs ?? [] })),
      incomplete: false,
      errors: lookup.errors,
    };
  }

  return {
    name: 'rbac',
    rulesFor,
    async authorize(attrs) {
      const lookup: RequestLookup = { errors: [] };
      const clusterBindings = [...bootstrapClusterRoleBindings, ...(await listJson<ClusterRoleBinding>(rbacKeys.clusterRoleBindings()))];
      for (const b of clusterBindings) {
        const reason = await check(b, 'ClusterRoleBinding', '', attrs, lookup);
        if (reason) return allow(reason);
      }
      if (attrs.resourceRequest && attrs.namespace) {
        for (const b of await listJson<RoleBinding>(rbacKeys.roleBindings(attrs.namespace))) {
          const reason = await check(b, 'RoleBinding', attrs.namespace, attrs, lookup);
          if (reason) return allow(reason);
        }
      }
      return noOpinion(lookup.errors.length > 0 ? `RBAC: ${lookup.errors.join(', ')}` : '');
    },
  };
}
