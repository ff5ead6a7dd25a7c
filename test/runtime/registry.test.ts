// Pulls through CRI from a real registry (Debian's docker-registry, distribution v2) on 127.0.0.1
// with htpasswd auth: credentials from registries.yaml, credentials from a pull secret, a missing
// tag. skopeo pushes the locally built test image. Runs beside containerd.test.ts with its own
// containerd, bridge and pod CIDR: two agents on one host.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageNotFoundError, ImagePullError } from '../../src/runtime/index.ts';
import type { LogEntry } from '../../src/runtime/index.ts';
import { busyboxArchive } from '../fixtures/images/busybox-image.ts';
import { killPid } from './cleanup.ts';
import { startTestRuntime, waitFor } from './harness.ts';
import type { TestRuntime } from './harness.ts';

const user = 'edge';
const password = `pw-${process.pid}`;
let regDir: string;
let registry: ChildProcess | undefined;
let port: number;
let t: TestRuntime | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
    srv.on('error', reject);
  });
}

function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

beforeAll(async () => {
  regDir = mkdtempSync('/tmp/eos-reg-');
  port = await freePort();
  // distribution's htpasswd accepts bcrypt only; libcrypt makes one through Python's crypt.
  const hash = execFileSync('python3', ['-W', 'ignore', '-c',
    'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', password], { encoding: 'utf8' }).trim();
  writeFileSync(`${regDir}/htpasswd`, `${user}:${hash}\n`);
  writeFileSync(`${regDir}/config.yml`, [
    'version: 0.1',
    'log: { level: warn }',
    `storage: { filesystem: { rootdirectory: ${regDir}/data } }`,
    `http: { addr: "127.0.0.1:${port}" }`,
    `auth: { htpasswd: { realm: edgeos-test, path: ${regDir}/htpasswd } }`,
  ].join('\n') + '\n');
  const out = openSync(`${regDir}/registry.log`, 'a');
  registry = spawn('docker-registry', ['serve', `${regDir}/config.yml`], { stdio: ['ignore', out, out] });
  await waitFor('registry answers', async () => (await status(`http://127.0.0.1:${port}/v2/`)) === 401);

  writeFileSync(`${regDir}/app.tar`, busyboxArchive('edgeos.test/app:1', ['echo', 'pulled and running']));
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', `${user}:${password}`,
    `docker-archive:${regDir}/app.tar`, `docker://127.0.0.1:${port}/edgeos/app:1`], { stdio: 'pipe' });

  t = await startTestRuntime('reg', {
    podCidr: '10.231.8.0/24',
    cniBridge: 'eostest-reg0',
    registriesYaml: [
      'mirrors:',
      `  "127.0.0.1:${port}":`,
      `    endpoint: ["http://127.0.0.1:${port}"]`,
      `  "localhost:${port}":`,
      `    endpoint: ["http://localhost:${port}"]`,
      'configs:',
      `  "127.0.0.1:${port}":`,
      `    auth: { username: ${user}, password: "${password}" }`,
    ].join('\n') + '\n',
  });
}, 120_000);

afterAll(async () => {
  await t?.teardown();
  killPid(registry?.pid);
  if (regDir) rmSync(regDir, { recursive: true, force: true });
}, 120_000);

describe('pull from a local registry', () => {
  it('pulls with credentials from registries.yaml and runs the image', async () => {
    const ref = `127.0.0.1:${port}/edgeos/app:1`;
    const imageRef = await t!.rt.pullImage(ref);
    expect(imageRef).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await t!.rt.imageStatus(ref))?.id).toBe(imageRef);
    expect(t!.logs.some((l) => l.msg === 'image pulled' && l.image === ref)).toBe(true);
    // The password reached containerd's config but never the log.
    expect(JSON.stringify(t!.logs)).not.toContain(password);

    const sb = { metadata: { name: 'pulled', uid: `u-${process.pid}`, namespace: 'test', attempt: 0 } };
    const sid = await t!.rt.runPodSandbox(sb);
    const cid = await t!.rt.createContainer(sid, { name: 'app', image: ref }, sb);
    await t!.rt.startContainer(cid);
    await waitFor('app exits', async () => (await t!.rt.containerStatus(cid)).state === 'exited');
    const lines: LogEntry[] = [];
    for await (const e of t!.rt.readLogs(cid, {})) lines.push(e);
    expect(lines.map((e) => e.content)).toEqual(['pulled and running\n']);
    await t!.rt.stopPodSandbox(sid);
    await t!.rt.removePodSandbox(sid);
  });

  it('needs a pull secret where registries.yaml has no credentials', async () => {
    const ref = `localhost:${port}/edgeos/app:1`;
    const denied = t!.rt.pullImage(ref);
    await expect(denied).rejects.toBeInstanceOf(ImagePullError);
    await expect(denied).rejects.toThrow(/401|unauthorized/i);
    const imageRef = await t!.rt.pullImage(ref, { username: user, password, serverAddress: `localhost:${port}` });
    expect(imageRef).toMatch(/^sha256:/);
    await t!.rt.removeImage(ref);
    expect(await t!.rt.imageStatus(ref)).toBeUndefined();
  });

  it('reports a tag the registry does not have as not found', async () => {
    const missing = t!.rt.pullImage(`127.0.0.1:${port}/edgeos/app:no-such-tag`);
    await expect(missing).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(missing).rejects.toThrow(/no-such-tag/);
  });
});
