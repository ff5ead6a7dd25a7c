import type { Container, Pod } from 'kubernetes-types/core/v1';
import { ContainerConfigError } from './errors.ts';
import { expand } from './expand.ts';
import { fieldRefValue, resourceFieldValue } from './field-ref.ts';
import type { DownwardContext } from './field-ref.ts';
import { configMapEntries, secretEntries } from './objects.ts';
import type { ObjectSource } from './objects.ts';

export interface ResolvedEnv {
  env: Record<string, string>;
  /** envFrom keys that are not valid variable names (kubelet reports them in an event and skips them). */
  invalidKeys: string[];
}

// apimachinery's IsEnvVarName (without the RelaxedEnvironmentVariableValidation gate).
const validName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * kubelet's makeEnvironmentVariables: envFrom sources first (in order, with prefix), then env
 * entries, each value $(VAR)-expanded against the variables defined before it and the service
 * variables (service-env.ts), which are added last unless the container defines the same name. A
 * missing ConfigMap/Secret/key that is not optional is a ContainerConfigError
 * (CreateContainerConfigError).
 */
export async function resolveEnv(pod: Pod, container: Container, objects: ObjectSource, ctx: DownwardContext, serviceEnv: ReadonlyMap<string, string> = new Map()): Promise<ResolvedEnv> {
  const ns = pod.metadata?.namespace ?? '';
  const env = new Map<string, string>();
  const invalidKeys: string[] = [];

  for (const src of container.envFrom ?? []) {
    const prefix = src.prefix ?? '';
    let entries: Map<string, Buffer> | undefined;
    if (src.configMapRef) {
      const cm = await objects.configMap(ns, src.configMapRef.name ?? '');
      if (!cm) {
        if (src.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${src.configMapRef.name}" not found`);
      }
      entries = configMapEntries(cm);
    } else if (src.secretRef) {
      const s = await objects.secret(ns, src.secretRef.name ?? '');
      if (!s) {
        if (src.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${src.secretRef.name}" not found`);
      }
      entries = secretEntries(s);
    }
    for (const [k, v] of entries ?? []) {
      const name = prefix + k;
      if (!validName.test(name)) {
        invalidKeys.push(name);
        continue;
      }
      env.set(name, v.toString());
    }
  }

  for (const e of container.env ?? []) {
    const from = e.valueFrom;
    if (!from) {
      env.set(e.name, expand(e.value ?? '', (n) => env.get(n) ?? serviceEnv.get(n)));
      continue;
    }
    if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const cm = await objects.configMap(ns, ref.name ?? '');
      if (!cm) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`configmap "${ref.name}" not found`);
      }
      const v = configMapEntries(cm).get(ref.key);
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
      }
      env.set(e.name, v.toString());
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const s = await objects.secret(ns, ref.name ?? '');
      if (!s) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`secret "${ref.name}" not found`);
      }
      const v = secretEntries(s).get(ref.key);
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
      }
      env.set(e.name, v.toString());
    } else if (from.fieldRef) {
      env.set(e.name, wrap(() => fieldRefValue(pod, from.fieldRef!, ctx)));
    } else if (from.resourceFieldRef) {
      const ref = from.resourceFieldRef;
      const target = ref.containerName ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === ref.containerName) : container;
      if (!target) throw new ContainerConfigError(`resourceFieldRef names unknown container "${ref.containerName}"`);
      env.set(e.name, wrap(() => resourceFieldValue(target, ref, ctx)));
    }
  }
  for (const [k, v] of serviceEnv) if (!env.has(k)) env.set(k, v);
  return { env: Object.fromEntries(env), invalidKeys };
}

function wrap(fn: () => string): string {
  try {
    return fn();
  } catch (err) {
    throw new ContainerConfigError((err as Error).message, { cause: err });
  }
}

/** command and args with $(VAR) expanded against the container's final environment. */
export function expandCommand(container: Container, env: Record<string, string>): { command?: string[]; args?: string[] } {
  const look = (n: string): string | undefined => env[n];
  return {
    command: container.command?.map((s) => expand(s, look)),
    args: container.args?.map((s) => expand(s, look)),
  };
}
