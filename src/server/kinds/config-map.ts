/** core/v1 ConfigMap: ValidateConfigMap / ValidateConfigMapUpdate and printConfigMap. */
import { map } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, nameOf } from './columns.ts';
import { dataSize, immutableDataRule, sizeError, validateDataKeys } from './config-data.ts';
import { invalid } from './field-errors.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KindBehavior, KubeObject } from './types.ts';

function validateData(obj: KubeObject): FieldError[] {
  const errs = [...validateDataKeys(obj.data, 'data'), ...validateDataKeys(obj.binaryData, 'binaryData')];
  const data = map(obj.data) ?? {};
  for (const key of Object.keys(map(obj.binaryData) ?? {}))
    if (Object.hasOwn(data, key)) errs.push(invalid(`binaryData[${key}]`, key, 'duplicate of key present in data'));
  errs.push(...sizeError(dataSize(obj.data, false) + dataSize(obj.binaryData, true)));
  return errs;
}

export const configMapBehavior: KindBehavior = {
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
};
