/**
 * OpenAPI v3 for kubectl (explain, and the fieldValidation probe of create/apply/edit/replace).
 * `OpenApiDocs` holds the state (built-in documents plus CRD versions); the functions below use one
 * process-wide instance for the API layer's convenience.
 */
import { OpenApiDocs } from './docs.ts';

export { OpenApiDocs, publishedGroupVersions } from './docs.ts';
export { groupVersionPath } from './served.ts';
export type { ServedGroupVersion, ServedResource } from './served.ts';

let shared: OpenApiDocs | undefined;

function docs(): OpenApiDocs {
  shared ??= new OpenApiDocs();
  return shared;
}

/** Body of GET /openapi/v3. */
export function openapiRoot(): object {
  return docs().root();
}

/** Body of GET /openapi/v3/<path> (e.g. "api/v1", "apis/apps/v1"), or undefined → 404. */
export function openapiGroupVersion(path: string): object | undefined {
  return docs().groupVersion(path);
}

/** Serialized body and hash of a group/version document (for ETag and Cache-Control). */
export function openapiGroupVersionBody(path: string): { body: string; hash: string } | undefined {
  return docs().groupVersionBody(path);
}

/** Publish (or republish) a CRD's served versions; call on CRD create and update. */
export function openapiAddCrd(crd: object): void {
  docs().addCrd(crd);
}

/** Withdraw a CRD by metadata.name; call on CRD delete. */
export function openapiRemoveCrd(name: string): void {
  docs().removeCrd(name);
}
