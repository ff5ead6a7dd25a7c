import { badRequest } from '../storage/status.ts';

/** A resourceVersion query value: undefined for "" (latest), 0 for "0" (any), or a revision. */
export function parseResourceVersion(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`invalid resource version: ${JSON.stringify(v)}`);
  return Number(v);
}
