/** core/v1 ConfigMap: ValidateConfigMap / ValidateConfigMapUpdate and printConfigMap. */
import { map } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, nameOf } from './columns.ts';
import { dataSize, immutableDataRule, sizeError, validateDataKeys } from './config-data.ts';
import { invalid } from './field-errors.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, STORED, NO_TTL, NO_DEFAULTS, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { map as mapSchema } from '../patch/merge-keys.ts';

function validateData(obj: KubeObject): FieldError[] {
  const errs = [...validateDataKeys(obj.data, 'data'), ...validateDataKeys(obj.binaryData, 'binaryData')];
  const data = map(obj.data) ?? {};
  for (const key of Object.keys(map(obj.binaryData) ?? {}))
    if (Object.hasOwn(data, key)) errs.push(invalid(`binaryData[${key}]`, key, 'duplicate of key present in data'));
  errs.push(...sizeError(dataSize(obj.data, false) + dataSize(obj.binaryData, true)));
  return errs;
}

export const configMap = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
  shortNames: ['cm'],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate(obj, old) {
    if (!old) return [...validateObjectMeta(obj, true), ...validateData(obj)];
    return [...validateObjectMetaUpdate(obj, old, true), ...validateData(obj), ...immutableDataRule(obj, old, ['data', 'binaryData'])];
  },
  table: {
    columns: [NAME_COLUMN, { name: 'Data', type: 'string', description: 'Data contains the configuration data.', priority: 0 }, AGE_COLUMN],
    row(obj, now) {
      return [nameOf(obj), Object.keys(map(obj.data) ?? {}).length + Object.keys(map(obj.binaryData) ?? {}).length, ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ data: mapSchema(), binaryData: mapSchema() }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
