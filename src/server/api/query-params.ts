/**
 * Boolean and integer query parameters, decoded as kube-apiserver's parameter codec decodes them
 * into ListOptions, DeleteOptions, PatchOptions, PodLogOptions and PodExecOptions
 * (k8s.io/apimachinery/pkg/runtime/conversion.go):
 * - a boolean is false when absent, "0" or "false" in any case, and true for anything else,
 *   "" included (Convert_Slice_string_To_bool). So the official Python client's `watch=True`
 *   is a watch, and so is `watch=yes`; no spelling is an error. It is not Go's strconv.ParseBool,
 *   which would refuse "yes" and read "f" as false;
 * - an integer is strconv.ParseInt(s, 10, 64): optional sign, decimal digits, int64 range; anything
 *   else, "" included, is a 400 with Go's error text.
 * Only the first value of a repeated parameter counts, as in Go.
 */
import { badRequest } from '../storage/status.ts';

/** The parameter as a boolean, or undefined when absent (Go's *bool left nil). */
export function queryBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return !(v === '0' || v.toLowerCase() === 'false');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The parameter as an int64 (a JS number: exact up to 2^53), or undefined when absent. */
export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw badRequest(`${name}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n < INT64_MIN || n > INT64_MAX) throw badRequest(`${name}: strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return Number(n);
}
