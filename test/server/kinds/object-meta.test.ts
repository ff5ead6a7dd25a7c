import { describe, expect, it } from 'vitest';
import { validateObjectMeta, validateObjectMetaUpdate } from '../../../src/server/kinds/index.ts';
import { admit, lines } from './helpers.ts';

const SUBDOMAIN_DETAIL =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe('validateObjectMeta', () => {
  it.each([
    ['valid', { name: 'web', namespace: 'default' }, true, []],
    ['uppercase name', { name: 'Web', namespace: 'default' }, true, [`metadata.name: Invalid value: "Web": ${SUBDOMAIN_DETAIL}`]],
    ['missing name', { namespace: 'default' }, true, ['metadata.name: Required value: name or generateName is required']],
    ['generateName only is fine', { generateName: 'web-', namespace: 'default' }, true, []],
    ['bad generateName', { generateName: 'Web-', name: 'ok', namespace: 'default' }, true, [`metadata.generateName: Invalid value: "Web-": ${SUBDOMAIN_DETAIL}`]],
    ['namespace required', { name: 'x' }, true, ['metadata.namespace: Required value']],
    ['namespace forbidden for cluster kinds', { name: 'x', namespace: 'default' }, false, ['metadata.namespace: Forbidden: not allowed on this type']],
    ['negative generation', { name: 'x', generation: -1 }, false, ['metadata.generation: Invalid value: -1: must be greater than or equal to 0']],
  ])('%s', (_name, metadata, namespaced, want) => {
    expect(lines(validateObjectMeta({ metadata }, namespaced))).toEqual(want);
  });

  it('checks label keys and values with upstream messages', () => {
    const errs = lines(validateObjectMeta({ metadata: { name: 'x', labels: { 'app!': 'ok', tier: 'front end' } } }, false));
    expect(errs).toEqual([
      `metadata.labels: Invalid value: "app!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      `metadata.labels: Invalid value: "front end": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    ]);
  });

  it('label values longer than 63 characters', () => {
    const long = 'v'.repeat(64);
    expect(lines(validateObjectMeta({ metadata: { name: 'x', labels: { a: long } } }, false))).toEqual([
      `metadata.labels: Invalid value: "${long}": must be no more than 63 characters`,
    ]);
  });

  it('annotation keys are checked lower-cased and the total is capped at 256 KiB', () => {
    expect(lines(validateObjectMeta({ metadata: { name: 'x', annotations: { 'Example.COM/Key': 'v' } } }, false))).toEqual([]);
    const big = { name: 'x', annotations: { a: 'x'.repeat(256 * 1024) } };
    expect(lines(validateObjectMeta({ metadata: big }, false))).toEqual(['metadata.annotations: Too long: must have at most 262144 bytes']);
  });

  it('names use the kind rule: DNS-1123 labels for namespaces', () => {
    expect(lines(validateObjectMeta({ metadata: { name: 'a.b' } }, false, 'dns1123-label'))).toEqual(['metadata.name: Invalid value: "a.b": must not contain dots']);
  });

  it('owner references need apiVersion, kind, name and uid; one controller', () => {
    const refs = [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: '1', controller: true },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'b', uid: '2', controller: true },
      { apiVersion: '', kind: '', name: '', uid: '' },
    ];
    const errs = lines(validateObjectMeta({ metadata: { name: 'x', namespace: 'd', ownerReferences: refs } }, true));
    expect(errs).toContain('metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty');
    expect(errs).toContain('metadata.ownerReferences.kind: Invalid value: "": kind must not be empty');
    expect(errs).toContain('metadata.ownerReferences.uid: Invalid value: "": uid must not be empty');
    expect(errs.some((e) => e.includes('Only one reference can have Controller set to true. Found "true" in references for a and b'))).toBe(true);
  });

  it('update keeps name, namespace and uid', () => {
    const old = { metadata: { name: 'a', namespace: 'd', uid: 'u1' } };
    expect(lines(validateObjectMetaUpdate({ metadata: { name: 'a', namespace: 'd', uid: 'u1' } }, old, true))).toEqual([]);
    expect(lines(validateObjectMetaUpdate({ metadata: { name: 'a', namespace: 'd', uid: 'u2' } }, old, true))).toEqual([
      'metadata.uid: Invalid value: "u2": field is immutable',
    ]);
  });
});

describe('finalizer names of built-in kinds', () => {
  it('unprefixed finalizers must be standard ones', () => {
    const cm = (finalizers: string[]) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'd', finalizers } });
    expect(admit('', 'ConfigMap', cm(['kubernetes', 'foregroundDeletion', 'example.com/cleanup']))).toEqual([]);
    expect(admit('', 'ConfigMap', cm(['cleanup']))).toEqual(['metadata.finalizers: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified']);
    // Custom resources only get the qualified-name check.
    expect(lines(validateObjectMeta(cm(['cleanup']), true))).toEqual([]);
  });
});
