import { runInThisContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { PROGRAM_ASSETS, programFor, wrapCommonJs } from '../../src/cli/sea-scripts.ts';

describe('the programs of the single executable', () => {
  it('runs the agent program for join and agent, the full one for everything else', () => {
    expect(programFor(['join', 'tok', '--data-dir', '/d'])).toBe('agent');
    expect(programFor(['agent', '--data-dir', '/d'])).toBe('agent');
    for (const args of [['server'], ['token', 'list'], ['store', 'check'], ['bundle', 'create'], [], ['--help'], ['agent', '--help'], ['join', '-h'], ['nonsense']]) {
      expect(programFor(args), args.join(' ')).toBe('full');
    }
  });

  it('gives the two programs distinct assets, and a code cache only to the full one', () => {
    expect(PROGRAM_ASSETS.full.script).not.toBe(PROGRAM_ASSETS.agent.script);
    expect(PROGRAM_ASSETS.full.codeCache).toBeDefined();
    expect(PROGRAM_ASSETS.agent.codeCache).toBeUndefined();
  });

  it('wraps a bundle as one CommonJS function of exports, require, module and the paths', () => {
    const fn = runInThisContext(wrapCommonJs('module.exports = [typeof require, __filename, __dirname, exports.x]; // a trailing comment')) as
      (e: unknown, r: unknown, m: { exports?: unknown }, f: string, d: string) => void;
    const module: { exports?: unknown } = {};
    fn({ x: 1 }, () => undefined, module, '/f', '/');
    expect(module.exports).toEqual(['function', '/f', '/', 1]);
  });
});
