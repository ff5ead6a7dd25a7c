/**
 * The built-in component schemas (schemas.json) as the type checker reads them: by upstream name,
 * with `allOf: [$ref]` field wrappers and the special types of apimachinery named.
 */
import builtinSchemas from '../schemas.json' with { type: 'json' };

export interface Schema {
  readonly type?: string;
  readonly format?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: Schema | boolean;
  readonly items?: Schema;
  readonly allOf?: readonly Schema[];
  readonly $ref?: string;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export const SCHEMAS = builtinSchemas as unknown as Readonly<Record<string, Schema>>;

const REF_PREFIX = '#/components/schemas/';

export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/**
 * Types whose Go UnmarshalJSON takes any JSON value: RawExtension keeps the raw bytes (an embedded
 * object of any kind), apiextensions' JSON and JSONSchemaPropsOr* hold schema fragments.
 */
export const ANY_VALUE = new Set([
  'io.k8s.apimachinery.pkg.runtime.RawExtension',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray',
]);

/** The component name a field schema points to (`$ref` or a one-element `allOf`), if any. */
export function refOf(s: Schema): string | undefined {
  const ref = s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0]?.$ref : undefined);
  return ref?.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}
