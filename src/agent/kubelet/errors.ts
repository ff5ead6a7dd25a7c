import { EdgeosError } from '../../common/errors.ts';

/**
 * A container's configuration cannot be built from the cache (a missing ConfigMap, Secret or key
 * the pod does not mark optional): kubelet's CreateContainerConfigError. The pod waits and is
 * retried on the next sync, as soon as the link brings the object.
 */
export class ContainerConfigError extends EdgeosError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KUBELET_CONTAINER_CONFIG', message, options);
  }
}

/** A volume could not be set up (kubelet's FailedMount); the pod stays in ContainerCreating. */
export class VolumeSetupError extends EdgeosError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KUBELET_VOLUME_SETUP', message, options);
  }
}
