/**
 * `application/vnd.kubernetes.protobuf` request bodies, which typed kubectl commands send
 * (`create configmap|secret|deployment|namespace …`, drain's DELETE fallback; kubectl-wire.md §0),
 * decoded by the protobuf module into the same JSON objects the rest of the API works on.
 */
import type { KubeObject } from '../kinds/types.ts';
import { ProtobufDecodeError, decodeKubernetesProtobuf } from '../protobuf/index.ts';
import { ApiError, badRequest } from '../storage/status.ts';

export async function decodeProtobufBody(buf: Buffer): Promise<KubeObject> {
  try {
    return decodeKubernetesProtobuf(buf);
  } catch (e) {
    if (e instanceof ProtobufDecodeError) {
      if (e.status === 415) throw new ApiError(415, 'UnsupportedMediaType', e.message);
      throw badRequest(e.message);
    }
    throw e;
  }
}
