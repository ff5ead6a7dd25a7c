// Types of validators.generated.js (written by scripts/gen-type-check.ts).
export interface TypeCheckError {
  readonly instancePath: string;
  readonly keyword: string;
}

export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: readonly TypeCheckError[] | null;
}

/** One validator per component schema, by upstream name (io.k8s.api.core.v1.Pod, …). */
export const validators: Readonly<Record<string, CompiledValidator>>;
