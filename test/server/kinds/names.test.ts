import { describe, expect, it } from 'vitest';
import {
  isConfigMapKey,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isLabelValue,
  isQualifiedName,
  isValidPathSegmentName,
  isValidPortName,
  regexError,
} from '../../../src/server/kinds/names.ts';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe('DNS names', () => {
  it.each([
    ['web', []],
    ['web-1.example.com', []],
    ['Web', [SUBDOMAIN_MSG]],
    ['-web', [SUBDOMAIN_MSG]],
    ['web.', [SUBDOMAIN_MSG]],
    ['a'.repeat(254), ['must be no more than 253 characters']],
  ])('subdomain %j', (value, want) => {
    expect(isDns1123Subdomain(value)).toEqual(want);
  });

  it.each([
    ['default', []],
    ['kube.system', ['must not contain dots']],
    [
      'My_ns',
      [
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ],
    ],
    ['a'.repeat(64), ['must be no more than 63 characters']],
  ])('label %j', (value, want) => {
    expect(isDns1123Label(value)).toEqual(want);
  });

  it('DNS-1035 labels must start with a letter (Service names)', () => {
    expect(isDns1035Label('my-svc')).toEqual([]);
    expect(isDns1035Label('1svc')).toEqual([
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]);
  });

  it('regexError keeps upstream spacing between examples', () => {
    expect(regexError('m', 'r', 'a', 'b', 'c')).toBe("m (e.g. 'a',  or 'b',  or 'c', regex used for validation is 'r')");
    expect(regexError('m', 'r')).toBe("m (regex used for validation is 'r')");
  });
});

describe('qualified names and label values', () => {
  it.each([
    ['app', []],
    ['app.kubernetes.io/name', []],
    ['/name', ['prefix part must be non-empty']],
    ['example.com/', ['name part must be non-empty', expect.stringContaining('name part must consist of alphanumeric characters')]],
    ['Bad_Prefix/name', [`prefix part ${SUBDOMAIN_MSG}`]],
    ['a/b/c', [expect.stringMatching(/^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e.g. 'example.com\/MyName'\)$/)]],
    ['-x', ["name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]],
  ])('qualified name %j', (value, want) => {
    expect(isQualifiedName(value)).toEqual(want);
  });

  it.each([
    ['', []],
    ['v1.2_beta', []],
    [
      'bad value',
      [
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      ],
    ],
    ['x'.repeat(64), ['must be no more than 63 characters']],
  ])('label value %j', (value, want) => {
    expect(isLabelValue(value)).toEqual(want);
  });
});

describe('port names, config keys, path segments', () => {
  it.each([
    ['http', []],
    ['HTTP', ['must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)', 'must contain at least one letter (a-z)']],
    ['web_1', ['must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)']],
    ['8080', ['must contain at least one letter (a-z)']],
    ['a--b', ['must not contain consecutive hyphens']],
    ['-web', ['must not begin or end with a hyphen']],
    ['abcdefghijklmnop', ['must be no more than 15 characters']],
  ])('port name %j', (value, want) => {
    expect(isValidPortName(value)).toEqual(want);
  });

  it('config map keys', () => {
    expect(isConfigMapKey('app.properties')).toEqual([]);
    expect(isConfigMapKey('..data')).toEqual(["must not start with '..'"]);
    expect(isConfigMapKey('a b')[0]).toMatch(/^a valid config key must consist of alphanumeric characters, '-', '_' or '.' \(e.g. 'key.name', {2}or 'KEY_NAME', {2}or 'key-name'/);
  });

  it('RBAC names are URL path segments', () => {
    expect(isValidPathSegmentName('system:controller:job')).toEqual([]);
    expect(isValidPathSegmentName('a/b')).toEqual(["may not contain '/'"]);
    expect(isValidPathSegmentName('..')).toEqual(["may not be '..'"]);
  });
});
