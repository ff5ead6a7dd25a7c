/**
 * Serving custom resources: the registry serves a CRD's versions and OpenAPI publishes them as soon
 * as the CRD's write commits (the CRD kind's afterWrite hook, src/server/kinds/crd.ts, calls this
 * through the API's WriteContext), and at start for every stored CRD (bootstrap.ts).
 */
import type { KubeObject } from '../../kinds/types.ts';
import { openapiAddCrd, openapiRemoveCrd } from '../../openapi/index.ts';
import { resourcesFromCrd } from '../../registry/index.ts';
import type { ResourceRegistry } from '../../registry/index.ts';

/** Serve (or stop serving) the resources of one CRD. */
export function syncCrd(registry: ResourceRegistry, name: string, crd: KubeObject | undefined): void {
  const served = crd ? resourcesFromCrd(crd) : [];
  registry.setCustom(name, served);
  if (crd && served.length > 0) openapiAddCrd(crd);
  else openapiRemoveCrd(name);
}
