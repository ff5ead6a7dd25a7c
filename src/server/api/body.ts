/**
 * Request bodies: size limit, media type and decoding into a JSON object. Typed kubectl commands
 * (`create configmap …`) send protobuf bodies (kubectl-wire.md §0), decoded by the protobuf module.
 */
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { errorMessage } from '../../common/errors.ts';
import type { KubeObject } from '../kinds/types.ts';
import { decodeProtobufBody } from './protobuf-body.ts';
import { badRequest, tooLarge, unsupportedMediaType } from '../storage/status.ts';

/** apiserver's limit for a request body (3 MiB, `MaxRequestBodyBytes`). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export const JSON_TYPE = 'application/json';
export const YAML_TYPE = 'application/yaml';
export const PROTOBUF_TYPE = 'application/vnd.kubernetes.protobuf';
export const OBJECT_MEDIA_TYPES = [JSON_TYPE, YAML_TYPE, PROTOBUF_TYPE] as const;

/** The media type without parameters, lower-cased; "" when the header is absent. */
export function mediaType(req: IncomingMessage): string {
  const ct = req.headers['content-type'] ?? '';
  return (ct.split(';')[0] ?? '').trim().toLowerCase();
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) {
        failed = true;
        reject(e);
      }
    });
  });
}

function asObject(v: unknown, what: string): KubeObject {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${what}: the body must be an object`);
  return v as KubeObject;
}

export function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${errorMessage(e)}`);
  }
}

export function parseYamlBody(buf: Buffer): unknown {
  try {
    return parseYaml(buf.toString('utf8'));
  } catch (e) {
    throw badRequest(`error converting YAML to JSON: ${errorMessage(e)}`);
  }
}

/** Decode a create/update body by its Content-Type (absent means JSON, as kubectl's PUT on /scale relies on, §8). */
export async function decodeObject(buf: Buffer, type: string): Promise<KubeObject> {
  if (buf.length === 0) throw badRequest('the body of the request is empty');
  switch (type) {
    case '':
    case JSON_TYPE:
      return asObject(parseJson(buf), 'couldn\'t get version/kind');
    case YAML_TYPE:
    case 'application/x-yaml':
    case 'text/yaml':
      return asObject(parseYamlBody(buf), 'couldn\'t get version/kind');
    case PROTOBUF_TYPE:
      return decodeProtobufBody(buf);
    default:
      throw unsupportedMediaType(type, OBJECT_MEDIA_TYPES);
  }
}
