export { ensurePki, ensureClusterCa, installClusterCa, RENEW_BEFORE_DAYS, ADMIN_SUBJECT } from './ensure-pki.ts';
export type { EnsurePkiOptions } from './ensure-pki.ts';
export { PkiError } from './errors.ts';
export type { PkiErrorCode } from './errors.ts';
export { servingSans, toSans } from './sans.ts';
export type { SubjectAltName } from './issue.ts';
export type { Pki } from './types.ts';
export { ensureServiceAccountKey } from './service-account-key.ts';
export type { ServiceAccountKey } from './service-account-key.ts';
