/**
 * Cron schedules as CronJob validation accepts them (robfig/cron/v3 ParseStandard: five fields or a
 * descriptor), with error texts in the same shape so `spec.schedule: Invalid value: …` reads alike.
 */

const FIELDS: readonly { min: number; max: number; names?: readonly string[] }[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function parseValue(text: string, field: (typeof FIELDS)[number]): number | string {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + field.min;
  if (!/^\d+$/.test(text)) return `failed to parse int from ${text}: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`;
  return Number(text);
}

function checkField(expr: string, field: (typeof FIELDS)[number]): string | undefined {
  for (const part of expr.split(',')) {
    const [range = '', step, extra] = part.split('/');
    if (extra !== undefined) return `too many slashes: ${part}`;
    if (step !== undefined && !/^\d+$/.test(step)) return `failed to parse int from ${step}: strconv.Atoi: parsing ${JSON.stringify(step)}: invalid syntax`;
    if (range === '*' || range === '?') continue;
    const [lowText = '', highText, more] = range.split('-');
    if (more !== undefined) return `too many hyphens: ${part}`;
    const low = parseValue(lowText, field);
    if (typeof low === 'string') return low;
    const high = highText === undefined ? low : parseValue(highText, field);
    if (typeof high === 'string') return high;
    if (low < field.min) return `beginning of range (${low}) below minimum (${field.min}): ${part}`;
    if (high > field.max) return `end of range (${high}) above maximum (${field.max}): ${part}`;
    if (low > high) return `beginning of range (${low}) beyond end of range (${high}): ${part}`;
    if (step !== undefined && Number(step) === 0) return `step of range should be a positive number: ${part}`;
  }
  return undefined;
}

/** The parse error for a schedule, or undefined when it is valid. */
export function cronScheduleError(schedule: string): string | undefined {
  const spec = schedule.trim();
  if (spec.length === 0) return 'empty spec string';
  if (spec.startsWith('@')) {
    if (DESCRIPTORS.has(spec)) return undefined;
    if (spec.startsWith('@every ')) return /^@every\s+(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(spec) ? undefined : `failed to parse duration ${spec}`;
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  for (let i = 0; i < 5; i++) {
    const problem = checkField(fields[i] as string, FIELDS[i] as (typeof FIELDS)[number]);
    if (problem) return problem;
  }
  return undefined;
}
