// Go's time.ParseDuration subset used in flags and annotations ("40s", "5m", "1h30m", "250ms"):
// the server's --node-monitor-grace-period and eviction annotations, the agent's --sync-frequency.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when `s` is not a duration such as "40s" or "1h30m". */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return total;
}

/**
 * --sync-frequency (kubelet's flag; `edgeos join`/`agent`, and `edgeos server` for its local
 * agent): milliseconds, or why the value is refused. Below a second every idle pod would be passed
 * (volumes, status, sandbox config) many times a second.
 */
export function parseSyncFrequency(s: string): { ms: number } | { problem: string } {
  const ms = parseDuration(s);
  return ms !== undefined && ms >= 1000 ? { ms } : { problem: `${JSON.stringify(s)} is not a duration of at least 1s such as 1m or 90s` };
}
