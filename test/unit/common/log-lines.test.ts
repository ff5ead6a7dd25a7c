import { describe, expect, it } from 'vitest';
import { duplicateKeys, linesWithDuplicateKeys } from '../../helpers/log-lines.ts';

describe('duplicate keys in log lines', () => {
  it('finds a key bound twice, at any depth, and nothing in clean lines', () => {
    expect(duplicateKeys('{"level":30,"component":"agent","node":"n","component":"store","msg":"x"}')).toEqual(['component']);
    expect(duplicateKeys('{"err":{"code":"A","code":"B"},"a":[{"x":1,"x":2}]}')).toEqual(['err.code', 'a.x']);
    expect(duplicateKeys('{"msg":"a \\"component\\": b {","component":"x","list":[],"o":{},"n":null,"t":true,"f":-1.5e3}')).toEqual([]);
    expect(() => duplicateKeys('{"a":')).toThrow();
  });

  it('reads a process output and skips what is not a JSON line', () => {
    const out = 'edgeos: a human line\n{"a":1,"a":2}\n{"b":1}\n';
    expect(linesWithDuplicateKeys(out)).toEqual(['a: {"a":1,"a":2}']);
  });
});
