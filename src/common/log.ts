import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** Paths pino must never print: credentials that can appear in logged objects. */
const redact = [
  'token', '*.token', 'password', '*.password', 'secret', '*.secret',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'privateKey', '*.privateKey', 'keyPem', '*.keyPem',
];

export interface LogOptions {
  level?: string;
  /** File descriptor or path; default stderr so stdout stays free for command output. */
  destination?: number | string;
}

/**
 * The one root logger of a process; components take `log.child({ component })`. pino transports run
 * in worker threads that a single executable cannot load, so this writes with pino.destination().
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.EDGEOS_LOG_LEVEL ?? 'info';
  const dest = pino.destination({ dest: opts.destination ?? 2, sync: false });
  return pino({ level, redact: { paths: redact, censor: '[redacted]' }, base: { pid: process.pid } }, dest);
}

/** A logger that drops everything, for tests and library use without a process logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
