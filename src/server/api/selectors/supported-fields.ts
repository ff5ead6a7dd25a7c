/**
 * The field selectors a resource supports: metadata.name and metadata.namespace, plus the fields
 * its kind's descriptor declares (fieldSelectors: Kubernetes' GetAttrs and field label
 * conversions). Custom resources support the two metadata fields only.
 */
import { selectableFields } from '../../kinds/selectable-fields.ts';
import { present } from '../../kinds/types.ts';
import type { SelectableFields } from '../../kinds/types.ts';
import type { ResourceInfo } from '../../registry/index.ts';

const cache = new WeakMap<ResourceInfo, SelectableFields>();

export function supportedFields(r: ResourceInfo): SelectableFields {
  let fields = cache.get(r);
  if (!fields) {
    fields = selectableFields(r.builtin && present(r.builtin.fieldSelectors));
    cache.set(r, fields);
  }
  return fields;
}
