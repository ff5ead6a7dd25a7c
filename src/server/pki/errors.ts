import type { AreaCode } from '../../common/error-codes.ts';
import { EdgeosError } from '../../common/errors.ts';

/** PKI_*; what each means is in the catalogue (src/common/error-codes.ts). */
export type PkiErrorCode = AreaCode<'PKI'>;

/** A problem with the cluster's certificates; the message names the file and what to do. */
export class PkiError extends EdgeosError {
  readonly file: string | undefined;
  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown; file?: string }) {
    super(code, message, options);
    this.file = options?.file;
  }
}
