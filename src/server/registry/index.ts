export { ResourceRegistry, objectKey, listPrefix } from './registry.ts';
export type { ServedGroup } from './registry.ts';
export { builtinResources } from './builtin.ts';
export { storageSegment } from '../kinds/define.ts';
export { resourcesFromCrd } from './crd.ts';
export { groupVersion, hasSubresource } from './types.ts';
export type { GroupVersionKind, PrinterColumn, ResourceInfo, ScalePaths, SubresourceInfo } from './types.ts';
