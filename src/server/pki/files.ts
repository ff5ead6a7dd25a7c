// PKI files are written atomically with their mode set at creation (src/common/atomic-file.ts).
import { readFileSync } from 'node:fs';
export { writeFileAtomic } from '../../common/atomic-file.ts';

export const PRIVATE_MODE = 0o600;
export const PUBLIC_MODE = 0o644;

/** The file's text, or undefined when it does not exist. */
export function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
