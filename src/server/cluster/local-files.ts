/**
 * What a server of a cluster keeps in its own data dir: its name (server-id) and the cluster's
 * server token (server-token, 0600), so that a restart needs neither flag again.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import { InvalidInputError, errorMessage } from '../../common/errors.ts';
import { checkServerToken } from '../config.ts';
import type { ServerTokenSource } from '../config.ts';

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function write(file: string, text: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, text + '\n', mode);
}

/**
 * This server's name in its cluster: `<hostname>-<6 hex>` made at first start and kept, so the
 * Lease and the servers registry know a restarted server as the same one, and two servers on one
 * host (or hosts that share a name) are still two.
 */
export function serverId(file: string, hostname: string): string {
  const kept = readText(file);
  if (kept) return kept;
  const base = hostname.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'server';
  const id = `${base}-${randomBytes(3).toString('hex')}`;
  write(file, id, 0o644);
  return id;
}

/** A token as found: its value and where it came from (for error messages: never the value). */
export interface FoundToken {
  readonly value: string;
  readonly from: string;
}

/** The token the operator gave (flag, variable or its file), else the one this data dir kept. */
export function findServerToken(given: ServerTokenSource | undefined, keptFile: string): FoundToken | undefined {
  if (given && 'value' in given) return given;
  if (given) {
    let text: string | undefined;
    try {
      text = readText(given.file);
    } catch (err) {
      throw new InvalidInputError(`${given.from}: cannot read ${given.file}: ${errorMessage(err)}`, { cause: err });
    }
    if (text === undefined) throw new InvalidInputError(`${given.from}: ${given.file} does not exist`);
    return { value: checkServerToken(text, `${given.from} (${given.file})`), from: `${given.from} (${given.file})` };
  }
  const kept = readText(keptFile);
  return kept ? { value: checkServerToken(kept, keptFile), from: keptFile } : undefined;
}

/** 32 characters of base64url: 192 random bits. */
export function newServerToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Keeps the token in the data dir (0600) unless it is already there. */
export function keepServerToken(file: string, token: string): boolean {
  if (readText(file) === token) return false;
  write(file, token, 0o600);
  return true;
}
