// scripts/build-sea.ts: flag validation and the fail-fast checks that run before any slow step.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBuildArgs } from '../../scripts/build-sea.ts';
import { InvalidInputError } from '../../src/common/errors.ts';
import { root, run } from './sea-harness.ts';

describe('parseBuildArgs', () => {
  it('defaults to the host arch, dist/, the CLI entry and a minified bundle', () => {
    const o = parseBuildArgs([]);
    expect(o.arch).toBe(process.arch === 'x64' ? 'amd64' : 'arm64');
    expect(o.outDir.endsWith('/dist')).toBe(true);
    expect(o.entry).toBe(join(root, 'src/cli/main.ts'));
    expect(o.name).toBe('edgeos');
    expect(o.minify).toBe(true);
    expect(parseBuildArgs(['--no-minify']).minify).toBe(false);
  });

  it.each([
    [['--arch', 'mips'], '--arch: "mips" is not one of amd64, arm64'],
    [['--arch', 'x64'], '--arch: "x64"'],
    [['--name', '../evil'], '--name: "../evil"'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['extra'], 'extra'],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(() => parseBuildArgs(argv)).toThrow(InvalidInputError);
    expect(() => parseBuildArgs(argv)).toThrow(message);
  });
});

// The messages below are what an x86 host says (native strip, cross aarch64 strip).
describe.runIf(process.arch === 'x64')('build-sea without its tools', () => {
  let tmp: string;
  beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'edgeos-build-args-')); });
  afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

  it.each([
    ['arm64', 'aarch64-linux-gnu-strip not found in PATH: install binutils-aarch64-linux-gnu'],
    ['amd64', 'strip not found in PATH: install binutils'],
  ])('--arch %s names the package to install and leaves nothing behind', (arch, message) => {
    const out = join(tmp, arch);
    // An empty PATH hides every tool; the node running the script is given by absolute path.
    const r = run(process.execPath, ['scripts/build-sea.ts', '--arch', arch, '--out-dir', out], { env: { PATH: tmp } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(message);
    expect(() => readdirSync(out)).toThrow(); // failed before creating anything
  });

  it('without a C compiler names the packages for the malloc addon and leaves nothing behind', () => {
    const tools = join(tmp, 'tools');
    mkdirSync(tools);
    symlinkSync('/usr/bin/strip', join(tools, 'strip'));
    const out = join(tmp, 'no-cc');
    const r = run(process.execPath, ['scripts/build-sea.ts', '--arch', 'amd64', '--out-dir', out], { env: { PATH: tools } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('gcc not found in PATH: install gcc libc6-dev');
    expect(readdirSync(out)).toEqual([]); // its work dir removed
  });
});
