/**
 * NodeTunnel failures as Kubernetes Status errors. A node without a live agent link is 503
 * ServiceUnavailable with the tunnel's message (apiserver's nearest case, a kubelet it cannot
 * dial, is a 500 "error dialing backend"; 503 says better that it is temporary). A refusal by the
 * agent carries the kubelet's message (`container "x" in pod "y" is waiting to start:
 * ContainerCreating`); for logs it is a 400, printed by kubectl as `Error from server
 * (BadRequest): …`, as the kubelet's validateContainerLogStatus errors are. Refused upgrades are
 * answered the kubelet's way by pod-stream.ts.
 */
import { EdgeosError } from '../../../common/errors.ts';
import { LinkErrorCode } from '../../../common/link/errors.ts';
import { ApiError, badRequest, internalError, serviceUnavailable } from '../../storage/status.ts';

/** The agent refused the stream (TUNNEL_FAILED); its message is the kubelet's. */
export function isAgentRefusal(err: unknown): err is EdgeosError {
  return err instanceof EdgeosError && err.code === LinkErrorCode.TUNNEL_FAILED;
}

export function tunnelApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof EdgeosError && err.code === LinkErrorCode.TUNNEL_NO_AGENT) return serviceUnavailable(err.message);
  if (isAgentRefusal(err)) return badRequest(err.message);
  return internalError(err instanceof Error ? err.message : String(err), err);
}

/** When the server runs without the agent link (no NodeTunnel was given to the API). */
export function noTunnel(node: string): ApiError {
  return serviceUnavailable(`no tunnel to node ${node}: this server does not accept agent links`);
}
