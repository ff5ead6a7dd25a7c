/**
 * Query parameters of the connect subresources, decoded like apiserver's parameter codec:
 * booleans as Go's strconv.ParseBool, integers as base-10 int64.
 */
import { badRequest } from '../status.ts';

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False', '']);

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} is not a boolean`);
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^[+-]?\d{1,18}$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} is not an integer`);
  return Number.parseInt(v, 10);
}
