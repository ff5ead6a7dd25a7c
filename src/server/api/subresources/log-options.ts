/**
 * PodLogOptions from the query of GET pods/NAME/log, validated like apiserver's
 * ValidatePodLogOptions (422 `PodLogOptions "NAME" is invalid: …`).
 */
import type { TunnelRequest } from '../../../common/tunnel.ts';
import type { StatusCause } from '../../storage/status.ts';
import { badRequest, invalid } from '../../storage/status.ts';
import { queryBool, queryInt } from '../query-params.ts';

export type LogOptionFields = Omit<Extract<TunnelRequest, { kind: 'logs' }>, 'kind' | 'namespace' | 'name' | 'uid' | 'container'>;

/** Go's time.RFC3339 as metav1.Time accepts it. */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

export function parseLogOptions(q: URLSearchParams, pod: string): LogOptionFields {
  const tailLines = queryInt(q, 'tailLines');
  const limitBytes = queryInt(q, 'limitBytes');
  const sinceSeconds = queryInt(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime') ?? undefined;
  if (sinceTime !== undefined && (!RFC3339.test(sinceTime) || Number.isNaN(Date.parse(sinceTime)))) {
    throw badRequest(`invalid value for sinceTime: ${JSON.stringify(sinceTime)} is not an RFC 3339 time`);
  }
  const causes: StatusCause[] = [];
  if (tailLines !== undefined && tailLines < 0) causes.push({ reason: 'FieldValueInvalid', field: 'tailLines', message: `Invalid value: ${tailLines}: must be greater than or equal to 0` });
  if (limitBytes !== undefined && limitBytes < 1) causes.push({ reason: 'FieldValueInvalid', field: 'limitBytes', message: `Invalid value: ${limitBytes}: must be greater than 0` });
  if (sinceSeconds !== undefined && sinceTime !== undefined) {
    causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  } else if (sinceSeconds !== undefined && sinceSeconds < 1) {
    causes.push({ reason: 'FieldValueInvalid', field: 'sinceSeconds', message: `Invalid value: ${sinceSeconds}: must be greater than 0` });
  }
  if (causes.length > 0) throw invalid('PodLogOptions', '', pod, causes);
  return {
    follow: queryBool(q, 'follow') ?? false,
    previous: queryBool(q, 'previous') ?? false,
    timestamps: queryBool(q, 'timestamps') ?? false,
    ...(tailLines === undefined ? {} : { tailLines }),
    ...(sinceSeconds === undefined ? {} : { sinceSeconds }),
    ...(sinceTime === undefined ? {} : { sinceTime }),
    ...(limitBytes === undefined ? {} : { limitBytes }),
  };
}
