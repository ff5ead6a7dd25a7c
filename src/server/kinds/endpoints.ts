/**
 * core/v1 Endpoints: SetDefaults_EndpointPort (protocol TCP), ValidateEndpoints and printEndpoints
 * (formatEndpoints: at most three ip:port pairs, then " + N more...").
 */
import { isIP } from 'node:net';
import { maps, num, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid, notSupported, required } from './field-errors.ts';
import { isValidPortNum } from './names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { atomic } from '../patch/merge-keys.ts';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateSubsets(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  maps(obj.subsets).forEach((ss, i) => {
    const p = `subsets[${i}]`;
    for (const [key, list] of [['addresses', ss.addresses], ['notReadyAddresses', ss.notReadyAddresses]] as const)
      maps(list).forEach((a, j) => {
        const ip = str(a.ip) ?? '';
        if (isIP(ip) === 0) errs.push(invalid(`${p}.${key}[${j}].ip`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      });
    maps(ss.ports).forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      for (const msg of isValidPortNum(num(port.port) ?? 0)) errs.push(invalid(`${pp}.port`, num(port.port) ?? 0, msg));
      const protocol = str(port.protocol) ?? '';
      if (!protocol) errs.push(required(`${pp}.protocol`));
      else if (!PROTOCOLS.includes(protocol)) errs.push(notSupported(`${pp}.protocol`, protocol, PROTOCOLS));
    });
  });
  return errs;
}

/** formatEndpoints with no port filter. */
export function formatEndpoints(obj: KubeObject): string {
  const subsets = maps(obj.subsets);
  if (subsets.length === 0) return '<none>';
  const out: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  const add = (text: string): void => {
    if (out.length === max) more = true;
    else out.push(text);
  };
  for (const ss of subsets) {
    const addresses = maps(ss.addresses);
    const ports = maps(ss.ports);
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) add(str(a.ip) ?? '');
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        const ip = str(a.ip) ?? '';
        // net.JoinHostPort brackets IPv6 addresses.
        add(`${ip.includes(':') ? `[${ip}]` : ip}:${num(port.port) ?? 0}`);
      }
    }
  }
  const joined = out.join(',');
  return more ? `${joined} + ${count - max} more...` : joined;
}

export const endpoints = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'Endpoints',
  plural: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    for (const ss of maps(obj.subsets)) for (const port of maps(ss.ports)) setDefault(port, 'protocol', 'TCP');
  },
  validate(obj, old) {
    return [...(old ? validateObjectMetaUpdate(obj, old, true) : validateObjectMeta(obj, true)), ...validateSubsets(obj)];
  },
  table: {
    columns: [NAME_COLUMN, col('Endpoints', 'Endpoints is the list of endpoints for this service.'), AGE_COLUMN],
    row(obj, now) {
      return [nameOf(obj), formatEndpoints(obj), ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ subsets: atomic() }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});

