/**
 * OpenAPI v2 (swagger 2.0) for kubectl 1.27/1.28, which download it for `create -f`, `apply`
 * (validation and client-side apply's patch metadata) and `explain` as gnostic protobuf.
 */
export { swaggerDocument } from './document.ts';
export type { SwaggerDocument } from './document.ts';
export { encodeSwagger, gnosticRoot } from './encode.ts';

/**
 * The Content-Type of the protobuf reply. kubectl asks for `…spec.v2@v1.0+protobuf`, but Go's
 * mime.ParseMediaType rejects the `@` and client-go turns that into "InternalError: mime:
 * unexpected content after media subtype"; kube-apiserver answers with the dotted form.
 */
export const SWAGGER_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** Whether an Accept header asks for the protobuf encoding (either spelling). */
export function acceptsSwaggerProtobuf(accept: string | undefined): boolean {
  return /application\/com\.github\.proto-openapi\.spec\.v2[@.]v1\.0\+protobuf/.test(accept ?? '');
}
