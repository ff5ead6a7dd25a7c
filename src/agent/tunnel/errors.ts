import type { AreaCode } from '../../common/error-codes.ts';
import { EdgeosError } from '../../common/errors.ts';

/**
 * Why the agent refused a tunnel stream before writing to it. The link reports the message to the
 * server (TUNNEL_FAILED), which shows it to kubectl, so messages are the kubelet's own wording.
 * Codes are public API.
 */
export class TunnelRequestError extends EdgeosError {
  constructor(code: AreaCode<'TUNNEL'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** kubelet validateContainerLogStatus: the container has not been created on this node yet. */
export class ContainerWaitingError extends TunnelRequestError {
  constructor(container: string, pod: string, reason: string) {
    super('TUNNEL_CONTAINER_WAITING', `container "${container}" in pod "${pod}" is waiting to start: ${reason}`);
  }
}

/** kubelet validateContainerLogStatus with previous=true and no earlier instance. */
export class NoPreviousContainerError extends TunnelRequestError {
  constructor(container: string, pod: string, options?: { cause?: unknown }) {
    super('TUNNEL_NO_PREVIOUS_CONTAINER', `previous terminated container "${container}" in pod "${pod}" not found`, options);
  }
}

/** kubelet findContainer (exec, attach): no running container of that name in the pod. */
export class ContainerNotRunningError extends TunnelRequestError {
  constructor(container: string) {
    super('TUNNEL_CONTAINER_NOT_FOUND', `container not found ("${container}")`);
  }
}

/** kubelet GetPortForward: the pod has no ready sandbox on this node; it names the pod name_namespace. */
export class PodNotRunningError extends TunnelRequestError {
  constructor(name: string, namespace: string) {
    super('TUNNEL_POD_NOT_FOUND', `pod not found ("${name}_${namespace}")`);
  }
}

/** The request head to replay is missing or not an HTTP/1.1 upgrade request. */
export class UpgradeHeadError extends TunnelRequestError {
  constructor(message: string) {
    super('TUNNEL_BAD_UPGRADE_HEAD', message);
  }
}

/** containerd's streaming server could not be reached at the URL the runtime returned. */
export class StreamingServerError extends TunnelRequestError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TUNNEL_STREAMING_SERVER', message, options);
  }
}
