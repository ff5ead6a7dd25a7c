/**
 * Label selectors as apiserver parses them (k8s.io/apimachinery labels.Parse): `k`, `!k`, `k=v`,
 * `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k>1`, `k<1`, comma-AND. Parse errors are the
 * parser's own words, which the API answers as 400 BadRequest.
 */
import { InvalidInputError } from '../../../common/errors.ts';

export type LabelOperator = 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOperator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  matches(labels: Record<string, string> | undefined): boolean;
  /** True for the empty selector, which matches everything. */
  readonly empty: boolean;
}

type TokenKind = 'id' | '!' | '(' | ')' | ',' | '=' | '==' | '!=' | '>' | '<' | 'in' | 'notin' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

const SPECIAL = new Set(['!', '(', ')', ',', '=', '<', '>']);

function lex(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (SPECIAL.has(c)) {
      const two = input.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        out.push({ kind: two, text: two });
        i += 2;
      } else {
        out.push({ kind: c as TokenKind, text: c });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < input.length && !SPECIAL.has(input[j] ?? '') && !/\s/.test(input[j] ?? '')) j++;
    const text = input.slice(i, j);
    out.push({ kind: text === 'in' ? 'in' : text === 'notin' ? 'notin' : 'id', text });
    i = j;
  }
  out.push({ kind: 'end', text: '' });
  return out;
}

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Problems with a label key (qualified name), in apimachinery's words; empty when valid. */
export function labelKeyErrors(key: string): string[] {
  const errs: string[] = [];
  const slash = key.split('/');
  let name = key;
  if (slash.length === 2) {
    const prefix = slash[0] ?? '';
    name = slash[1] ?? '';
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else if (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      errs.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    }
  } else if (slash.length > 2) {
    return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  else if (!NAME_PART.test(name)) {
    errs.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  }
  return errs;
}

/** Problems with a label value; empty when valid. */
export function labelValueErrors(value: string): string[] {
  if (value === '') return [];
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!NAME_PART.test(value)) {
    errs.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  }
  return errs;
}

class Parser {
  readonly #tokens: Token[];
  #pos = 0;
  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }
  peek(): Token {
    return this.#tokens[this.#pos] ?? { kind: 'end', text: '' };
  }
  next(): Token {
    const t = this.peek();
    if (this.#pos < this.#tokens.length - 1) this.#pos++;
    return t;
  }
}

function found(t: Token): string {
  return t.kind === 'end' ? '' : t.text;
}

function parseRequirement(p: Parser): LabelRequirement {
  let t = p.next();
  if (t.kind === '!') {
    t = p.next();
    if (t.kind !== 'id') throw new InvalidInputError(`unable to parse requirement: found '${found(t)}', expected: identifier after '!'`);
    checkKey(t.text);
    return { key: t.text, op: '!', values: [] };
  }
  if (t.kind !== 'id') throw new InvalidInputError(`unable to parse requirement: found '${found(t)}', expected: !, identifier, or 'end of string'`);
  const key = t.text;
  checkKey(key);
  const opTok = p.peek();
  if (opTok.kind === ',' || opTok.kind === 'end') return { key, op: 'exists', values: [] };
  p.next();
  switch (opTok.kind) {
    case 'in':
    case 'notin': {
      const open = p.next();
      if (open.kind !== '(') throw new InvalidInputError(`unable to parse requirement: found '${found(open)}', expected: '('`);
      const values: string[] = [];
      if (p.peek().kind === ')') {
        p.next();
        values.push('');
      } else {
        for (;;) {
          const v = p.next();
          if (v.kind === 'id' || v.kind === 'in' || v.kind === 'notin') values.push(v.text);
          else if (v.kind === ',' ) {
            values.push('');
            continue;
          } else throw new InvalidInputError(`unable to parse requirement: found '${found(v)}', expected: ',', ')' or identifier`);
          const sep = p.next();
          if (sep.kind === ')') break;
          if (sep.kind !== ',') throw new InvalidInputError(`unable to parse requirement: found '${found(sep)}', expected: ',' or ')'`);
        }
      }
      values.forEach(checkValue);
      return { key, op: opTok.kind, values };
    }
    case '=':
    case '==':
    case '!=': {
      const v = p.peek();
      let value = '';
      if (v.kind === 'id' || v.kind === 'in' || v.kind === 'notin') {
        value = v.text;
        p.next();
      } else if (v.kind !== ',' && v.kind !== 'end') {
        throw new InvalidInputError(`unable to parse requirement: found '${found(v)}', expected: identifier`);
      }
      checkValue(value);
      return { key, op: opTok.kind === '!=' ? '!=' : '=', values: [value] };
    }
    case '>':
    case '<': {
      const v = p.next();
      if (v.kind !== 'id' || !/^-?\d+$/.test(v.text)) {
        throw new InvalidInputError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      }
      return { key, op: opTok.kind === '>' ? 'gt' : 'lt', values: [v.text] };
    }
    default:
      throw new InvalidInputError(`unable to parse requirement: found '${found(opTok)}', expected: in, notin, =, ==, !=, gt, lt`);
  }
}

