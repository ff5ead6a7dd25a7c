// How the benches measure a process's memory: VmRSS, and its median over a few samples a second
// apart so one GC or timer tick does not decide the figure (bench/agent, bench/services).
import { readFileSync } from 'node:fs';

/** Nearest-rank percentile. */
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

export async function settledRss(pid: number, samples = 5): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    xs.push(rssMb(pid));
    if (i < samples - 1) await new Promise((r) => setTimeout(r, 1000));
  }
  return pct(xs, 50);
}
