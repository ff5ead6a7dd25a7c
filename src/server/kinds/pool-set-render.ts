/**
 * A PoolSet's workload for one pool, as pure functions shared by the PoolSet kind (which tries the
 * tweaks at create/update time and refuses one that does not apply) and the PoolSet controller
 * (which writes the result): the template, then each tweak that selects the pool in order
 * (replicas, container images, env, RFC 6902 patches), then the pinning nobody can tweak away —
 * name, namespace, the pool label in the selector, on the pods and as their nodeSelector.
 */
import jsonpatch, { type Operation } from 'fast-json-patch';
import { POOL_LABEL } from '../../common/pools.ts';
import { child, isMap, list, map, maps, num, str, stringMap } from './access.ts';
import { selectorMatches } from './label-selector.ts';
import type { JsonMap } from './access.ts';
import type { KubeObject } from './types.ts';

/** The label every pool workload carries with its PoolSet's name. */
export const POOLSET_LABEL = 'apps.edgeos.io/poolset';

export type WorkloadKind = 'Deployment' | 'StatefulSet';

export interface PoolTemplate {
  readonly kind: WorkloadKind;
  /** Field path of the template in the PoolSet, for errors. */
  readonly path: string;
  readonly metadata: JsonMap;
  readonly spec: JsonMap;
}

const TEMPLATE_PATH = 'spec.workload.workloadTemplate';
const TEMPLATES: readonly { field: string; kind: WorkloadKind }[] = [
  { field: 'deploymentTemplate', kind: 'Deployment' },
  { field: 'statefulSetTemplate', kind: 'StatefulSet' },
];

/** The templates the PoolSet gives (valid ones give exactly one). */
export function poolTemplates(poolSet: KubeObject): PoolTemplate[] {
  const t = map(map(map(poolSet.spec)?.workload)?.workloadTemplate) ?? {};
  return TEMPLATES.filter((x) => isMap(t[x.field])).map((x) => {
    const m = map(t[x.field]) ?? {};
    return { kind: x.kind, path: `${TEMPLATE_PATH}.${x.field}`, metadata: map(m.metadata) ?? {}, spec: map(m.spec) ?? {} };
  });
}

export interface PoolRef {
  readonly name: string;
  /** The NodePool's labels (what nodepoolSelector matches). */
  readonly labels: Readonly<Record<string, string>>;
}

/** Whether a list of names and/or a nodepoolSelector picks the pool (neither picks none). */
export function picksPool(names: unknown, selector: unknown, pool: PoolRef): boolean {
  if (list(names).includes(pool.name)) return true;
  return isMap(selector) && selectorMatches(selector, { ...pool.labels });
}

/** A tweak that cannot be applied: the field that names it, and why. */
export interface TweakFailure {
  readonly field: string;
  readonly value: unknown;
  readonly message: string;
}

/** The containers (and init containers) of the workload's pod template. */
function containersOf(workload: KubeObject, withInit: boolean): JsonMap[] {
  const pod = map(map(map(workload.spec)?.template)?.spec) ?? {};
  return [...maps(pod.containers), ...(withInit ? maps(pod.initContainers) : [])];
}

function patchFailure(err: unknown): string {
  if (err instanceof jsonpatch.JsonPatchError) {
    const first = err.message.split('\n', 1)[0] ?? err.name;
    switch (err.name) {
      case 'OPERATION_PATH_UNRESOLVABLE':
      case 'OPERATION_PATH_CANNOT_ADD':
      case 'OPERATION_PATH_ILLEGAL_ARRAY_INDEX':
        return 'the path does not exist in the workload';
      case 'OPERATION_FROM_UNRESOLVABLE':
        return 'the from path does not exist in the workload';
      case 'TEST_OPERATION_FAILED':
        return 'the test failed';
      default:
        return first;
    }
  }
  return String(err);
}

