// Progress of a long write: one redrawn line on a terminal (stderr), pino lines for machines (a
// log line per file and every few seconds), so CI logs and journald get a readable record.
import type { Logger } from '../../common/log.ts';

export interface Progress {
  /** A new file starts; `bytes` is the running total of bytes written so far. */
  file(name: string): void;
  advance(bytes: number): void;
  done(): void;
}

const mb = (n: number): string => (n / 1e6).toFixed(1);

export function createProgress(total: number, log: Logger, tty: NodeJS.WriteStream | undefined): Progress {
  let done = 0;
  let current = '';
  let lastDraw = 0;
  let lastLog = Date.now();
  const percent = () => (total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100);
  const draw = (force: boolean) => {
    const now = Date.now();
    if (tty) {
      if (!force && now - lastDraw < 100) return;
      lastDraw = now;
      const line = `bundle: ${String(percent()).padStart(3)}%  ${mb(done)}/${mb(total)} MB  ${current}`;
      tty.write(`\r${line.slice(0, Math.max(20, (tty.columns || 80) - 1)).padEnd(Math.max(20, (tty.columns || 80) - 1))}`);
    } else if (force || now - lastLog >= 5000) {
      lastLog = now;
      log.info({ file: current, percent: percent(), bytes: done, total }, 'writing bundle');
    }
  };
  return {
    file(name) {
      current = name;
      draw(true);
    },
    advance(bytes) {
      done += bytes;
      draw(false);
    },
    done() {
      current = 'done';
      draw(true);
      if (tty) tty.write('\n');
    },
  };
}