function checkKey(key: string): void {
  const errs = labelKeyErrors(key);
  if (errs.length > 0) throw new InvalidInputError(`unable to parse requirement: key: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}`);
}

function checkValue(value: string): void {
  const errs = labelValueErrors(value);
  if (errs.length > 0) throw new InvalidInputError(`unable to parse requirement: values[0][${''}]: Invalid value: ${JSON.stringify(value)}: ${errs.join('; ')}`);
}

function matchOne(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key] : undefined;
  switch (r.op) {
    case 'exists':
      return has;
    case '!':
      return !has;
    case '=':
    case 'in':
      return has && r.values.includes(v ?? '');
    case '!=':
    case 'notin':
      return !has || !r.values.includes(v ?? '');
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(v ?? '')) return false;
      const n = Number(v);
      const bound = Number(r.values[0]);
      return r.op === 'gt' ? n > bound : n < bound;
    }
  }
}

export function selectorFromRequirements(requirements: readonly LabelRequirement[]): LabelSelector {
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((r) => matchOne(r, labels ?? {})),
  };
}

/** Parse a `labelSelector` query value. Throws InvalidInputError with apimachinery's message. */
export function parseLabelSelector(input: string): LabelSelector {
  const tokens = lex(input);
  const p = new Parser(tokens);
  const reqs: LabelRequirement[] = [];
  if (p.peek().kind === 'end') return selectorFromRequirements([]);
  for (;;) {
    reqs.push(parseRequirement(p));
    const t = p.next();
    if (t.kind === 'end') break;
    if (t.kind !== ',') throw new InvalidInputError(`found '${found(t)}', expected: ',' or 'end of string'`);
  }
  return selectorFromRequirements(reqs);
}

/** A metav1.LabelSelector object (matchLabels + matchExpressions) as a selector, for Scale and eviction. */
export function selectorFromObject(sel: unknown): LabelSelector {
  const s = sel && typeof sel === 'object' ? (sel as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }) : {};
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) reqs.push({ key: k, op: '=', values: [v] });
  for (const e of s.matchExpressions ?? []) {
    const op: LabelOperator = e.operator === 'In' ? 'in' : e.operator === 'NotIn' ? 'notin' : e.operator === 'Exists' ? 'exists' : '!';
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return selectorFromRequirements(reqs);
}

/** The selector as a string, the way Scale.status.selector and `kubectl describe` show it. */
export function formatLabelSelector(sel: LabelSelector): string {
  return sel.requirements
    .map((r) => {
      switch (r.op) {
        case 'exists': return r.key;
        case '!': return `!${r.key}`;
        case '=': return `${r.key}=${r.values[0] ?? ''}`;
        case '!=': return `${r.key}!=${r.values[0] ?? ''}`;
        case 'in': return `${r.key} in (${[...r.values].sort().join(',')})`;
        case 'notin': return `${r.key} notin (${[...r.values].sort().join(',')})`;
        case 'gt': return `${r.key}>${r.values[0] ?? ''}`;
        case 'lt': return `${r.key}<${r.values[0] ?? ''}`;
      }
    })
    .join(',');
}
