/**
 * Field selectors (k8s.io/apimachinery fields.ParseSelector): `a=b`, `a==b`, `a!=b`, comma-AND,
 * with `\,` `\=` `\\` escapes. Which fields a resource supports follows each kind's
 * GetAttrs/field label conversion in Kubernetes; anything else is `field label not supported`.
 */
import { InvalidInputError } from '../../../common/errors.ts';

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  readonly empty: boolean;
  matches(obj: Record<string, unknown>): boolean;
  /** The value of metadata.name when the selector pins it (`kubectl get pod X -w`, informers). */
  readonly name: string | undefined;
}

function splitTerms(input: string): string[] {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i] ?? '';
    if (c === '\\' && i + 1 < input.length) {
      cur += c + (input[i + 1] ?? '');
      i++;
    } else if (c === ',') {
      terms.push(cur);
      cur = '';
    } else cur += c;
  }
  terms.push(cur);
  return terms;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** Index of an unescaped operator in a term. */
function findOp(term: string): { at: number; op: '=' | '==' | '!=' } | undefined {
  for (let i = 0; i < term.length; i++) {
    const c = term[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '!' && term[i + 1] === '=') return { at: i, op: '!=' };
    if (c === '=' && term[i + 1] === '=') return { at: i, op: '==' };
    if (c === '=') return { at: i, op: '=' };
  }
  return undefined;
}

export function parseFieldSelectorRequirements(input: string): FieldRequirement[] {
  if (input.trim() === '') return [];
  const reqs: FieldRequirement[] = [];
  for (const term of splitTerms(input)) {
    const found = findOp(term);
    if (!found) throw new InvalidInputError(`invalid selector: '${input}'; can't understand '${term}'`);
    const field = unescape(term.slice(0, found.at)).trim();
    const value = unescape(term.slice(found.at + found.op.length));
    reqs.push({ field, op: found.op === '!=' ? '!=' : '=', value });
  }
  return reqs;
}

/** The string value a field selector compares for a dotted path (booleans and numbers as text). */
export function fieldValue(obj: Record<string, unknown>, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return '';
}

export type FieldResolver = (obj: Record<string, unknown>, field: string) => string;

/**
 * Parse a `fieldSelector` query value against the fields a resource supports.
 * `resolve` maps a field name to the object's value (most fields are dotted paths).
 */
export function parseFieldSelector(input: string, supported: ReadonlySet<string>, resolve: FieldResolver = fieldValue): FieldSelector {
  const requirements = parseFieldSelectorRequirements(input);
  for (const r of requirements) {
    if (!supported.has(r.field)) throw new InvalidInputError(`field label not supported: ${r.field}`);
  }
  const nameReq = requirements.find((r) => r.field === 'metadata.name' && r.op === '=');
  return {
    requirements,
    empty: requirements.length === 0,
    name: nameReq?.value,
    matches: (obj) =>
      requirements.every((r) => {
        const v = resolve(obj, r.field);
        return r.op === '=' ? v === r.value : v !== r.value;
      }),
  };
}
