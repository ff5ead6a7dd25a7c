import type { AreaCode } from '../../common/error-codes.ts';
import { EdgeosError } from '../../common/errors.ts';

/** JOIN_* and AGENT_NOT_JOINED; what each means is in the catalogue (src/common/error-codes.ts). */
export type JoinErrorCode = AreaCode<'JOIN'> | 'AGENT_NOT_JOINED';

/** A failed join; the message says what to do. Nothing is left in the data dir. */
export class JoinError extends EdgeosError {
  constructor(code: JoinErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
