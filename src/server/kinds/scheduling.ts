/**
 * scheduling.k8s.io/v1 PriorityClass (SetDefaults_PriorityClass: PreemptLowerPriority) and
 * node.k8s.io/v1 RuntimeClass, with their printers.
 */
import { map, num, setDefault, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { invalid, notSupported, required } from './field-errors.ts';
import { isDns1123Label } from './names.ts';
import { metaValidator } from './meta-only.ts';
import type { FieldError } from './types.ts';
import { CRUD, defineKind, STORED, NO_TTL, NO_DEFAULTS, NO_HOOKS, NO_DELETION_POLICY, NO_FIELD_SELECTORS, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';

const PREEMPTION = ['Never', 'PreemptLowerPriority'];
/** HighestUserDefinablePriority: larger values are reserved for system-* classes. */
const HIGHEST_USER_PRIORITY = 1_000_000_000;
const validateClusterMeta = metaValidator(false);

export const priorityClass = defineKind({
  group: 'scheduling.k8s.io',
  versions: ['v1'],
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  namespaced: false,
  shortNames: ['pc'],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults(obj) {
    setDefault(obj, 'preemptionPolicy', 'PreemptLowerPriority');
  },
  validate(obj, old) {
    const errs: FieldError[] = validateClusterMeta(obj, old);
    const name = str(map(obj.metadata)?.name) ?? '';
    const value = num(obj.value);
    if (value === undefined) errs.push(required('value'));
    else if (value > HIGHEST_USER_PRIORITY && !name.startsWith('system-'))
      errs.push(invalid('value', value, `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
    const policy = str(obj.preemptionPolicy);
    if (policy !== undefined && !PREEMPTION.includes(policy)) errs.push(notSupported('preemptionPolicy', policy, PREEMPTION));
    if (old && value !== num(old.value)) errs.push(invalid('value', value ?? null, 'field is immutable'));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Value', type: 'integer', description: 'value represents the integer value of this priority class.', priority: 0 },
      { name: 'Global-Default', type: 'boolean', description: 'globalDefault specifies whether this PriorityClass should be considered as the default priority.', priority: 0 },
      AGE_COLUMN,
      col('PreemptionPolicy', 'preemptionPolicy is the Policy for preempting pods with lower priority.'),
    ],
    row(obj, now) {
      return [nameOf(obj), num(obj.value) ?? 0, obj.globalDefault === true, ageOf(obj, now), str(obj.preemptionPolicy) ?? ''];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({}),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});

export const runtimeClass = defineKind({
  group: 'node.k8s.io',
  versions: ['v1'],
  kind: 'RuntimeClass',
  plural: 'runtimeclasses',
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
  validate(obj, old) {
    const errs: FieldError[] = validateClusterMeta(obj, old);
    const handler = str(obj.handler) ?? '';
    if (!handler) errs.push(required('handler'));
    else for (const msg of isDns1123Label(handler)) errs.push(invalid('handler', handler, msg));
    if (old && handler !== (str(old.handler) ?? '')) errs.push(invalid('handler', handler, 'field is immutable'));
    return errs;
  },
  table: {
    columns: [NAME_COLUMN, col('Handler', 'Handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.'), AGE_COLUMN],
    row(obj, now) {
      return [nameOf(obj), str(obj.handler) ?? '', ageOf(obj, now)];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: NO_FIELD_SELECTORS,
  mergeKeys: kind({}),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
