/**
 * The value a field selector requires `field` to equal ("spec.nodeName=n1" or "==", possibly among
 * other comma-separated requirements), or undefined when it does not pin the field.
 */
export function requiredFieldValue(selector: string | undefined, field: string): string | undefined {
  if (!selector) return undefined;
  for (const term of selector.split(',')) {
    const m = /^\s*([^!=\s]+)\s*(==|=)\s*(.*?)\s*$/.exec(term);
    if (m && m[1] === field) return m[3];
  }
  return undefined;
}
