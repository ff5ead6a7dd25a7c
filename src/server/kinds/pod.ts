/**
 * Pods: defaulting (defaults.go SetDefaults_Pod plus what the default admission chain adds —
 * ServiceAccount, Priority, DefaultTolerationSeconds), create validation (ValidatePodCreate) and the
 * update rule of ValidatePodUpdate (only images, activeDeadlineSeconds and added tolerations change).
 */
import { child, isMap, jsonEqual, list, map, maps, num, setDefault, str, type JsonMap } from './access.ts';
import { forbidden, invalid } from './field-errors.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { defaultPodSpec, validatePodSpec } from './pod-spec.ts';
import { podTable } from './pod-table.ts';
import { parseQuantity } from '../../common/quantity.ts';
import type { DeletionPolicy, FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, gvk, statusSubresource, STORED, NO_TTL, NO_CONVERSION, K8S_API_PROTO } from './define.ts';
import { kind, podSpec, podStatus } from '../patch/merge-keys-core.ts';
import { boolField, fieldValue, pathFields } from './selectable-fields.ts';
import { podHooks } from './service-account-admission.ts';
import { provisionOnBinding } from './persistent-volume.ts';

/** DefaultTolerationSeconds admission: 300 s for the two node-health taints. */
const DEFAULT_TOLERATED_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

