/**
 * Namespaces start Active with the `kubernetes` finalizer and the `kubernetes.io/metadata.name`
 * label, as apiserver's namespace strategy sets them.
 */
import type { WriteHooks } from '../hooks.ts';
import { meta, metaString } from '../../storage/objects.ts';

export const namespaceHooks: WriteHooks = {
  async beforeCreate(_d, _c, obj) {
    const m = meta(obj);
    const labels = (m.labels && typeof m.labels === 'object' ? m.labels : {}) as Record<string, string>;
    labels['kubernetes.io/metadata.name'] = metaString(obj, 'name');
    m.labels = labels;
    const spec = (obj.spec && typeof obj.spec === 'object' ? obj.spec : {}) as Record<string, unknown>;
    if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
    obj.spec = spec;
    obj.status = { phase: 'Active' };
    return [];
  },
};
