import { EdgeosError } from '../../common/errors.ts';

export type PkiErrorCode =
  /** A PEM file cannot be parsed. */
  | 'PKI_CORRUPT'
  /** Only one half of a certificate/key pair exists. */
  | 'PKI_INCOMPLETE'
  /** The key does not belong to the certificate, or a certificate was not issued by the cluster CA. */
  | 'PKI_MISMATCH'
  /** A certificate signing request is malformed or its signature does not verify. */
  | 'PKI_BAD_CSR'
  /** Writing a certificate or key failed. */
  | 'PKI_WRITE_FAILED';

/** A problem with the cluster's certificates; the message names the file and what to do. */
export class PkiError extends EdgeosError {
  readonly file: string | undefined;
  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown; file?: string }) {
    super(code, message, options);
    this.file = options?.file;
  }
}
