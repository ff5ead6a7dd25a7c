/**
 * Containers: defaulting from pkg/apis/core/v1/defaults.go (SetDefaults_Container, _ContainerPort,
 * _ObjectFieldSelector) and validation from pkg/apis/core/validation (validateContainers,
 * validateContainerPorts, validateEnv, ValidateResourceRequirements). Probes live in probe.ts.
 */
import { child, map, maps, num, setDefault, str, type JsonMap } from './access.ts';
import { duplicate, invalid, notFound, notSupported, required } from './field-errors.ts';
import { defaultProbesAndHooks, validateProbesAndHooks } from './probe.ts';
import { isDns1123Label, isQualifiedName, isValidPortName, isValidPortNum } from './names.ts';
import { isQuantity, parseQuantity, quantityError } from '../../common/quantity.ts';
import type { FieldError } from './types.ts';

/** SetDefaults_Container: ":latest" or no tag pulls Always, anything else IfNotPresent. */
export function defaultPullPolicy(image: string): string {
  // ParseImageName fails on an empty image, leaving no tag: IfNotPresent, like upstream.
  if (image === '' || image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  const tag = colon === -1 ? '' : lastSegment.slice(colon + 1);
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

export function defaultContainer(c: JsonMap): void {
  setDefault(c, 'imagePullPolicy', defaultPullPolicy(typeof c.image === 'string' ? c.image : ''));
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  // ResourceRequirements is a non-pointer struct upstream, so it always serializes as {}.
  const resources = child(c, 'resources');
  // SetDefaults_Pod: a limit without a request means request = limit.
  const limits = map(resources.limits);
  if (limits) {
    const requests = child(resources, 'requests');
    // A malformed limit fails decoding upstream before defaulting, so it is reported once, not copied.
    for (const [k, v] of Object.entries(limits)) if (isQuantity(v)) setDefault(requests, k, v);
  }
  for (const port of maps(c.ports)) setDefault(port, 'protocol', 'TCP');
  for (const env of maps(c.env)) {
    const fieldRef = map(map(env.valueFrom)?.fieldRef);
    if (fieldRef) setDefault(fieldRef, 'apiVersion', 'v1');
  }
  defaultProbesAndHooks(c);
}

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['FallbackToLogsOnError', 'File'];
const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'storage']);

/** validateContainerPorts. */
function validatePorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  maps(ports).forEach((port, i) => {
    const p = `${path}[${i}]`;
    const name = str(port.name);
    if (name) {
      for (const msg of isValidPortName(name)) errs.push(invalid(`${p}.name`, name, msg));
      if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
      names.add(name);
    }
    const containerPort = num(port.containerPort) ?? 0;
    if (containerPort === 0) errs.push(required(`${p}.containerPort`));
    else for (const msg of isValidPortNum(containerPort)) errs.push(invalid(`${p}.containerPort`, containerPort, msg));
    const hostPort = num(port.hostPort) ?? 0;
    if (hostPort !== 0) for (const msg of isValidPortNum(hostPort)) errs.push(invalid(`${p}.hostPort`, hostPort, msg));
    const protocol = str(port.protocol) ?? '';
    if (!protocol) errs.push(required(`${p}.protocol`));
    else if (!PROTOCOLS.includes(protocol)) errs.push(notSupported(`${p}.protocol`, protocol, PROTOCOLS));
  });
  return errs;
}

