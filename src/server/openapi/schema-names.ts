/**
 * Where a kind's schema lives: the kubernetes-types module it is generated from and the upstream
 * OpenAPI name (io.k8s.api.core.v1.Pod, io.k8s.api.networking.v1.Ingress, …). Shared by
 * scripts/gen-openapi.ts and the document builder so both agree on names.
 */

/**
 * Types module → OpenAPI name prefix: the kubernetes-types modules with upstream's names, and
 * edgeos's own groups (`edgeos-<first label of the group>/<version>`, named like a CRD's schemas in
 * kube-apiserver: io.edgeos.apps.v1.NodePool).
 */
export const SCHEMA_PREFIX: Readonly<Record<string, string>> = {
  'core/v1': 'io.k8s.api.core.v1',
  'apps/v1': 'io.k8s.api.apps.v1',
  'batch/v1': 'io.k8s.api.batch.v1',
  'autoscaling/v1': 'io.k8s.api.autoscaling.v1',
  'autoscaling/v2': 'io.k8s.api.autoscaling.v2',
  'rbac/v1': 'io.k8s.api.rbac.v1',
  'authentication/v1': 'io.k8s.api.authentication.v1',
  'coordination/v1': 'io.k8s.api.coordination.v1',
  'discovery/v1': 'io.k8s.api.discovery.v1',
  'events/v1': 'io.k8s.api.events.v1',
  'policy/v1': 'io.k8s.api.policy.v1',
  'networking/v1': 'io.k8s.api.networking.v1',
  'storage/v1': 'io.k8s.api.storage.v1',
  'scheduling/v1': 'io.k8s.api.scheduling.v1',
  'node/v1': 'io.k8s.api.node.v1',
  'certificates/v1': 'io.k8s.api.certificates.v1',
  'apiextensions/v1': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1',
  'meta/v1': 'io.k8s.apimachinery.pkg.apis.meta.v1',
  'api/resource': 'io.k8s.apimachinery.pkg.api.resource',
  runtime: 'io.k8s.apimachinery.pkg.runtime',
  'edgeos-apps/v1': 'io.edgeos.apps.v1',
};

const EDGEOS_GROUP = /^([a-z0-9-]+)\.edgeos\.io$/;

/** The types module of an API group/version: "" → core/v1, "rbac.authorization.k8s.io" → rbac/v1, "apps.edgeos.io" → edgeos-apps/v1. */
export function typesModule(group: string, version: string): string {
  const own = EDGEOS_GROUP.exec(group);
  if (own) return `edgeos-${own[1]}/${version}`;
  return `${group === '' ? 'core' : (group.split('.')[0] ?? group)}/${version}`;
}

/** The upstream schema name of a kind, or undefined when its group/version has no generated schemas. */
export function schemaName(group: string, version: string, kind: string): string | undefined {
  const prefix = SCHEMA_PREFIX[typesModule(group, version)];
  return prefix ? `${prefix}.${kind}` : undefined;
}
