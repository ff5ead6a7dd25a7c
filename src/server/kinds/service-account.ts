/** core/v1 ServiceAccount: ValidateServiceAccount and printServiceAccount. */
import { list } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, nameOf } from './columns.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { CRUD, defineKind, gvk, STORED, NO_TTL, NO_DEFAULTS, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { assoc, atomic, struct } from '../patch/merge-keys.ts';

export const serviceAccount = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  namespaced: true,
  shortNames: ['sa'],
  categories: [],
  verbs: CRUD,
  subresources: [{ name: 'token', responseKind: gvk('authentication.k8s.io', 'v1', 'TokenRequest'), verbs: ['create'], handler: 'token' }],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate(obj, old) {
    return old ? validateObjectMetaUpdate(obj, old, true) : validateObjectMeta(obj, true);
  },
  table: {
    columns: [NAME_COLUMN, { name: 'Secrets', type: 'string', description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.', priority: 0 }, AGE_COLUMN],
    row(obj, now) {
      return [nameOf(obj), list(obj.secrets).length, ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({ secrets: assoc('name', struct({})), imagePullSecrets: atomic() }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
