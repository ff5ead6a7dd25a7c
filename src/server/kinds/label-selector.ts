/**
 * metav1.LabelSelector: validation (metav1validation.ValidateLabelSelector), matching
 * (LabelSelectorAsSelector().Matches) and the text kubectl prints (metav1.FormatLabelSelector).
 */
import { list, map, maps, str, stringMap } from './access.ts';
import { invalid, notSupported, required } from './field-errors.ts';
import { isQualifiedName } from './names.ts';
import { validateLabels } from './object-meta.ts';
import type { FieldError } from './types.ts';

const OPERATORS = ['DoesNotExist', 'Exists', 'In', 'NotIn'];

export function validateLabelSelector(selector: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const s = map(selector);
  if (!s) return errs;
  errs.push(...validateLabels(s.matchLabels, `${path}.matchLabels`));
  maps(s.matchExpressions).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const operator = str(e.operator) ?? '';
    const values = list(e.values);
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) errs.push(required(`${p}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0) errs.push(invalid(`${p}.values`, values, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
    } else {
      errs.push(notSupported(`${p}.operator`, operator, OPERATORS.filter((o) => o !== '')));
    }
    const key = str(e.key) ?? '';
    for (const msg of isQualifiedName(key)) errs.push(invalid(`${p}.key`, key, msg));
  });
  return errs;
}

/** True when a selector has neither matchLabels nor matchExpressions (it would match everything). */
export function selectorIsEmpty(selector: unknown): boolean {
  const s = map(selector);
  return !s || (Object.keys(stringMap(s.matchLabels)).length === 0 && maps(s.matchExpressions).length === 0);
}

export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const s = map(selector) ?? {};
  for (const [k, v] of Object.entries(stringMap(s.matchLabels))) if (labels[k] !== v) return false;
  for (const e of maps(s.matchExpressions)) {
    const key = str(e.key) ?? '';
    const values = list(e.values).map(String);
    const has = Object.hasOwn(labels, key);
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[key] as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key] as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** metav1.FormatLabelSelector: requirements sorted by key, "<none>" when empty. */
export function formatLabelSelector(selector: unknown): string {
  const s = map(selector);
  if (!s) return '<none>';
  const parts: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(stringMap(s.matchLabels))) parts.push({ key: k, text: `${k}=${v}` });
  for (const e of maps(s.matchExpressions)) {
    const key = str(e.key) ?? '';
    const values = list(e.values).map(String).sort();
    switch (e.operator) {
      case 'In':
        parts.push({ key, text: `${key} in (${values.join(',')})` });
        break;
      case 'NotIn':
        parts.push({ key, text: `${key} notin (${values.join(',')})` });
        break;
      case 'Exists':
        parts.push({ key, text: key });
        break;
      case 'DoesNotExist':
        parts.push({ key, text: `!${key}` });
        break;
    }
  }
  if (parts.length === 0) return '<none>';
  return parts
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((p) => p.text)
    .join(',');
}

/** labels.FormatLabels: "k=v,k2=v2" sorted by key, "<none>" when empty. */
export function formatLabels(labels: unknown): string {
  const entries = Object.entries(stringMap(labels)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

/**
 * How Go prints a *metav1.LabelSelector with %#v in "field is immutable" errors, e.g.
 * v1.LabelSelector{MatchLabels:map[string]string{"app":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}.
 */
export function goLabelSelector(selector: unknown): string {
  const s = map(selector) ?? {};
  const labels = Object.entries(stringMap(s.matchLabels)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const ml = labels.length ? `map[string]string{${labels.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(', ')}}` : 'map[string]string(nil)';
  const exprs = maps(s.matchExpressions);
  const me = exprs.length
    ? `[]v1.LabelSelectorRequirement{${exprs
        .map((e) => {
          const values = list(e.values).map((v) => JSON.stringify(String(v)));
          return `v1.LabelSelectorRequirement{Key:${JSON.stringify(str(e.key) ?? '')}, Operator:${JSON.stringify(str(e.operator) ?? '')}, Values:${values.length ? `[]string{${values.join(', ')}}` : '[]string(nil)'}}`;
        })
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}
