// --config / EDGEOS_CONFIG_FILE: the real command tree (buildProgram) with each action replaced by
// one that records the flags it would have resolved, so precedence and typing are checked on the
// flags users actually have; and the real CLI (src/cli/main.ts) for the messages a user sees.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfigText } from '../../src/cli/config-file.ts';
import { buildProgram } from '../../src/cli/program.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeos-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());
const main = join(import.meta.dirname, '../../src/cli/main.ts');

let n = 0;
function configFile(text: string): string {
  const file = join(dir, `config-${++n}.yaml`);
  writeFileSync(file, text);
  return file;
}

function find(program: Command, path: string[]): Command {
  return path.reduce((c, name) => c.commands.find((s) => s.name() === name)!, program);
}

/** Parses argv with the real tree; returns the flags the action got, or throws what the hook threw. */
async function flagsOf(argv: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram();
  let seen: Record<string, unknown> | undefined;
  const path = argv.filter((a) => /^[a-z]+$/.test(a)).slice(0, 2);
  const cmd = find(program, path[0] === 'token' || path[0] === 'store' ? path : path.slice(0, 1));
  cmd.action((...args: unknown[]) => {
    seen = args[args.length - 2] as Record<string, unknown>;
  });
  await program.parseAsync(['node', 'edgeos', ...argv]);
  return seen!;
}

