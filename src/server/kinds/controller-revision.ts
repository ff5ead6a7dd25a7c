/** apps/v1 ControllerRevision: printControllerRevision (CONTROLLER as kind.group/name, REVISION). */
import { jsonEqual, map, maps, num, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid } from './field-errors.ts';
import { metaValidator } from './meta-only.ts';
import type { KubeObject } from './types.ts';
import { CRUD, defineKind, STORED, NO_TTL, NO_DEFAULTS, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';

const validateMeta = metaValidator(true);

/** formatResourceName(groupKind, name, withKind=true), e.g. "statefulset.apps/web". */
function controllerName(obj: KubeObject): string {
  const ref = maps(map(obj.metadata)?.ownerReferences).find((r) => r.controller === true);
  if (!ref) return '<none>';
  const apiVersion = str(ref.apiVersion) ?? '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const kind = (str(ref.kind) ?? '').toLowerCase();
  return `${group ? `${kind}.${group}` : kind}/${str(ref.name) ?? ''}`;
}

export const controllerRevision = defineKind({
  group: 'apps',
  versions: ['v1'],
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate(obj, old) {
    const errs = validateMeta(obj, old);
    const revision = num(obj.revision);
    if (revision !== undefined && revision < 0) errs.push(invalid('revision', revision, 'must be greater than or equal to 0'));
    // ValidateControllerRevisionUpdate: data never changes after creation.
    if (old && !jsonEqual(obj.data, old.data)) errs.push(invalid('data', 'cannot be updated', 'field is immutable'));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Controller', 'Controller of the object'),
      { name: 'Revision', type: 'string', description: 'Revision indicates the revision of the state represented by Data.', priority: 0 },
      AGE_COLUMN,
    ],
    row(obj, now) {
      return [nameOf(obj), controllerName(obj), num(obj.revision) ?? 0, ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({}),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
