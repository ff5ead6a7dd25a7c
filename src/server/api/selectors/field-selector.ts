/**
 * Field selectors (k8s.io/apimachinery fields.ParseSelector): `a=b`, `a==b`, `a!=b`, comma-AND,
 * with `\,` `\=` `\\` escapes. Which fields a resource supports, and how each is read, comes
 * from its kind's descriptor (supported-fields.ts); anything else is `field label not supported`.
 */
import { InvalidInputError } from '../../../common/errors.ts';
import type { KubeObject, SelectableFields } from '../../kinds/types.ts';

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  readonly empty: boolean;
  matches(obj: KubeObject): boolean;
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

/** Parse a `fieldSelector` query value against the fields a resource supports, each with how its value is read. */
export function parseFieldSelector(input: string, fields: SelectableFields): FieldSelector {
  const requirements = parseFieldSelectorRequirements(input);
  for (const r of requirements) {
    if (!Object.hasOwn(fields, r.field)) throw new InvalidInputError(`field label not supported: ${r.field}`);
  }
  const nameReq = requirements.find((r) => r.field === 'metadata.name' && r.op === '=');
  return {
    requirements,
    empty: requirements.length === 0,
    name: nameReq?.value,
    matches: (obj) =>
      requirements.every((r) => {
        const v = fields[r.field]?.(obj) ?? '';
        return r.op === '=' ? v === r.value : v !== r.value;
      }),
  };
}