function edgeos(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('config file precedence: flag > EDGEOS_* variable > file > default', () => {
  it('fills in flags from the file, typed as commander would have parsed them', async () => {
    const file = configFile(
      ['# written by hand', 'mode: server', 'data-dir: /srv/edgeos', 'https-listen-port: 7443', 'tls-san:', '  - a.example', '  - 10.0.0.1', 'disable-agent: true', ''].join('\n'),
    );
    expect(await flagsOf(['server', '--config', file])).toEqual({
      config: file,
      dataDir: '/srv/edgeos',
      httpsListenPort: '7443', // a YAML number becomes the string the flag would carry
      tlsSan: ['a.example', '10.0.0.1'],
      disableAgent: true,
    });
  });

  it('a repeatable flag takes a single string too', async () => {
    const file = configFile('tls-san: only.example\nnode-label: [a=b, c=d]\n');
    expect((await flagsOf(['server', '--config', file])).tlsSan).toEqual(['only.example']);
    expect((await flagsOf(['agent', '--config', file])).nodeLabel).toEqual(['a=b', 'c=d']);
  });

  it('a flag on the command line wins over the variable, which wins over the file', async () => {
    const file = configFile('data-dir: /from/file\nhttps-listen-port: 1111\nbind-address: 127.0.0.2\ntls-san: [file.example]\n');
    vi.stubEnv('EDGEOS_HTTPS_LISTEN_PORT', '2222');
    vi.stubEnv('EDGEOS_TLS_SAN', 'env.example');
    const flags = await flagsOf(['server', '--config', file, '--data-dir', '/from/flag']);
    expect(flags.dataDir).toBe('/from/flag');
    expect(flags.httpsListenPort).toBeUndefined(); // left to the variable: resolveServerConfig reads it
    expect(flags.tlsSan).toBeUndefined(); // the variable's list replaces the file's, it does not merge
    expect(flags.bindAddress).toBe('127.0.0.2');
    // A repeated flag replaces the file's list as well.
    expect((await flagsOf(['server', '--config', file, '--tls-san', 'x.example'])).tlsSan).toEqual(['x.example']);
    // An empty variable counts as unset, as it does for resolveServerConfig.
    vi.stubEnv('EDGEOS_HTTPS_LISTEN_PORT', '');
    expect((await flagsOf(['server', '--config', file])).httpsListenPort).toBe('1111');
  });

  it('EDGEOS_CONFIG_FILE names the file; --config wins over it', async () => {
    vi.stubEnv('EDGEOS_CONFIG_FILE', configFile('data-dir: /from/env-file\n'));
    expect((await flagsOf(['store', 'stats'])).dataDir).toBe('/from/env-file');
    expect((await flagsOf(['store', 'stats', '--config', configFile('data-dir: /from/flag-file\n')])).dataDir).toBe('/from/flag-file');
  });

  it('skips keys that are flags of other commands: one file serves server, token and store', async () => {
    const file = configFile('mode: server\ndata-dir: /srv/edgeos\nwrite-kubeconfig: /k.yaml\nkubeconfig: /k.yaml\nttl: 1h\n');
    expect(await flagsOf(['token', 'create', '--config', file])).toEqual({ config: file, kubeconfig: '/k.yaml', ttl: '1h' });
    expect(await flagsOf(['store', 'stats', '--config', file])).toEqual({ config: file, dataDir: '/srv/edgeos', output: 'text' });
    vi.stubEnv('KUBECONFIG', '/from/env'); // kubectl's variable is --kubeconfig's mirror
    expect((await flagsOf(['token', 'list', '--config', file])).kubeconfig).toBeUndefined();
  });

  it('accepts the mode install.sh writes for the command the service runs', async () => {
    expect((await flagsOf(['agent', '--config', configFile('mode: device\nnode-name: edge-1\n')])).nodeName).toBe('edge-1');
    expect((await flagsOf(['join', 'K10::x', '--config', configFile('mode: device\nnode-name: edge-2\n')])).nodeName).toBe('edge-2');
  });

  it('an absent default file is fine; an empty file sets nothing', async () => {
    expect(await flagsOf(['store', 'stats', '--config', configFile('')])).toEqual({ config: expect.any(String), output: 'text' });
    expect(await flagsOf(['store', 'stats', '--config', configFile('# only a comment\n')])).toEqual({ config: expect.any(String), output: 'text' });
  });
});

describe('config file errors name the file, the line and the key', () => {
  it.each([
    ['data_dir: /x\n', /:1: unknown key "data_dir": not a flag of any edgeos command \(did you mean data-dir\?\)/],
    ['mode: server\nfrobnicate: 1\n', /:2: unknown key "frobnicate"/],
    ['config: /other.yaml\n', /:1: unknown key "config"/],
    ['data-dir: [a\n', /:\d+:\d+: YAML syntax error: /],
    ['data-dir: /a\ndata-dir: /b\n', /:2:1: YAML syntax error: Map keys must be unique/],
    ['- data-dir\n', /:1: expected a mapping of flag names/],
    ['disable-agent: "true"\n', /:1: disable-agent: expected a boolean \(true or false\), got string "true"/],
    ['data-dir: true\n', /:1: data-dir: expected a string, got boolean true/],
    ['data-dir:\n', /:1: data-dir: expected a string, got nothing/],
    ['tls-san: {a: b}\n', /:1: tls-san: expected a string or a list of strings, got a mapping/],
    ['tls-san: [a, [b]]\n', /:1: tls-san: expected a string or a list of strings, got a list/],
    ['mode: agent\n', /:1: mode: expected server or device, got string "agent"/],
    ['\nmode: device\n', /:2: mode: device: this file configures `edgeos agent`, not `edgeos server`/],
  ])('%j', async (text, message) => {
    const file = configFile(text);
    const err = await flagsOf(['server', '--config', file]).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(message);
    expect(err?.message.startsWith(file)).toBe(true);
  });

  it('a missing file named by --config or EDGEOS_CONFIG_FILE is an error', async () => {
    await expect(flagsOf(['server', '--config', join(dir, 'absent.yaml')])).rejects.toThrow(`--config: ${join(dir, 'absent.yaml')} does not exist`);
    vi.stubEnv('EDGEOS_CONFIG_FILE', join(dir, 'absent.yaml'));
    await expect(flagsOf(['server'])).rejects.toThrow(`EDGEOS_CONFIG_FILE: ${join(dir, 'absent.yaml')} does not exist`);
  });

  it('parses keys and lines without the command tree', async () => {
    const c = await parseConfigText('a: 1\n\nb:\n  - x\n', 'f.yaml');
    expect(c.entries).toEqual([
      { key: 'a', value: 1, line: 1 },
      { key: 'b', value: ['x'], line: 3 },
    ]);
  });
});

describe('the edgeos CLI with a config file', () => {
  it('a value the server rejects is reported at its line in the file, not as a flag', () => {
    const file = configFile('mode: server\ndata-dir: ' + join(dir, 'data') + '\nhttps-listen-port: 99999\n');
    const r = edgeos(['server', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`edgeos: ${file}:3: https-listen-port: "99999" is not a TCP port (1-65535)\n`);
    // The same value as a flag is reported as the flag.
    expect(edgeos(['server', '--config', file, '--https-listen-port', 'x']).err).toBe('edgeos: --https-listen-port: "x" is not a TCP port (1-65535)\n');
  });

  it('`edgeos store stats` opens the data dir the file names', () => {
    const data = join(dir, 'store-data');
    const r = edgeos(['store', 'stats', '-o', 'json'], { EDGEOS_CONFIG_FILE: configFile(`data-dir: ${data}\n`) });
    expect(r.err).toBe('');
    expect(JSON.parse(r.out).file).toBe(join(data, 'server/db/state.db'));
  });

  it('--help lists --config on every command that has flags', () => {
    for (const args of [['server'], ['agent'], ['join'], ['token', 'create'], ['token', 'list'], ['store', 'stats']]) {
      expect(edgeos([...args, '--help']).out, args.join(' ')).toContain('--config <file>');
    }
  });
});
