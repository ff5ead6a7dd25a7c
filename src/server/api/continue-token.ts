/**
 * List continue tokens, shaped like apiserver's: base64url of
 * `{"v":"meta.k8s.io/v1","rv":<list revision>,"start":"<key after the prefix>"}`. Following pages
 * read at the same revision so one paginated list is a consistent snapshot.
 */
import { badRequest } from '../storage/status.ts';

export interface ContinuePosition {
  /** The revision the first page was read at. */
  readonly revision: number;
  /** The last key returned, relative to the list prefix; the next page starts after it. */
  readonly after: string;
}

export function encodeContinue(pos: ContinuePosition): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: pos.revision, start: pos.after }), 'utf8').toString('base64url');
}

export function decodeContinue(token: string): ContinuePosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (p.v !== 'meta.k8s.io/v1') throw badRequest('continue key is not valid: server does not recognize this encoded key');
  if (typeof p.rv !== 'number' || !Number.isInteger(p.rv) || p.rv <= 0) {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  if (typeof p.start !== 'string' || p.start.includes('..') || p.start.startsWith('/')) {
    throw badRequest('continue key is not valid: invalid start key');
  }
  return { revision: p.rv, after: p.start };
}

/** apiserver's message when the revision of a continue token was compacted away. */
export const CONTINUE_EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.';
