/**
 * The embedded proto definitions, parsed once on first use (the single executable reads no .proto
 * files), and the message type of each apiVersion/kind a typed kubectl command sends.
 */
import protobuf from 'protobufjs';
import { authenticationV1Proto, networkingV1Proto, policyV1Proto, rbacV1Proto, schedulingV1Proto } from './schema/access.ts';
import { coreV1Proto } from './schema/core.ts';
import { metaProto, metaV1Proto } from './schema/meta.ts';
import { appsV1Proto, autoscalingV1Proto, batchV1Proto } from './schema/workloads.ts';

const kinds: Readonly<Record<string, string>> = {
  'v1/ConfigMap': 'core.ConfigMap',
  'v1/Secret': 'core.Secret',
  'v1/Namespace': 'core.Namespace',
  'v1/Service': 'core.Service',
  'v1/ServiceAccount': 'core.ServiceAccount',
  'v1/ResourceQuota': 'core.ResourceQuota',
  'v1/Pod': 'core.Pod',
  // DeleteOptions travels as v1 (drain's DELETE fallback) or meta.k8s.io/v1.
  'v1/DeleteOptions': 'meta.DeleteOptions',
  'meta.k8s.io/v1/DeleteOptions': 'meta.DeleteOptions',
  'apps/v1/Deployment': 'apps.Deployment',
  'autoscaling/v1/HorizontalPodAutoscaler': 'autoscaling.HorizontalPodAutoscaler',
  'batch/v1/Job': 'batch.Job',
  'batch/v1/CronJob': 'batch.CronJob',
  'rbac.authorization.k8s.io/v1/Role': 'rbac.Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'rbac.ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rbac.RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'rbac.ClusterRoleBinding',
  'policy/v1/PodDisruptionBudget': 'policy.PodDisruptionBudget',
  'policy/v1/Eviction': 'policy.Eviction',
  'scheduling.k8s.io/v1/PriorityClass': 'scheduling.PriorityClass',
  'networking.k8s.io/v1/Ingress': 'networking.Ingress',
  'authentication.k8s.io/v1/TokenRequest': 'authentication.TokenRequest',
};

let root: protobuf.Root | undefined;

function loadRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  for (const text of [
    metaProto, metaV1Proto, coreV1Proto, appsV1Proto, batchV1Proto, autoscalingV1Proto,
    rbacV1Proto, policyV1Proto, schedulingV1Proto, networkingV1Proto, authenticationV1Proto,
  ]) {
    // keepCase: field names are the JSON names already (go-to-protobuf uses the json tags).
    protobuf.parse(text, r, { keepCase: true });
  }
  r.resolveAll();
  root = r;
  return r;
}

export function unknownType(): protobuf.Type {
  return loadRoot().lookupType('runtime.Unknown');
}

/** The message type for apiVersion/kind, or undefined when this server has no definition. */
export function typeFor(apiVersion: string, kind: string): protobuf.Type | undefined {
  const name = kinds[`${apiVersion}/${kind}`];
  return name === undefined ? undefined : loadRoot().lookupType(name);
}

/** The apiVersion/kind pairs that decode (for tests and error messages). */
export function supportedKinds(): string[] {
  return Object.keys(kinds);
}
