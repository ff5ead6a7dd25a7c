/**
 * When a CronJob schedule fires next (robfig/cron/v3 SpecSchedule.Next, which the CronJob
 * controller uses): five fields (minute hour day-of-month month day-of-week) with lists, ranges,
 * steps and month/day names, the @yearly…@hourly descriptors and @every. Day-of-month and
 * day-of-week combine as robfig does: AND when either is `*`/`?`, else OR. Times are evaluated in
 * the CronJob's spec.timeZone (IANA, via Intl) or UTC when unset. Validation (and its messages)
 * lives in kinds/cron-schedule.ts; this parser assumes a schedule that passed it.
 */

interface Field {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface CronSchedule {
  /** The first fire time strictly after `after` (ms since epoch), or undefined within five years. */
  next(after: number): number | undefined;
}

interface FieldSet {
  readonly values: ReadonlySet<number>;
  /** The field was `*` or `?` (robfig's starBit), which matters for the day fields. */
  readonly star: boolean;
}

function value(text: string, f: Field): number {
  const named = f.names?.indexOf(text.toLowerCase()) ?? -1;
  return named >= 0 ? named + f.min : Number(text);
}

function parseField(expr: string, f: Field): FieldSet {
  const values = new Set<number>();
  let star = false;
  for (const part of expr.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let low: number;
    let high: number;
    if (range === '*' || range === '?') {
      low = f.min;
      high = f.max;
      // "*/n" with n > 1 is no longer a star for the day-field rule.
      if (step === 1) star = true;
    } else {
      const [a = '', b] = range.split('-');
      low = value(a, f);
      // "N/step" means N through max.
      high = b !== undefined ? value(b, f) : stepText !== undefined ? f.max : low;
    }
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return { values, star };
}

interface WallClock {
  minute: number;
  hour: number;
  day: number;
  month: number;
  weekday: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of an instant in a time zone ('UTC' takes the fast path). */
function wallClock(t: number, zone: string): WallClock {
  if (zone === 'UTC') {
    const d = new Date(t);
    return { minute: d.getUTCMinutes(), hour: d.getUTCHours(), day: d.getUTCDate(), month: d.getUTCMonth() + 1, weekday: d.getUTCDay() };
  }
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  return { minute: Number(parts.minute), hour: Number(parts.hour), day: Number(parts.day), month: Number(parts.month), weekday: WEEKDAYS.indexOf(parts.weekday ?? '') };
}

/** Throws for a time zone Intl does not know (the API validates spec.timeZone the same way). */
export function checkTimeZone(zone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone: zone });
}

function parseEvery(spec: string): CronSchedule {
  let ms = 0;
  for (const m of spec.slice('@every '.length).matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    const n = Number(m[1]);
    const unit = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ns'];
    ms += n * unit;
  }
  // ConstantDelaySchedule: at least one second, whole seconds.
  const delay = Math.max(1000, Math.floor(ms / 1000) * 1000);
  return { next: (after) => Math.floor(after / 1000) * 1000 + delay };
}

const MINUTE = 60_000;
const FIVE_YEARS = 5 * 366 * 24 * 60 * MINUTE;

export function parseCronSchedule(schedule: string, timeZone = 'UTC'): CronSchedule {
  const spec = schedule.trim();
  if (spec.startsWith('@every ')) return parseEvery(spec);
  const fields = (DESCRIPTORS[spec] ?? spec).split(/\s+/);
  const [minute, hour, dom, month, dow] = FIELDS.map((f, i) => parseField(fields[i] ?? '*', f)) as [FieldSet, FieldSet, FieldSet, FieldSet, FieldSet];
  const dayMatches = (w: WallClock): boolean => {
    const domMatch = dom.values.has(w.day);
    const dowMatch = dow.values.has(w.weekday);
    return dom.star || dow.star ? domMatch && dowMatch : domMatch || dowMatch;
  };
  const utc = timeZone === 'UTC' || timeZone === 'Etc/UTC';
  const zone = utc ? 'UTC' : timeZone;
  return {
    next(after) {
      // Start at the next whole minute; then skip whole days/hours while they cannot match.
      let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
      const end = after + FIVE_YEARS;
      while (t <= end) {
        const w = wallClock(t, zone);
        if (!month.values.has(w.month) || !dayMatches(w)) {
          // Outside UTC step by hours, so a DST change can never make us jump past a match.
          t += utc ? (24 * 60 - (w.hour * 60 + w.minute)) * MINUTE : (60 - w.minute) * MINUTE;
          continue;
        }
        if (!hour.values.has(w.hour)) {
          t += (60 - w.minute) * MINUTE;
          continue;
        }
        if (!minute.values.has(w.minute)) {
          t += MINUTE;
          continue;
        }
        return t;
      }
      return undefined;
    },
  };
}
