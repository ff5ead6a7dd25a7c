/**
 * Reads the JSON log lines a real edgeos process wrote and finds keys that appear twice in one
 * object. JSON.parse keeps the last of duplicate keys silently, so this scans the text itself:
 * pino appends each child logger's bindings, and two loggers binding the same key give lines like
 * `"component":"agent",…,"component":"store"` that most log tools misread.
 */

/** The duplicated keys of one JSON text, as dotted paths ("component", "err.code"). */
export function duplicateKeys(text: string): string[] {
  JSON.parse(text); // malformed JSON is an error of its own
  const dups: string[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === '{') object(path);
    else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(path);
        ws();
        if (text[i++] === ']') return;
      }
    } else if (c === '"') str();
    else while (i < text.length && !',}] \t\n\r'.includes(text[i]!)) i++;
  };
  const object = (path: string): void => {
    i++;
    const seen = new Set<string>();
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      const key = str();
      if (seen.has(key)) dups.push(path + key);
      seen.add(key);
      ws();
      i++; // ':'
      value(`${path}${key}.`);
      ws();
      if (text[i++] === '}') return;
    }
  };
  value('');
  return dups;
}

/** The JSON log lines of a process's output that carry a key twice, each with its duplicates. */
export function linesWithDuplicateKeys(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{') && l.endsWith('}'))
    .flatMap((l) => {
      const d = duplicateKeys(l);
      return d.length ? [`${d.join(', ')}: ${l.slice(0, 300)}`] : [];
    });
}

/** How many JSON log lines the output holds (a test asserting on them should see some). */
export const jsonLineCount = (output: string): number => output.split('\n').filter((l) => l.startsWith('{') && l.endsWith('}')).length;
