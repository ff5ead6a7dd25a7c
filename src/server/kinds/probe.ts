/**
 * Probes and lifecycle hooks: SetDefaults_Probe / _HTTPGetAction (pkg/apis/core/v1/defaults.go) and
 * validateProbe / validateHandler (pkg/apis/core/validation): one handler type, valid ports, and
 * successThreshold 1 for liveness and startup probes.
 */
import { isMap, map, num, setDefault, str, type JsonMap } from './access.ts';
import { forbidden, invalid, notSupported, required } from './field-errors.ts';
import { isValidPortName, isValidPortNum } from './names.ts';
import type { FieldError } from './types.ts';

function defaultProbe(probe: unknown): void {
  if (!isMap(probe)) return;
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
  const httpGet = map(probe.httpGet);
  if (httpGet) {
    setDefault(httpGet, 'path', '/');
    setDefault(httpGet, 'scheme', 'HTTP');
  }
}

function defaultLifecycleHandler(handler: unknown): void {
  const httpGet = map(map(handler)?.httpGet);
  if (httpGet) {
    setDefault(httpGet, 'path', '/');
    setDefault(httpGet, 'scheme', 'HTTP');
  }
}

export function defaultProbesAndHooks(c: JsonMap): void {
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  const lifecycle = map(c.lifecycle);
  if (lifecycle) {
    defaultLifecycleHandler(lifecycle.postStart);
    defaultLifecycleHandler(lifecycle.preStop);
  }
}

const HANDLER_TYPES = ['exec', 'httpGet', 'tcpSocket', 'grpc'];

/** ValidatePortNumOrName. */
function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((msg) => invalid(path, port, msg));
  if (typeof port === 'string' && port !== '') return isValidPortName(port).map((msg) => invalid(path, port, msg));
  return [required(path)];
}

/** validateHandler: exactly one handler type, and its port/scheme well formed. */
function validateHandler(handler: JsonMap, path: string, types: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  const present = types.filter((t) => handler[t] !== undefined && handler[t] !== null);
  if (present.length === 0) return [required(path, 'must specify a handler type')];
  for (const extra of present.slice(1)) errs.push(forbidden(`${path}.${extra}`, 'may not specify more than 1 handler type'));
  const httpGet = map(handler.httpGet);
  if (httpGet) {
    errs.push(...validatePortNumOrName(httpGet.port, `${path}.httpGet.port`));
    const scheme = str(httpGet.scheme);
    if (scheme !== undefined && !['HTTP', 'HTTPS'].includes(scheme)) errs.push(notSupported(`${path}.httpGet.scheme`, scheme, ['HTTP', 'HTTPS']));
  }
  const tcp = map(handler.tcpSocket);
  if (tcp) errs.push(...validatePortNumOrName(tcp.port, `${path}.tcpSocket.port`));
  const exec = map(handler.exec);
  if (exec && (!Array.isArray(exec.command) || exec.command.length === 0)) errs.push(required(`${path}.exec.command`));
  return errs;
}

/** validateProbe plus the liveness/startup rule that successThreshold must be 1. */
function validateProbe(probe: unknown, path: string, kind: 'liveness' | 'readiness' | 'startup'): FieldError[] {
  const p = map(probe);
  if (!p) return [];
  const errs = validateHandler(p, path, HANDLER_TYPES);
  for (const key of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = num(p[key]);
    if (v !== undefined && v < 0) errs.push(invalid(`${path}.${key}`, v, 'must be greater than or equal to 0'));
  }
  const success = num(p.successThreshold);
  if (kind !== 'readiness' && success !== undefined && success !== 1) errs.push(invalid(`${path}.successThreshold`, success, 'must be 1'));
  return errs;
}

export function validateProbesAndHooks(c: JsonMap, path: string): FieldError[] {
  const errs = [
    ...validateProbe(c.livenessProbe, `${path}.livenessProbe`, 'liveness'),
    ...validateProbe(c.readinessProbe, `${path}.readinessProbe`, 'readiness'),
    ...validateProbe(c.startupProbe, `${path}.startupProbe`, 'startup'),
  ];
  const lifecycle = map(c.lifecycle) ?? {};
  for (const hook of ['postStart', 'preStop'] as const) {
    const h = map(lifecycle[hook]);
    // Hooks take exec, httpGet, tcpSocket or sleep; gRPC is for probes only.
    if (h) errs.push(...validateHandler(h, `${path}.lifecycle.${hook}`, ['exec', 'httpGet', 'tcpSocket', 'sleep']));
  }
  return errs;
}
