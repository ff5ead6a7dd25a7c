import { describe, expect, it } from 'vitest';
import { agentLaunchEnv, RELAUNCH_MARK, relaunchWithFlags, roleOf, serverLaunchEnv, v8Flags } from '../../../src/common/v8-flags.ts';

const node = '/usr/bin/node';

describe('V8 flags per role', () => {
  it('knows the role of a command line by its subcommand', () => {
    expect(roleOf(['join', 'tok'])).toBe('agent');
    expect(roleOf(['agent', '--data-dir', '/d'])).toBe('agent');
    expect(roleOf(['server'])).toBe('server');
    expect(roleOf(['agent', '--help'])).toBeUndefined();
    expect(roleOf(['token', 'create'])).toBeUndefined();
    expect(roleOf([])).toBeUndefined();
  });

  it('relaunches a source or bundle run with the flags before the script, keeping its own', () => {
    const r = relaunchWithFlags({ execPath: node, execArgv: ['--enable-source-maps'], argv: [node, '/x/main.cjs', 'agent', '--data-dir', '/d'], env: { PATH: '/bin' }, sea: false });
    expect(r).toEqual({
      file: node,
      args: [node, '--enable-source-maps', ...v8Flags.agent, '/x/main.cjs', 'agent', '--data-dir', '/d'],
      env: { ...agentLaunchEnv, PATH: '/bin', [RELAUNCH_MARK]: ['agent', ...Object.keys(agentLaunchEnv)].join(':') },
    });
  });

  it('relaunches the single executable with its flags as --node-options', () => {
    const exe = '/usr/local/bin/edgeos';
    const r = relaunchWithFlags({ execPath: exe, execArgv: [], argv: [exe, exe, 'join', 'tok'], env: {}, sea: true });
    expect(r?.args).toEqual([exe, `--node-options=${v8Flags.agent.join(' ')}`, 'join', 'tok']);
  });

  it('starts another command line of a role with its flags even from a process that has them (join → agent)', () => {
    const argv = [node, '/x/main.cjs', 'agent', '--data-dir', '/d'];
    // This process was relaunched: it has the flags, and our variables were removed again.
    const r = relaunchWithFlags({ execPath: node, execArgv: [...v8Flags.agent], argv, env: { PATH: '/bin' }, sea: false }, { always: true });
    expect(r?.args).toEqual([node, ...v8Flags.agent, '/x/main.cjs', 'agent', '--data-dir', '/d']);
    expect(r?.env).toEqual({ ...agentLaunchEnv, PATH: '/bin', [RELAUNCH_MARK]: ['agent', ...Object.keys(agentLaunchEnv)].join(':') });
    expect(relaunchWithFlags({ execPath: node, execArgv: [], argv: [node, '/x/main.cjs', 'token', 'list'], env: {}, sea: false }, { always: true })).toBeUndefined();
  });

  it('leaves a variable the user set alone, and never relaunches twice', () => {
    const argv = [node, '/x/main.cjs', 'agent'];
    const user = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' };
    const r = relaunchWithFlags({ execPath: node, execArgv: [], argv, env: user, sea: false });
    expect(r?.env.GLIBC_TUNABLES).toBe('glibc.malloc.arena_max=4');
    expect(r?.env[RELAUNCH_MARK]).toBe('agent'); // so it is not removed after the relaunch either
    // Flags already there (the benchmark starts the bundle so) and nothing to add: run as is.
    expect(relaunchWithFlags({ execPath: node, execArgv: [...v8Flags.agent], argv, env: user, sea: false })).toBeUndefined();
    // A relaunched process whose flags did not arrive still does not loop.
    expect(relaunchWithFlags({ execPath: node, execArgv: [], argv, env: { [RELAUNCH_MARK]: 'agent' }, sea: false })).toBeUndefined();
  });

  it('keeps WebAssembly for TypeScript source runs (the type stripper needs it): heap flags only', () => {
    const r = relaunchWithFlags({ execPath: node, execArgv: [], argv: [node, '/x/src/cli/main.ts', 'join', 'tok'], env: {}, sea: false });
    expect(r?.args).toEqual([node, ...v8Flags.agent.filter((f) => f !== '--lite-mode'), '/x/src/cli/main.ts', 'join', 'tok']);
    expect(r?.args).not.toContain('--lite-mode');
  });

  it('gives the server its own flags and malloc tunables', () => {
    const r = relaunchWithFlags({ execPath: node, execArgv: [], argv: [node, '/x/main.cjs', 'server'], env: {}, sea: false });
    expect(r?.args).toEqual([node, ...v8Flags.server, '/x/main.cjs', 'server']);
    expect(r?.env).toMatchObject(serverLaunchEnv);
  });

  it('does not relaunch commands without a role', () => {
    expect(relaunchWithFlags({ execPath: node, execArgv: [], argv: [node, '/x/main.cjs', 'store', 'status'], env: {}, sea: false })).toBeUndefined();
  });
});
