// The keys that encrypt this server's TLS session tickets (docs/link.md, "TLS session
// resumption"). Node makes fresh ones per process, so after a restart every agent of a reconnect
// storm would do a full handshake; kept in the data dir, a ticket an agent got before the restart
// still resumes after it. 48 random bytes (Node's ticketKeys: name, HMAC and AES keys), private
// like the other keys beside it, replaced when older than TICKET_KEY_MAX_AGE_MS: at start-up, and
// by the listener's timer while it runs. Tickets of the replaced key then fall back to a full
// handshake. Not shared between the servers of a cluster (each has its own; an agent that moves to
// another server does one full handshake there).
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../common/log.ts';
import { PkiError } from './errors.ts';
import { PRIVATE_MODE, writeFileAtomic } from './files.ts';

/** A ticket's lifetime: TLS 1.3's maximum, so a link that lasted days still resumes when it drops. */
export const TICKET_LIFETIME_S = 7 * 24 * 3600;
/** The key is replaced this often; tickets cannot outlive their key. */
export const TICKET_KEY_MAX_AGE_MS = TICKET_LIFETIME_S * 1000;
const KEY_BYTES = 48;

export function ticketKeyFile(tlsDir: string): string {
  return join(tlsDir, 'session-ticket.key');
}

/** The current ticket key: the stored one while younger than TICKET_KEY_MAX_AGE_MS, else a new one, stored. */
export function ensureTicketKeys(tlsDir: string, log: Logger, now: () => number = Date.now): Buffer {
  const file = ticketKeyFile(tlsDir);
  let age: number | undefined;
  try {
    age = now() - statSync(file).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new PkiError('PKI_CORRUPT', `cannot read ${file}: ${(err as Error).message}`, { cause: err, file });
  }
  if (age !== undefined && age < TICKET_KEY_MAX_AGE_MS) {
    const key = readFileSync(file);
    if (key.length === KEY_BYTES) return key;
    log.warn({ file, bytes: key.length }, `the TLS session ticket key is not ${KEY_BYTES} bytes: replacing it`);
  }
  const key = randomBytes(KEY_BYTES);
  try {
    writeFileAtomic(file, key, PRIVATE_MODE);
  } catch (err) {
    throw new PkiError('PKI_WRITE_FAILED', `cannot write ${file}: ${(err as Error).message}`, { cause: err, file });
  }
  log.info({ file }, age === undefined ? 'created the TLS session ticket key' : 'replaced the TLS session ticket key');
  return key;
}
