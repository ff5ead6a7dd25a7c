/** core/v1 ServiceAccount: ValidateServiceAccount and printServiceAccount. */
import { list } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, nameOf } from './columns.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { KindBehavior } from './types.ts';

export const serviceAccountBehavior: KindBehavior = {
  validate(obj, old) {
    return old ? validateObjectMetaUpdate(obj, old, true) : validateObjectMeta(obj, true);
  },
  table: {
    columns: [NAME_COLUMN, { name: 'Secrets', type: 'string', description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.', priority: 0 }, AGE_COLUMN],
    row(obj, now) {
      return [nameOf(obj), list(obj.secrets).length, ageOf(obj, now)];
    },
  },
};