/** Apply one tweak (the `tweaks` object of a workloadTweak at `path`) to the workload; mutates it. */
export function applyTweaks(workload: KubeObject, tweaks: unknown, path: string): TweakFailure | undefined {
  const t = map(tweaks) ?? {};
  const replicas = num(t.replicas);
  if (replicas !== undefined) child(workload as JsonMap, 'spec').replicas = replicas;
  for (const [i, ci] of maps(t.containerImages).entries()) {
    const name = str(ci.name) ?? '';
    const container = containersOf(workload, true).find((c) => c.name === name);
    if (!container) return { field: `${path}.containerImages[${i}].name`, value: name, message: 'no container or init container of that name in the template' };
    container.image = ci.targetImage;
  }
  for (const [i, e] of maps(t.env).entries()) {
    const containerName = str(e.containerName);
    const targets = containersOf(workload, false).filter((c) => containerName === undefined || containerName === '' || c.name === containerName);
    if (containerName && targets.length === 0) return { field: `${path}.env[${i}].containerName`, value: containerName, message: 'no container of that name in the template' };
    const variable: JsonMap = { name: e.name };
    if (e.value !== undefined) variable.value = e.value;
    if (e.valueFrom !== undefined) variable.valueFrom = e.valueFrom;
    for (const c of targets) {
      const env = maps(c.env);
      const at = env.findIndex((v) => v.name === e.name);
      if (at >= 0) env[at] = structuredClone(variable);
      else env.push(structuredClone(variable));
      c.env = env;
    }
  }
  let doc: unknown = workload;
  for (const [i, op] of list(t.patches).entries()) {
    try {
      doc = jsonpatch.applyOperation(doc, structuredClone(op) as Operation, true, true, true, i).newDocument;
    } catch (err) {
      return { field: `${path}.patches[${i}]`, value: op, message: patchFailure(err) };
    }
    if (doc !== workload) return { field: `${path}.patches[${i}]`, value: op, message: 'a patch may not replace the whole workload' };
  }
  return undefined;
}

/** The workload object a template starts as, before tweaks and pinning. */
export function workloadFromTemplate(template: PoolTemplate): KubeObject {
  const metadata: JsonMap = {};
  if (isMap(template.metadata.labels)) metadata.labels = { ...stringMap(template.metadata.labels) };
  if (isMap(template.metadata.annotations)) metadata.annotations = { ...stringMap(template.metadata.annotations) };
  return { apiVersion: 'apps/v1', kind: template.kind, metadata, spec: structuredClone(template.spec) };
}

/** `<poolset>-<pool>`: the name of a pool's workload. */
export function workloadName(poolSetName: string, pool: string): string {
  return `${poolSetName}-${pool}`;
}

export type Rendered = { readonly kind: WorkloadKind; readonly object: KubeObject } | { readonly failure: TweakFailure };

/** The pool's workload: template, the tweaks that select the pool, then the pinning. */
export function renderPoolWorkload(poolSet: KubeObject, pool: PoolRef): Rendered | undefined {
  const template = poolTemplates(poolSet)[0];
  if (!template) return undefined;
  const workload = workloadFromTemplate(template);
  const tweaks = maps(map(map(poolSet.spec)?.workload)?.workloadTweaks);
  for (const [i, tweak] of tweaks.entries()) {
    if (!picksPool(tweak.pools, tweak.nodepoolSelector, pool)) continue;
    const failure = applyTweaks(workload, tweak.tweaks, `spec.workload.workloadTweaks[${i}].tweaks`);
    if (failure) return { failure };
  }
  pin(workload, str(map(poolSet.metadata)?.name) ?? '', str(map(poolSet.metadata)?.namespace) ?? '', pool.name);
  return { kind: template.kind, object: workload };
}

/** What keeps a workload in its pool: its name, its labels, and the pool label in selector, pods and nodeSelector. */
function pin(workload: KubeObject, poolSet: string, namespace: string, pool: string): void {
  const meta = child(workload as JsonMap, 'metadata');
  meta.name = workloadName(poolSet, pool);
  meta.namespace = namespace;
  meta.labels = { ...stringMap(meta.labels), [POOLSET_LABEL]: poolSet, [POOL_LABEL]: pool };
  const spec = child(workload as JsonMap, 'spec');
  const selector = child(spec, 'selector');
  selector.matchLabels = { ...stringMap(selector.matchLabels), [POOL_LABEL]: pool };
  const template = child(spec, 'template');
  const podMeta = child(template, 'metadata');
  podMeta.labels = { ...stringMap(podMeta.labels), [POOL_LABEL]: pool };
  const podSpec = child(template, 'spec');
  podSpec.nodeSelector = { ...stringMap(podSpec.nodeSelector), [POOL_LABEL]: pool };
}
