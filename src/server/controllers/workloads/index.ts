/**
 * The workload controllers of kube-controller-manager, named as in its --controllers flag. The
 * manager registers these descriptors (types.ts convention) and gives each its own context.
 */
import type { ControllerDescriptor } from '../types.ts';
import { cronJobController } from './cron-job.ts';
import { daemonSetController } from './daemon-set.ts';
import { deploymentController } from './deployment.ts';
import { jobController } from './job.ts';
import { replicaSetController } from './replica-set.ts';
import { statefulSetController } from './stateful-set.ts';
import { ttlAfterFinishedController } from './ttl-after-finished.ts';

export const workloadControllers: readonly ControllerDescriptor[] = [
  { name: 'replicaset', create: replicaSetController },
  { name: 'deployment', create: deploymentController },
  { name: 'job', create: jobController },
  { name: 'daemonset', create: daemonSetController },
  { name: 'statefulset', create: statefulSetController },
  { name: 'cronjob', create: cronJobController },
  { name: 'ttl-after-finished', create: ttlAfterFinishedController },
];
