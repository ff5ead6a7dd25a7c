/**
 * The JSONPath subset CRD additionalPrinterColumns use (apiextensions validates them as simple
 * paths): `.a.b`, `.a[0]`, `.a[*].b`, `.a[?(@.type=="Ready")].status`, `.metadata.labels.app\.kubernetes\.io/name`.
 */

type Step =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'all' }
  | { readonly kind: 'filter'; readonly field: string; readonly op: '==' | '!='; readonly value: string };

function parse(path: string): Step[] {
  const steps: Step[] = [];
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1);
  if (p.startsWith('$')) p = p.slice(1);
  let i = 0;
  while (i < p.length) {
    const c = p[i];
    if (c === '.') {
      i++;
      let name = '';
      while (i < p.length && p[i] !== '.' && p[i] !== '[') {
        if (p[i] === '\\' && i + 1 < p.length) {
          name += p[i + 1];
          i += 2;
        } else name += p[i++];
      }
      if (name !== '') steps.push({ kind: 'field', name });
    } else if (c === '[') {
      const end = p.indexOf(']', i);
      if (end < 0) break;
      const inner = p.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else {
        const m = /^\?\(@\.([\w.-]+)\s*(==|!=)\s*["']?([^"']*)["']?\)$/.exec(inner);
        if (m) steps.push({ kind: 'filter', field: m[1] ?? '', op: m[2] === '!=' ? '!=' : '==', value: m[3] ?? '' });
        else if (/^["'].*["']$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      }
    } else {
      let name = '';
      while (i < p.length && p[i] !== '.' && p[i] !== '[') name += p[i++];
      steps.push({ kind: 'field', name });
    }
  }
  return steps;
}

function get(v: unknown, dotted: string): unknown {
  let cur = v;
  for (const part of dotted.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** All values the path selects (empty when nothing matches). */
export function evaluateJsonPath(obj: unknown, path: string): unknown[] {
  let cur: unknown[] = [obj];
  for (const step of parse(path)) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (step.kind === 'field') {
        if (v && typeof v === 'object' && !Array.isArray(v) && step.name in v) next.push((v as Record<string, unknown>)[step.name]);
      } else if (!Array.isArray(v)) continue;
      else if (step.kind === 'index') {
        const item = v[step.index < 0 ? v.length + step.index : step.index];
        if (item !== undefined) next.push(item);
      } else if (step.kind === 'all') next.push(...v);
      else {
        for (const item of v) {
          const fv = get(item, step.field);
          const s = fv === undefined ? undefined : typeof fv === 'string' ? fv : JSON.stringify(fv);
          if ((step.op === '==') === (s === step.value)) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}
