/**
 * Resource quantities (k8s.io/apimachinery/pkg/api/resource, quantity.go): "100m", "1.5", "128Mi",
 * "1G", "2e3". parseQuantity gives the value as a plain number (cores for cpu, bytes for memory),
 * which is what the validators, the scheduler and the kubelet compare.
 */
import { InvalidInputError } from './errors.ts';

/** The exact text of resource.ErrFormatWrong. */
export const QUANTITY_FORMAT_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";
const QUANTITY_NUMBER_ERROR = 'unable to parse numeric part of quantity';

const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** The upstream error message for a malformed quantity, or undefined when it parses. */
export function quantityError(s: string): string | undefined {
  const m = QUANTITY.exec(s);
  if (!m) return QUANTITY_FORMAT_ERROR;
  const num = m[1] ?? '';
  const suffix = m[2] ?? '';
  // The numeric part is digits with at most one dot and at least one digit.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(num)) return QUANTITY_NUMBER_ERROR;
  if (!(suffix in BINARY) && !(suffix in DECIMAL) && !/^[eE][-+]?\d+$/.test(suffix)) return QUANTITY_SUFFIX_ERROR;
  return undefined;
}

/** Parse a quantity; throws InvalidInputError with the upstream message when malformed. */
export function parseQuantity(s: string | number): number {
  if (typeof s === 'number') return s;
  const problem = quantityError(s);
  if (problem) throw new InvalidInputError(`${problem}: ${JSON.stringify(s)}`);
  const m = QUANTITY.exec(s) as RegExpExecArray;
  const num = Number(m[1]);
  const suffix = m[2] ?? '';
  const binary = BINARY[suffix];
  if (binary !== undefined) return num * binary;
  const exp = DECIMAL[suffix] ?? Number(suffix.slice(1));
  // Multiply by a power of ten through the string form to avoid 0.1*3 style drift on "300m".
  return Number(`${m[1]}e${exp}`);
}

/** True when s is a well-formed quantity. */
export function isQuantity(s: unknown): boolean {
  return (typeof s === 'string' && quantityError(s) === undefined) || (typeof s === 'number' && Number.isFinite(s));
}
