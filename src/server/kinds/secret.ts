/**
 * core/v1 Secret: SetDefaults_Secret (type Opaque), ValidateSecret / ValidateSecretUpdate with the
 * per-type required keys, and printSecret.
 */
import { map, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { dataSize, immutableDataRule, sizeError, validateDataKeys } from './config-data.ts';
import { immutable, invalid, required } from './field-errors.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, STORED, NO_TTL, NO_HOOKS, NO_DELETION_POLICY, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { map as mapSchema } from '../patch/merge-keys.ts';
import { pathFields } from './selectable-fields.ts';

/** Keys each built-in secret type must carry (ValidateSecret's switch on secret.Type). */
const REQUIRED_KEYS: Record<string, readonly string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

function validateSecret(obj: KubeObject): FieldError[] {
  const errs = [...validateDataKeys(obj.data, 'data'), ...validateBase64(obj)];
  const data = map(obj.data) ?? {};
  const type = str(obj.type) ?? '';
  for (const key of REQUIRED_KEYS[type] ?? []) if (!Object.hasOwn(data, key)) errs.push(required(`data[${key}]`));
  if (type === 'kubernetes.io/service-account-token' && !str(map(map(obj.metadata)?.annotations)?.['kubernetes.io/service-account.name']))
    errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
  if (type === 'kubernetes.io/basic-auth' && !Object.hasOwn(data, 'username') && !Object.hasOwn(data, 'password'))
    errs.push(required('data[username]', 'must have at least one of the username or password fields'));
  errs.push(...sizeError(dataSize(obj.data, true) + dataSize(obj.stringData, false)));
  return errs;
}

/**
 * Convert_v1_Secret_To_core_Secret: stringData is write-only; each entry overwrites data[key]
 * base64-encoded and the field is never stored or returned.
 */
function mergeStringData(obj: KubeObject): void {
  const stringData = map(obj.stringData);
  if (!stringData) return;
  const data = { ...(map(obj.data) ?? {}) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  obj.data = data;
  delete obj.stringData;
}

/** The offset Go's base64 decoder reports ("illegal base64 data at input byte N"), or -1 when valid. */
export function base64ErrorOffset(value: string): number {
  // encoding/json decodes []byte with StdEncoding, which skips \r and \n.
  const text = value.replace(/[\r\n]/g, '');
  const bad = text.search(/[^A-Za-z0-9+/=]/);
  if (bad !== -1) return bad;
  const pad = text.indexOf('=');
  if (pad !== -1 && (!/^=*$/.test(text.slice(pad)) || text.length - pad > 2)) return pad;
  return text.length % 4 === 0 ? -1 : text.length - (text.length % 4);
}

function validateBase64(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(map(obj.data) ?? {})) {
    const offset = typeof v === 'string' ? base64ErrorOffset(v) : 0;
    if (offset !== -1) errs.push(invalid(`data[${k}]`, '<secret contents redacted>', `illegal base64 data at input byte ${offset}`));
  }
  return errs;
}

export const secret = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'Secret',
  plural: 'secrets',
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
    setDefault(obj, 'type', 'Opaque');
    mergeStringData(obj);
  },
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, true), ...validateSecret(obj)];
    const errs = [...validateObjectMetaUpdate(obj, old, true), ...validateSecret(obj), ...immutableDataRule(obj, old, ['data'])];
    if ((str(obj.type) ?? '') !== (str(old.type) ?? '')) errs.push(immutable('type', str(obj.type) ?? ''));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Type', 'The type of the secret'),
      { name: 'Data', type: 'string', description: 'The number of data items in the secret.', priority: 0 },
      AGE_COLUMN,
    ],
    row(obj, now) {
      return [nameOf(obj), str(obj.type) ?? '', Object.keys(map(obj.data) ?? {}).length, ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: pathFields('type'),
  mergeKeys: kind({ data: mapSchema(), stringData: mapSchema() }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
