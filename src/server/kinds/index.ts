/**
 * The built-in kinds (builtin.ts lists their descriptors) and the helpers other server parts use
 * with them. Custom resources have no descriptor; the API validates their metadata with
 * validateObjectMeta and their schema, and prints the CRD's additionalPrinterColumns.
 */
export { BUILTIN_KINDS, builtinKind } from './builtin.ts';
export { isNone, none, present } from './types.ts';
export { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
export { generateJobSelector } from './job.ts';
export { parseQuantity, isQuantity } from '../../common/quantity.ts';
export { humanDuration, ageSince } from './age.ts';
export { selectorMatches, formatLabelSelector } from './label-selector.ts';
export { ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER, localPathVolumeFor, nodeStoragePathOf } from './local-path-volume.ts';
export { defaultClassOf, isDefaultClass } from './storage-class.ts';
export type { BuiltinKind, FieldError, KubeObject, TableColumn, TableSpec } from './types.ts';
