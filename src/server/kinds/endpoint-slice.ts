/**
 * discovery.k8s.io/v1 EndpointSlice: SetDefaults_EndpointPort (name "", protocol TCP),
 * ValidateEndpointSlice(Update) (addressType required and immutable) and printEndpointSlice.
 */
import { list, maps, num, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { immutable, notSupported, required } from './field-errors.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { atomic } from '../patch/merge-keys.ts';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

function validateSlice(obj: KubeObject): FieldError[] {
  const type = str(obj.addressType) ?? '';
  if (!type) return [required('addressType')];
  return ADDRESS_TYPES.includes(type) ? [] : [notSupported('addressType', type, ADDRESS_TYPES)];
}

/** listWithMoreString. */
function withMore(items: string[], count: number): string {
  const max = 3;
  const joined = items.slice(0, max).join(',');
  if (count > max) return `${joined} + ${count - max} more...`;
  return joined || '<unset>';
}

export const endpointSlice = defineKind({
  group: 'discovery.k8s.io',
  versions: ['v1'],
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    for (const port of maps(obj.ports)) {
      setDefault(port, 'name', '');
      setDefault(port, 'protocol', 'TCP');
    }
  },
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, true), ...validateSlice(obj)];
    const errs = [...validateObjectMetaUpdate(obj, old, true), ...validateSlice(obj)];
    if (obj.addressType !== old.addressType) errs.push(immutable('addressType', obj.addressType ?? ''));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('AddressType', 'addressType specifies the type of address carried by this EndpointSlice.'),
      col('Ports', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
      col('Endpoints', 'endpoints is a list of unique endpoints in this slice.'),
      AGE_COLUMN,
    ],
    row(obj, now) {
      const ports = maps(obj.ports).map((p) => (num(p.port) !== undefined ? String(num(p.port)) : str(p.name) ?? '*'));
      const addresses = maps(obj.endpoints).flatMap((e) => list(e.addresses).map(String));
      return [nameOf(obj), str(obj.addressType) ?? '', withMore(ports, ports.length), withMore(addresses, addresses.length), ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ endpoints: atomic(), ports: atomic() }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
