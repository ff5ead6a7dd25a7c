import type { AreaCode } from '../../common/error-codes.ts';
import { EdgeosError } from '../../common/errors.ts';

/**
 * A protobuf request body the server cannot use: `status` 400 for bytes that do not decode, 415 for a
 * well-formed envelope naming a kind this server has no protobuf definition for (send JSON instead).
 */
export class ProtobufDecodeError extends EdgeosError {
  readonly status: 400 | 415;
  readonly reason: 'BadRequest' | 'UnsupportedMediaType';

  constructor(code: AreaCode<'PROTOBUF'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = code === 'PROTOBUF_CORRUPT' ? 400 : 415;
    this.reason = code === 'PROTOBUF_CORRUPT' ? 'BadRequest' : 'UnsupportedMediaType';
  }
}

export function corrupt(detail: string, cause?: unknown): ProtobufDecodeError {
  return new ProtobufDecodeError(
    'PROTOBUF_CORRUPT',
    `the body of the request could not be decoded: ${detail}`,
    cause === undefined ? undefined : { cause },
  );
}

export function unsupportedKind(apiVersion: string, kind: string): ProtobufDecodeError {
  return new ProtobufDecodeError(
    'PROTOBUF_UNSUPPORTED_KIND',
    `the body of the request was in an unknown format - protobuf is not supported for ${kind || '<no kind>'} (${apiVersion || '<no apiVersion>'}); accepted media types include: application/json, application/yaml`,
  );
}
