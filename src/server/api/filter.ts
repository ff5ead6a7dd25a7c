/** The labelSelector/fieldSelector of a list, watch or deletecollection request as one predicate. */
import { InvalidInputError } from '../../common/errors.ts';
import type { KubeObject } from '../kinds/types.ts';
import type { ResourceInfo } from '../registry/index.ts';
import { labelsOf } from '../storage/objects.ts';
import { parseFieldSelector } from './selectors/field-selector.ts';
import type { FieldSelector } from './selectors/field-selector.ts';
import { parseLabelSelector } from './selectors/label-selector.ts';
import type { LabelSelector } from './selectors/label-selector.ts';
import { supportedFields } from './selectors/supported-fields.ts';
import { badRequest } from '../storage/status.ts';

export interface ObjectFilter {
  readonly label: LabelSelector;
  readonly field: FieldSelector;
  readonly everything: boolean;
  matches(obj: KubeObject): boolean;
}

export function parseFilter(r: ResourceInfo, query: URLSearchParams): ObjectFilter {
  let label: LabelSelector;
  let field: FieldSelector;
  try {
    label = parseLabelSelector(query.get('labelSelector') ?? '');
    field = parseFieldSelector(query.get('fieldSelector') ?? '', supportedFields(r));
  } catch (e) {
    if (e instanceof InvalidInputError) throw badRequest(e.message);
    throw e;
  }
  return {
    label,
    field,
    everything: label.empty && field.empty,
    matches: (obj) => label.matches(labelsOf(obj)) && field.matches(obj),
  };
}
