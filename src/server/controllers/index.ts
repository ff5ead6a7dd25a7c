// The controllers `edgeos server` runs, and the manager that runs them.
import { hpaController } from './autoscaling/hpa-controller.ts';
import { deployController } from './deploy/deploy-controller.ts';
import { endpointSliceController } from './endpoints/endpointslice-controller.ts';
import { endpointsController } from './endpoints/endpoints-controller.ts';
import { garbageCollectorController } from './gc/garbage-collector.ts';
import { namespaceController } from './namespace/namespace-controller.ts';
import { nodeLifecycleController } from './node-lifecycle/node-lifecycle.ts';
import { nodePoolController } from './pools/node-pool-controller.ts';
import { poolSetController } from './pools/pool-set-controller.ts';
import { schedulerController } from './scheduler/scheduler.ts';
import { clusterServicesController } from './services/cluster-services.ts';
import type { ClusterServicesOptions } from './services/cluster-services.ts';
import { loadBalancerController } from './services/load-balancer.ts';
import type { ControllerDescriptor } from './types.ts';
import { volumeControllers } from './volumes/index.ts';
import { workloadControllers } from './workloads/index.ts';

export { createControllerManager } from './manager.ts';
export type { ControllerManager, ControllerManagerDeps } from './manager.ts';
export type * from './types.ts';

export const builtinControllers: readonly ControllerDescriptor[] = [
  schedulerController,
  nodeLifecycleController,
  endpointsController,
  endpointSliceController,
  namespaceController,
  garbageCollectorController,
  ...workloadControllers,
  ...volumeControllers,
  deployController,
  nodePoolController,
  poolSetController,
  { name: 'horizontal-pod-autoscaler', create: hpaController },
];

/**
 * The Service controllers that need the server's settings: the `kubernetes` and `kube-dns`
 * Services, and load-balancer addresses (docs/services.md).
 */
export function clusterServiceControllers(o: ClusterServicesOptions): readonly ControllerDescriptor[] {
  return [clusterServicesController(o), loadBalancerController];
}

/** node.spec.podCIDR from --cluster-cidr (docs/podnet.md). */
export { podCidrController } from './node-ipam/pod-cidr-controller.ts';

/** Every namespace's `default` ServiceAccount and `kube-root-ca.crt` (pods' in-cluster API access). */
export { namespaceDefaultsController } from './serviceaccounts/namespace-defaults.ts';
