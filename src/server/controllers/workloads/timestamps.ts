/** metav1.Time on the wire: RFC 3339 in UTC with whole seconds ("2026-11-22T03:14:15Z"). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds since the epoch of a metav1.Time, undefined when absent or unparsable. */
export function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}
