/**
 * certificates.k8s.io/v1 CertificateSigningRequest: required fields of ValidateCertificateRequest
 * and printCertificateSigningRequest (CONDITION from Approved/Denied/Failed plus Issued).
 */
import { humanDuration } from './age.ts';
import { map, maps, num, str } from './access.ts';
import { AGE_COLUMN, NAME_COLUMN, ageOf, col, nameOf } from './columns.ts';
import { required } from './field-errors.ts';
import { metaValidator } from './meta-only.ts';
import type { FieldError, KubeObject } from './types.ts';
import { CRUD, defineKind, gvk, statusSubresource, statusLikeSubresource, STORED, NO_TTL, NO_DEFAULTS, NO_HOOKS, NO_DELETION_POLICY, K8S_API_PROTO, NO_CONVERSION } from './define.ts';
import { kind } from '../patch/merge-keys-core.ts';
import { pathFields } from './selectable-fields.ts';

const validateMeta = metaValidator(false);

/** extractCSRStatus. */
export function csrCondition(obj: KubeObject): string {
  const status = map(obj.status) ?? {};
  const types = new Set(maps(status.conditions).map((c) => str(c.type)));
  let out = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) out += ',Failed';
  if (str(status.certificate)) out += ',Issued';
  return out;
}

export const certificateSigningRequest = defineKind({
  group: 'certificates.k8s.io',
  versions: ['v1'],
  kind: 'CertificateSigningRequest',
  plural: 'certificatesigningrequests',
  namespaced: false,
  shortNames: ['csr'],
  categories: [],
  verbs: CRUD,
  subresources: [
    statusSubresource('certificates.k8s.io', 'v1', 'CertificateSigningRequest'),
    statusLikeSubresource('approval', gvk('certificates.k8s.io', 'v1', 'CertificateSigningRequest')),
  ],
  ttlSeconds: NO_TTL,
  tracksGeneration: false,
  keepStatusOnCreate: false,
  computed: STORED,
  defaults: NO_DEFAULTS,
  validate(obj, old) {
    const spec = map(obj.spec) ?? {};
    const errs: FieldError[] = validateMeta(obj, old);
    if (!str(spec.request)) errs.push(required('spec.request'));
    if (!str(spec.signerName)) errs.push(required('spec.signerName'));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      AGE_COLUMN,
      col('SignerName', 'Name of the signer that should process this CSR.'),
      col('Requestor', 'Name of the user that created this CSR.'),
      col('RequestedDuration', 'The requested duration of validity of the issued certificate.'),
      col('Condition', 'Current approval state of the request.'),
    ],
    row(obj, now) {
      const spec = map(obj.spec) ?? {};
      const seconds = num(spec.expirationSeconds);
      return [
        nameOf(obj),
        ageOf(obj, now),
        str(spec.signerName) || '<none>',
        str(spec.username) ?? '',
        seconds !== undefined ? humanDuration(seconds * 1000) : '<none>',
        csrCondition(obj),
      ];
    },
  },
  hooks: NO_HOOKS,
  deletion: NO_DELETION_POLICY,
  fieldSelectors: pathFields('spec.signerName'),
  mergeKeys: kind({}),
  protobuf: K8S_API_PROTO,
  conversion: NO_CONVERSION,
});
