/**
 * Events, served as core/v1 Event and events.k8s.io/v1 Event from one store: ValidateEventCreate
 * (pkg/apis/core/validation/events.go) and printEvent, whose row works on either shape (the
 * events.k8s.io fields regarding/note/deprecated* map onto the core ones).
 */
import { ageSince } from './age.ts';
import { map, num, str, type JsonMap } from './access.ts';
import { NAME_COLUMN, col } from './columns.ts';
import { invalid, required } from './field-errors.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import type { FieldError, KubeObject, TableSpec } from './types.ts';
import { CRUD, defineKind, STORED, NO_DEFAULTS, NO_HOOKS, NO_DELETION_POLICY, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { fieldValue, pathFields } from './selectable-fields.ts';

interface CoreEventView {
  involvedObject: JsonMap;
  message: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count: number;
  series?: JsonMap;
  source: JsonMap;
  reportingController: string;
  reportingInstance: string;
}

/** Read either API version of an Event as the core fields the printer uses. */
function view(obj: KubeObject): CoreEventView {
  const eventsV1 = typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith('events.k8s.io/');
  return {
    involvedObject: map(eventsV1 ? obj.regarding : obj.involvedObject) ?? {},
    message: str(eventsV1 ? obj.note : obj.message) ?? '',
    firstTimestamp: str(eventsV1 ? obj.deprecatedFirstTimestamp : obj.firstTimestamp),
    lastTimestamp: str(eventsV1 ? obj.deprecatedLastTimestamp : obj.lastTimestamp),
    eventTime: str(obj.eventTime),
    count: num(eventsV1 ? obj.deprecatedCount : obj.count) ?? 0,
    series: map(obj.series),
    source: map(eventsV1 ? obj.deprecatedSource : obj.source) ?? {},
    reportingController: str(eventsV1 ? obj.reportingController : obj.reportingComponent) ?? '',
    reportingInstance: str(obj.reportingInstance) ?? '',
  };
}

function validateEvent(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const eventsV1 = typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith('events.k8s.io/');
  const involved = map(eventsV1 ? obj.regarding : obj.involvedObject) ?? {};
  const path = eventsV1 ? 'regarding' : 'involvedObject';
  const namespace = str(map(obj.metadata)?.namespace) ?? '';
  const involvedNs = str(involved.namespace) ?? '';
  if (involvedNs && namespace && involvedNs !== namespace)
    errs.push(invalid(`${path}.namespace`, involvedNs, 'does not match event.namespace'));
  if (eventsV1) {
    // events.k8s.io/v1 requires the reporting fields that core/v1 leaves optional.
    if (!str(obj.eventTime)) errs.push(required('eventTime'));
    if (!str(obj.reportingController)) errs.push(required('reportingController'));
    if (!str(obj.reportingInstance)) errs.push(required('reportingInstance'));
    if (!str(obj.action)) errs.push(required('action'));
    if (!str(obj.reason)) errs.push(required('reason'));
  }
  const type = str(obj.type);
  if (type && type !== 'Normal' && type !== 'Warning' && eventsV1)
    errs.push(invalid('type', type, 'has invalid value: must be one of "Normal", "Warning"'));
  return errs;
}

const eventTable: TableSpec = {
  columns: [
    col('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col('Reason', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
    col('Object', 'The object that this event is about.'),
    col('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', 1),
    col('Source', 'The component reporting this event. Should be a short machine understandable string.', 1),
    col('Message', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
    col('Count', 'The number of times this event has occurred.', 1),
    { ...NAME_COLUMN, priority: 1 },
  ],
  row(obj, now) {
    const e = view(obj);
    const first = e.firstTimestamp ? ageSince(e.firstTimestamp, now) : ageSince(e.eventTime, now);
    let last = e.lastTimestamp ? ageSince(e.lastTimestamp, now) : first;
    let count = e.count;
    if (e.series) {
      last = ageSince(e.series.lastObservedTime, now);
      count = num(e.series.count) ?? 0;
    } else if (count === 0) count = 1;
    const kind = (str(e.involvedObject.kind) ?? '').toLowerCase();
    const target = str(e.involvedObject.name) ? `${kind}/${str(e.involvedObject.name)}` : kind;
    const component = str(e.source.component) || e.reportingController;
    const instance = str(e.source.host) || e.reportingInstance;
    return [
      last,
      str(obj.type) ?? '',
      str(obj.reason) ?? '',
      target,
      str(e.involvedObject.fieldPath) ?? '',
      instance ? `${component}, ${instance}` : component,
      e.message.trim(),
      first,
      count,
      str(map(obj.metadata)?.name) ?? '',
    ];
  },
};

function validate(obj: KubeObject, old: KubeObject | undefined): FieldError[] {
  return [...(old ? validateObjectMetaUpdate(obj, old, true) : validateObjectMeta(obj, true)), ...validateEvent(obj)];
}

/** apiserver's default --event-ttl: Events delete themselves an hour after their last update. */
const EVENT_TTL_SECONDS = 3600;

const involvedFields = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];

export const event = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'Event',
  plural: 'events',
  namespaced: true,
  shortNames: ['ev'],
  categories: [],
  verbs: CRUD,
  subresources: [],
  ttlSeconds: EVENT_TTL_SECONDS,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate,
  table: eventTable,
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: {
    ...pathFields(...involvedFields.map((f) => `involvedObject.${f}`), 'reason', 'reportingComponent', 'type'),
    // The legacy `source` field is source.component (or reportingComponent for newer writers).
    source: (obj) => fieldValue(obj, 'source.component') || fieldValue(obj, 'reportingComponent'),
  },
  mergeKeys: kind({}),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});

// [events.k8s.io/v1 field, core/v1 field] (k8s.io/kubernetes pkg/apis/events/v1 conversion)
const EVENTS_V1_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(obj: KubeObject, from: 0 | 1): KubeObject {
  const to = from === 0 ? 1 : 0;
  for (const pair of EVENTS_V1_FIELDS) {
    if (pair[from] in obj) {
      obj[pair[to]] = obj[pair[from]];
      delete obj[pair[from]];
    }
  }
  return obj;
}

/**
 * events.k8s.io/v1 Events are the core/v1 Events of the same store, mapped field by field, as in
 * Kubernetes: the same kind as core Events but for its group, field selectors and the conversion;
 * validation and the table run on the stored (core) form.
 */
export const eventsV1Event = defineKind({
  ...event,
  group: 'events.k8s.io',
  // The core Event's storage; the unwrapped validation (defineKind adds the finalizer rule once).
  storage: event.storage,
  validate,
  fieldSelectors: pathFields(...involvedFields.map((f) => `regarding.${f}`), 'reason', 'reportingController', 'type'),
  conversion: {
    toStorage(obj) {
      rename(obj, 0);
      obj.apiVersion = 'v1';
      return obj;
    },
    fromStorage: (obj) => rename(obj, 1),
  },
});