function addDefaultTolerations(spec: JsonMap): void {
  const tolerations = maps(spec.tolerations);
  for (const key of DEFAULT_TOLERATED_TAINTS) {
    const covered = tolerations.some(
      (t) => (t.key === key || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'),
    );
    if (!covered) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
}

function resourceAmount(rl: unknown, name: string): number {
  const v = map(rl)?.[name];
  if (typeof v !== 'string' && typeof v !== 'number') return 0;
  try {
    return parseQuantity(v);
  } catch {
    return 0;
  }
}

/** qos.GetPodQOS over cpu and memory. */
export function podQosClass(spec: JsonMap): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const containers = [...maps(spec.initContainers), ...maps(spec.containers)];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const r = map(c.resources) ?? {};
    for (const name of ['cpu', 'memory']) {
      const req = resourceAmount(r.requests, name);
      const lim = resourceAmount(r.limits, name);
      if (req !== 0 || lim !== 0) any = true;
      if (lim === 0 || (req !== 0 && req !== lim)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultPod(obj: KubeObject): void {
  const spec = child(obj, 'spec');
  defaultPodSpec(spec);
  setDefault(spec, 'enableServiceLinks', true);
  // ServiceAccount admission fills both the field and its deprecated alias.
  setDefault(spec, 'serviceAccountName', str(spec.serviceAccount) ?? 'default');
  setDefault(spec, 'serviceAccount', spec.serviceAccountName);
  // Priority admission with no PriorityClass.
  setDefault(spec, 'priority', 0);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  addDefaultTolerations(spec);
  const status = child(obj, 'status');
  setDefault(status, 'phase', 'Pending');
  setDefault(status, 'qosClass', podQosClass(spec));
}

const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

function withoutSeconds(t: JsonMap): JsonMap {
  const { tolerationSeconds: _ignored, ...rest } = t;
  return rest;
}

/** ValidatePodUpdate's spec rule: copy the mutable fields into the old spec and require equality. */
export function validatePodSpecUpdate(newSpec: JsonMap, oldSpec: JsonMap): FieldError[] {
  const errs: FieldError[] = [];
  const munged: JsonMap = structuredClone(oldSpec);
  for (const key of ['containers', 'initContainers'] as const) {
    const oldList = maps(munged[key]);
    const newList = list(newSpec[key]);
    if (oldList.length === newList.length)
      oldList.forEach((c, i) => {
        const n = map(newList[i]);
        if (n && 'image' in n) c.image = n.image;
      });
  }
  const newDeadline = newSpec.activeDeadlineSeconds;
  const oldDeadline = num(oldSpec.activeDeadlineSeconds);
  if (newDeadline !== undefined && newDeadline !== null) {
    if (oldDeadline !== undefined && typeof newDeadline === 'number' && newDeadline > oldDeadline)
      errs.push(invalid('spec.activeDeadlineSeconds', newDeadline, 'must be less than or equal to previous value'));
    munged.activeDeadlineSeconds = newDeadline;
  } else if (oldDeadline !== undefined) {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
    delete munged.activeDeadlineSeconds;
  }
  const oldTolerations = maps(oldSpec.tolerations);
  const newTolerations = maps(newSpec.tolerations);
  const kept = oldTolerations.every((o) => newTolerations.some((n) => jsonEqual(withoutSeconds(o), withoutSeconds(n))));
  if (!kept) errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
  munged.tolerations = newSpec.tolerations;
  const oldGrace = num(oldSpec.terminationGracePeriodSeconds);
  if (oldGrace !== undefined && oldGrace < 0 && newSpec.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = 1;
  if (!jsonEqual(munged, newSpec))
    errs.push(forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}`));
  return errs;
}

function validatePod(obj: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (!old) return [...validateObjectMeta(obj, true), ...validatePodSpec(obj.spec, 'spec')];
  const errs = validateObjectMetaUpdate(obj, old, true);
  const spec = map(obj.spec) ?? {};
  const oldSpec = map(old.spec) ?? {};
  errs.push(...validatePodSpec(spec, 'spec'));
  errs.push(...validatePodSpecUpdate(spec, oldSpec));
  return errs;
}

/**
 * Graceful deletion (the pod strategy's CheckGracefulDelete): a pod bound to a node stays, with
 * deletionTimestamp, until its agent has stopped the containers; an unbound pod (no agent will ever
 * act on it) goes at once, as does grace 0.
 */
const podDeletion: DeletionPolicy = {
  gracePeriodSeconds(obj, requested) {
    const spec = map(obj.spec) ?? {};
    if (!str(spec.nodeName)) return 0;
    if (requested !== undefined) return Math.max(0, requested);
    return num(spec.terminationGracePeriodSeconds) ?? 30;
  },
};

export const pod = defineKind({
  group: '',
  versions: ['v1'],
  kind: 'Pod',
  plural: 'pods',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  verbs: CRUD,
  subresources: [
    statusSubresource('', 'v1', 'Pod'),
    { name: 'binding', responseKind: gvk('', 'v1', 'Binding'), verbs: ['create'], handler: 'binding' },
    // kubectl debug adds containers here (pod-ephemeral.ts validates).
    { name: 'ephemeralcontainers', responseKind: gvk('', 'v1', 'Pod'), verbs: ['get', 'patch', 'update'], handler: 'ephemeralcontainers' },
    // Drain looks for exactly this entry, with group policy and version v1 (kubectl-wire.md §14).
    { name: 'eviction', responseKind: gvk('policy', 'v1', 'Eviction'), verbs: ['create'], handler: 'eviction' },
    { name: 'log', responseKind: gvk('', 'v1', 'Pod'), verbs: ['get'], handler: 'log' },
    { name: 'exec', responseKind: gvk('', 'v1', 'PodExecOptions'), verbs: ['create', 'get'], handler: 'stream' },
    { name: 'attach', responseKind: gvk('', 'v1', 'PodAttachOptions'), verbs: ['create', 'get'], handler: 'stream' },
    { name: 'portforward', responseKind: gvk('', 'v1', 'PodPortForwardOptions'), verbs: ['create', 'get'], handler: 'stream' },
  ],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: defaultPod,
  validate: validatePod,
  table: podTable,
  // Binding provisions the pod's local-path claims in its own transaction (persistent-volume.ts).
  hooks: { ...podHooks, precedingUpdateOps: provisionOnBinding },
  deletion: podDeletion,
  fieldSelectors: {
    ...pathFields('spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'),
    'spec.hostNetwork': boolField('spec.hostNetwork'),
    // Matches the pod's IP: edgeos pods have one (single-stack IPv4).
    'status.podIPs': (obj) => fieldValue(obj, 'status.podIP'),
  },
  mergeKeys: kind({ spec: podSpec, status: podStatus }),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});

/** True when value is a pod template-like object with a spec (used by the workload kinds). */
export function hasSpec(v: unknown): v is { spec: JsonMap } {
  return isMap(v) && isMap(v.spec);
}
