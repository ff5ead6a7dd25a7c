/**
 * networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy: defaults (NetworkPolicy
 * policyTypes, TCP ports) and printIngress / printIngressClass / printNetworkPolicy.
 */
import { child, list, map, maps, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { formatLabelSelector } from './label-selector.ts';
import { metaValidator } from './meta-only.ts';
import { CRUD, defineKind, statusSubresource, STORED, NO_TTL, NO_DEFAULTS, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind, labelSelector } from '../patch/merge-keys-core.ts';
import { atomic, struct } from '../patch/merge-keys.ts';

/** formatHosts: up to three hosts, "*" when no rule names one. */
function formatHosts(rules: Record<string, unknown>[]): string {
  const hosts: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (hosts.length === 3) more = true;
    const host = str(rule.host);
    if (!more && host) hosts.push(host);
  }
  if (hosts.length === 0) return '*';
  return more ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
}

/** loadBalancerStatusStringer for the ADDRESS column. */
export function loadBalancerAddresses(status: unknown): string {
  return maps(map(map(status)?.loadBalancer)?.ingress)
    .map((i) => str(i.ip) || str(i.hostname) || '')
    .filter(Boolean)
    .join(',');
}

export const ingress = defineKind({
  group: 'networking.k8s.io',
  versions: ['v1'],
  kind: 'Ingress',
  plural: 'ingresses',
  namespaced: true,
  shortNames: ['ing'],
  categories: [],
  verbs: CRUD,
  subresources: [statusSubresource('networking.k8s.io', 'v1', 'Ingress')],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate: metaValidator(true),
  table: {
    columns: [
      NAME_COLUMN,
      col('Class', 'The name of the IngressClass cluster resource.'),
      col('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'Ports of TLS configurations that open'),
      AGE_COLUMN,
    ],
    row(obj, now) {
      const spec = map(obj.spec) ?? {};
      return [
        nameOf(obj),
        str(spec.ingressClassName) ?? '<none>',
        formatHosts(maps(spec.rules)),
        loadBalancerAddresses(obj.status),
        list(spec.tls).length ? '80, 443' : '80',
        ageOf(obj, now),
      ];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ rules: atomic(), tls: atomic() }) }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});

export const ingressClass = defineKind({
  group: 'networking.k8s.io',
  versions: ['v1'],
  kind: 'IngressClass',
  plural: 'ingressclasses',
  namespaced: false,
  shortNames: [],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate: metaValidator(false),
  table: {
    columns: [
      NAME_COLUMN,
      col('Controller', 'Controller that is responsible for handling this class'),
      col('Parameters', 'A reference to a resource with additional parameters'),
      AGE_COLUMN,
    ],
    row(obj, now) {
      const spec = map(obj.spec) ?? {};
      const params = map(spec.parameters);
      let parameters = '<none>';
      if (params) {
        const group = str(params.apiGroup);
        parameters = `${str(params.kind) ?? ''}${group !== undefined ? `.${group}` : ''}/${str(params.name) ?? ''}`;
      }
      return [nameOf(obj), str(spec.controller) ?? '', parameters, ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({}),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});

export const networkPolicy = defineKind({
  group: 'networking.k8s.io',
  versions: ['v1'],
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  namespaced: true,
  shortNames: ['netpol'],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: NO_TTL,
  tracksGeneration: true,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    const spec = child(obj, 'spec');
    // SetDefaults_NetworkPolicy: Ingress always, Egress when egress rules are present.
    if (list(spec.policyTypes).length === 0) spec.policyTypes = list(spec.egress).length ? ['Ingress', 'Egress'] : ['Ingress'];
    for (const rule of [...maps(spec.ingress), ...maps(spec.egress)]) for (const port of maps(rule.ports)) setDefault(port, 'protocol', 'TCP');
  },
  validate: metaValidator(true),
  table: {
    columns: [NAME_COLUMN, col('Pod-Selector', 'Selects the pods to which this NetworkPolicy object applies.'), AGE_COLUMN],
    row(obj, now) {
      return [nameOf(obj), formatLabelSelector(map(obj.spec)?.podSelector), ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ spec: struct({ podSelector: labelSelector, ingress: atomic(), egress: atomic(), policyTypes: atomic() }) }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
