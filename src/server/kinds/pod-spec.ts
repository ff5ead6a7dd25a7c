/**
 * PodSpec defaulting (pkg/apis/core/v1/defaults.go SetDefaults_PodSpec, _Volume) and validation
 * (pkg/apis/core/validation ValidatePodSpec), shared by Pods and every pod template.
 */
import { isMap, list, map, maps, num, setDefault, str, type JsonMap } from './access.ts';
import { defaultContainer, validateContainerList } from './container.ts';
import { duplicate, forbidden, invalid, notSupported, required } from './field-errors.ts';
import { isDns1123Label, isDns1123Subdomain } from './names.ts';
import { validateLabels } from './object-meta.ts';
import type { FieldError } from './types.ts';

const MODE_DEFAULTED_SOURCES = ['secret', 'configMap', 'downwardAPI', 'projected'];

function defaultVolume(v: JsonMap): void {
  const sources = Object.keys(v).filter((k) => k !== 'name');
  // SetDefaults_Volume: a volume with no source is an emptyDir.
  if (sources.length === 0) v.emptyDir = {};
  for (const source of MODE_DEFAULTED_SOURCES) {
    const s = map(v[source]);
    if (s) setDefault(s, 'defaultMode', 0o644);
  }
  const hostPath = map(v.hostPath);
  if (hostPath) setDefault(hostPath, 'type', '');
}

/** SetDefaults_PodSpec and the container defaults under it. */
export function defaultPodSpec(spec: JsonMap): void {
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'schedulerName', 'default-scheduler');
  // PodSecurityContext is always allocated by the defaulter, so it shows as {}.
  setDefault(spec, 'securityContext', {});
  for (const c of maps(spec.initContainers)) defaultContainer(c);
  for (const c of maps(spec.containers)) defaultContainer(c);
  for (const c of maps(spec.ephemeralContainers)) defaultContainer(c);
  if (spec.hostNetwork === true) {
    // SetDefaults_PodSpec: with hostNetwork, hostPort follows containerPort.
    for (const c of [...maps(spec.initContainers), ...maps(spec.containers)])
      for (const port of maps(c.ports)) setDefault(port, 'hostPort', port.containerPort);
  }
  for (const v of maps(spec.volumes)) defaultVolume(v);
}

export const RESTART_POLICIES = ['Always', 'Never', 'OnFailure'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

function validateVolumes(volumes: unknown, path: string): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  maps(volumes).forEach((v, i) => {
    const p = `${path}[${i}]`;
    const name = str(v.name) ?? '';
    if (!name) errs.push(required(`${p}.name`));
    else {
      for (const msg of isDns1123Label(name)) errs.push(invalid(`${p}.name`, name, msg));
      if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
      names.add(name);
    }
    const sources = Object.keys(v).filter((k) => k !== 'name' && v[k] !== null && v[k] !== undefined);
    if (sources.length === 0) errs.push(required(p, 'must specify a volume type'));
    else if (sources.length > 1) errs.push(forbidden(p, 'may not specify more than 1 volume type'));
  });
  return { errs, names };
}

function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  maps(tolerations).forEach((t, i) => {
    const p = `${path}[${i}]`;
    const operator = str(t.operator) ?? 'Equal';
    if (!TOLERATION_OPERATORS.includes(operator)) errs.push(notSupported(`${p}.operator`, operator, TOLERATION_OPERATORS));
    if (operator === 'Exists' && str(t.value)) errs.push(invalid(`${p}.operator`, t.value, 'value must be empty when `operator` is \'Exists\''));
    if (!str(t.key) && operator !== 'Exists') errs.push(invalid(`${p}.operator`, operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    const effect = str(t.effect);
    if (effect && !TAINT_EFFECTS.includes(effect)) errs.push(notSupported(`${p}.effect`, effect, TAINT_EFFECTS));
    if (t.tolerationSeconds !== undefined && effect !== 'NoExecute')
      errs.push(invalid(`${p}.effect`, effect ?? '', 'effect must be \'NoExecute\' when `tolerationSeconds` is set'));
  });
  return errs;
}

export interface PodSpecRules {
  /** Restart policies the owner allows (Jobs: OnFailure/Never; apps templates: Always). */
  readonly restartPolicies?: readonly string[];
}

/** ValidatePodSpec over the fields users commonly get wrong. */
export function validatePodSpec(spec: unknown, path: string, rules: PodSpecRules = {}): FieldError[] {
  const s = map(spec) ?? {};
  const errs: FieldError[] = [];
  const { errs: volumeErrs, names: volumes } = validateVolumes(s.volumes, `${path}.volumes`);
  errs.push(...volumeErrs);
  const ctx = { names: new Set<string>(), volumes };
  errs.push(...validateContainerList(s.initContainers, `${path}.initContainers`, ctx));
  if (list(s.containers).length === 0) errs.push(required(`${path}.containers`));
  else errs.push(...validateContainerList(s.containers, `${path}.containers`, ctx));

  const restartPolicy = str(s.restartPolicy) ?? '';
  if (!restartPolicy) errs.push(required(`${path}.restartPolicy`));
  else if (!RESTART_POLICIES.includes(restartPolicy)) errs.push(notSupported(`${path}.restartPolicy`, restartPolicy, RESTART_POLICIES));
  else if (rules.restartPolicies && !rules.restartPolicies.includes(restartPolicy))
    errs.push(notSupported(`${path}.restartPolicy`, restartPolicy, rules.restartPolicies));

  const dnsPolicy = str(s.dnsPolicy) ?? '';
  if (!dnsPolicy) errs.push(required(`${path}.dnsPolicy`));
  else if (!DNS_POLICIES.includes(dnsPolicy)) errs.push(notSupported(`${path}.dnsPolicy`, dnsPolicy, DNS_POLICIES));

  const deadline = s.activeDeadlineSeconds;
  if (deadline !== undefined && deadline !== null && (typeof deadline !== 'number' || deadline < 1 || deadline > 2147483647))
    errs.push(invalid(`${path}.activeDeadlineSeconds`, deadline, 'must be between 1 and 2147483647, inclusive'));
  const grace = num(s.terminationGracePeriodSeconds);
  if (grace !== undefined && grace < 0)
    errs.push(invalid(`${path}.terminationGracePeriodSeconds`, grace, 'must be greater than or equal to 0'));

  errs.push(...validateLabels(s.nodeSelector, `${path}.nodeSelector`));
  for (const key of ['serviceAccountName', 'nodeName'] as const) {
    const v = str(s[key]);
    if (v) for (const msg of isDns1123Subdomain(v)) errs.push(invalid(`${path}.${key}`, v, msg));
  }
  const hostname = str(s.hostname);
  if (hostname) for (const msg of isDns1123Label(hostname)) errs.push(invalid(`${path}.hostname`, hostname, msg));
  const subdomain = str(s.subdomain);
  if (subdomain) for (const msg of isDns1123Label(subdomain)) errs.push(invalid(`${path}.subdomain`, subdomain, msg));
  errs.push(...validateTolerations(s.tolerations, `${path}.tolerations`));
  if (s.securityContext !== undefined && s.securityContext !== null && !isMap(s.securityContext))
    errs.push(invalid(`${path}.securityContext`, s.securityContext, 'must be an object'));
  return errs;
}
