/**
 * Pod templates inside workload kinds: defaults (the defaulter-gen recursion that applies
 * SetDefaults_PodSpec to every embedded PodTemplateSpec), ValidatePodTemplateSpec, the
 * selector/template label check of ValidatePodTemplateSpecForReplicaSet, and the wide-output
 * Containers/Images cells (layoutContainerCells).
 */
import { child, isMap, map, maps, num, str, stringMap, type JsonMap } from './access.ts';
import { forbidden, invalid, invalidRendered, notSupported, required } from './field-errors.ts';
import { selectorIsEmpty, selectorMatches, validateLabelSelector } from './label-selector.ts';
import { validateAnnotations, validateLabels } from './object-meta.ts';
import { defaultPodSpec, validatePodSpec } from './pod-spec.ts';
import type { FieldError } from './types.ts';

export function defaultPodTemplate(template: JsonMap): void {
  defaultPodSpec(child(template, 'spec'));
}

export interface TemplateRules {
  /** Restart policies allowed for the owner (apps kinds: Always; Jobs: OnFailure, Never). */
  readonly restartPolicies: readonly string[];
  /** The error apps kinds give for a template activeDeadlineSeconds (each kind words it its own way). */
  readonly activeDeadlineError?: (path: string, value: unknown) => FieldError;
}

/** ValidatePodTemplateSpec plus the selector match check every controller does. */
export function validatePodTemplate(template: unknown, selector: unknown, path: string, rules: TemplateRules): FieldError[] {
  if (!isMap(template)) return [required(path)];
  const errs: FieldError[] = [];
  const meta = map(template.metadata) ?? {};
  if (!selectorIsEmpty(selector) && !selectorMatches(selector, stringMap(meta.labels)))
    errs.push(
      // Go prints a nil map as map[string]string(nil).
      isMap(meta.labels)
        ? invalid(`${path}.metadata.labels`, stringMap(meta.labels), '`selector` does not match template `labels`')
        : invalidRendered(`${path}.metadata.labels`, 'map[string]string(nil)', '`selector` does not match template `labels`'),
    );
  errs.push(...validateLabels(meta.labels, `${path}.metadata.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.metadata.annotations`));
  errs.push(...validatePodSpec(template.spec, `${path}.spec`));
  const spec = map(template.spec) ?? {};
  const restartPolicy = str(spec.restartPolicy);
  if (restartPolicy && !rules.restartPolicies.includes(restartPolicy))
    errs.push(notSupported(`${path}.spec.restartPolicy`, restartPolicy, rules.restartPolicies));
  if (rules.activeDeadlineError && spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null)
    errs.push(rules.activeDeadlineError(`${path}.spec.activeDeadlineSeconds`, spec.activeDeadlineSeconds));
  return errs;
}

/** The selector checks of apps kinds: required, valid, and not empty. */
export function validateWorkloadSelector(selector: unknown, path: string, kindWord: string): FieldError[] {
  if (!isMap(selector)) return [required(path)];
  const errs = validateLabelSelector(selector, path);
  if (selectorIsEmpty(selector)) errs.push(invalid(path, selector, `empty selector is invalid for ${kindWord}`));
  return errs;
}

/** ValidateNonnegativeField. */
export function nonNegative(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  const n = num(value);
  if (n === undefined || !Number.isInteger(n)) return [invalid(path, value, 'must be an integer')];
  return n < 0 ? [invalid(path, n, 'must be greater than or equal to 0')] : [];
}

/** layoutContainerCells: comma-joined container names and images of a pod template. */
export function containerCells(template: unknown): [string, string] {
  const containers = maps(map(map(template)?.spec)?.containers);
  return [containers.map((c) => str(c.name) ?? '').join(','), containers.map((c) => str(c.image) ?? '').join(',')];
}

/** ValidatePodTemplateSpecForReplicaSet's wording, also used by Deployments. */
export const REPLICA_SET_TEMPLATE_RULES: TemplateRules = {
  restartPolicies: ['Always'],
  activeDeadlineError: (path) => forbidden(path, 'activeDeadlineSeconds in ReplicaSet is not Supported'),
};