/** validateEnv with RelaxedEnvironmentVariableValidation (beta, on by default in 1.32). */
function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  maps(env).forEach((e, i) => {
    const p = `${path}[${i}]`;
    const name = str(e.name) ?? '';
    if (!name) errs.push(required(`${p}.name`));
    else if (/[^\x20-\x7e]|=/.test(name))
      errs.push(invalid(`${p}.name`, name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
  });
  return errs;
}

/** ValidateResourceRequirements: names, non-negative quantities, requests ≤ limits. */
export function validateResources(resources: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const r = map(resources) ?? {};
  const parsed: Record<'limits' | 'requests', Map<string, number>> = { limits: new Map(), requests: new Map() };
  for (const kind of ['limits', 'requests'] as const) {
    for (const [name, raw] of Object.entries(map(r[kind]) ?? {})) {
      const p = `${path}.${kind}[${name}]`;
      if (!STANDARD_RESOURCES.has(name) && !name.startsWith('hugepages-') && !name.includes('/'))
        errs.push(invalid(p, name, 'must be a standard resource type or fully qualified'));
      else if (name.includes('/')) for (const msg of isQualifiedName(name)) errs.push(invalid(p, name, msg));
      const text = typeof raw === 'number' ? String(raw) : str(raw);
      const problem = text === undefined ? 'must be a quantity' : quantityError(text);
      if (problem || text === undefined) {
        errs.push(invalid(p, raw, problem));
        continue;
      }
      const value = parseQuantity(text);
      if (value < 0) errs.push(invalid(p, text, 'must be greater than or equal to 0'));
      else parsed[kind].set(name, value);
    }
  }
  const rawRequests = map(r.requests) ?? {};
  const rawLimits = map(r.limits) ?? {};
  for (const [name, request] of parsed.requests) {
    const limit = parsed.limits.get(name);
    if (limit !== undefined && request > limit)
      errs.push(
        invalid(`${path}.requests`, String(rawRequests[name]), `must be less than or equal to ${name} limit of ${String(rawLimits[name])}`),
      );
  }
  return errs;
}

/** Context shared by all containers of one pod spec. */
export interface ContainerContext {
  /** Names seen so far across initContainers and containers (duplicates are reported on both). */
  readonly names: Set<string>;
  readonly volumes: ReadonlySet<string>;
}

/** validateContainers / validateInitContainers for one list. */
export function validateContainerList(containers: unknown, path: string, ctx: ContainerContext): FieldError[] {
  const errs: FieldError[] = [];
  maps(containers).forEach((c, i) => {
    const p = `${path}[${i}]`;
    const name = str(c.name) ?? '';
    if (!name) errs.push(required(`${p}.name`));
    else {
      for (const msg of isDns1123Label(name)) errs.push(invalid(`${p}.name`, name, msg));
      if (ctx.names.has(name)) errs.push(duplicate(`${p}.name`, name));
      ctx.names.add(name);
    }
    const image = str(c.image) ?? '';
    if (!image) errs.push(required(`${p}.image`));
    else if (image !== image.trim()) errs.push(invalid(`${p}.image`, image, 'must not have leading or trailing whitespace'));
    const pullPolicy = str(c.imagePullPolicy) ?? '';
    if (!pullPolicy) errs.push(required(`${p}.imagePullPolicy`));
    else if (!PULL_POLICIES.includes(pullPolicy)) errs.push(notSupported(`${p}.imagePullPolicy`, pullPolicy, PULL_POLICIES));
    const tmp = str(c.terminationMessagePolicy) ?? '';
    if (!tmp) errs.push(required(`${p}.terminationMessagePolicy`));
    else if (!TERMINATION_MESSAGE_POLICIES.includes(tmp))
      errs.push(notSupported(`${p}.terminationMessagePolicy`, tmp, TERMINATION_MESSAGE_POLICIES));
    errs.push(...validatePorts(c.ports, `${p}.ports`));
    errs.push(...validateEnv(c.env, `${p}.env`));
    maps(c.volumeMounts).forEach((m, j) => {
      const mp = `${p}.volumeMounts[${j}]`;
      const mountName = str(m.name) ?? '';
      if (!mountName) errs.push(required(`${mp}.name`));
      else if (!ctx.volumes.has(mountName)) errs.push(notFound(`${mp}.name`, mountName));
      if (!str(m.mountPath)) errs.push(required(`${mp}.mountPath`));
    });
    errs.push(...validateResources(c.resources, `${p}.resources`));
    errs.push(...validateProbesAndHooks(c, p));
  });
  return errs;
}
