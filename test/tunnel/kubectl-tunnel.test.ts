// kubectl logs/exec/attach/port-forward end to end: the real kubectl 1.32 → the API handler over
// HTTPS → a NodeTunnel (test wiring over stream.duplexPair) → the agent's TunnelHandler → a real
// private containerd and its streaming server. Pods are real containerd pods with the CRI metadata
// a kubelet gives them, and Pod objects in the API scheduled to the test node.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTunnelHandler } from '../../src/agent/tunnel/index.ts';
import { KUBECTL, eventually, kubectl, kubectlStream } from '../helpers/kubectl.ts';
import { TEST_TOKEN } from '../helpers/in-process-api.ts';
import { startTestRuntime, waitFor } from '../runtime/harness.ts';
import type { TestRuntime } from '../runtime/harness.ts';
import { createApiPod, runPod, startContainer, startRuntimePod } from './pods.ts';
import { StreamPairTunnel } from './stream-pair-tunnel.ts';
import { startTunnelApi } from './tunnel-api.ts';
import type { TunnelApi } from './tunnel-api.ts';
import { endStdin } from '../helpers/stdin.ts';

const NODE = 'edge-1';
let t: TestRuntime;
let api: TunnelApi;
let tunnel: StreamPairTunnel;
const agentLogs: Record<string, unknown>[] = [];

function capturingLogger(lines: Record<string, unknown>[]): pino.Logger {
  return pino({ level: 'debug' }, new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  }));
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.end();
  });
}

/** kubectl under `script`, which gives it a pseudo-terminal as stdin/stdout (exec -it). */
function kubectlInTerminal(args: string, input: string): Promise<{ code: number; output: string }> {
  // The terminal gets a size first: kubectl sends it on the resize stream when the session starts.
  const cmd = `stty cols 123 rows 45; ${KUBECTL} --kubeconfig=${api.kubeconfig} --cache-dir=${api.cacheDir} ${args}`;
  return new Promise((resolve, reject) => {
    const child = execFile('script', ['-qec', cmd, '/dev/null'], { timeout: 45_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TERM: 'dumb' } }, (err, stdout) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      if (typeof code !== 'number') reject(err instanceof Error ? err : new Error(String(err)));
      else resolve({ code, output: stdout });
    });
    endStdin(child, input);
  });
}

beforeAll(async () => {
  t = await startTestRuntime('tn', { podCidr: '10.231.60.0/24', cniBridge: 'eostest-tn0' });
  tunnel = new StreamPairTunnel({ [NODE]: createTunnelHandler({ runtime: t.rt, log: capturingLogger(agentLogs) }) });
  api = await startTunnelApi(tunnel);
  await Promise.all([
    runPod(api, t.rt, 'quiet', NODE, [{ name: 'quiet', script: 'echo one; echo two; echo three; exec sleep 3600' }]),
    runPod(api, t.rt, 'ticker', NODE, [{ name: 'ticker', script: 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done' }]),
    runPod(api, t.rt, 'duo', NODE, [{ name: 'a', script: 'echo from a; exec sleep 3600' }, { name: 'b', script: 'echo from b >&2; exec sleep 3600' }], { 'kubectl.kubernetes.io/default-container': 'b' }),
    runPod(api, t.rt, 'http', NODE, [{ name: 'http', script: 'mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www' }]),
  ]);
  // Wait until the fixed lines are written, so the log assertions below never race the containers.
  await waitFor('quiet wrote its lines', async () => (await kubectl(api, ['logs', 'quiet'])).stdout.includes('three'));
}, 180_000);

afterAll(async () => {
  await api?.close();
  await t?.teardown();
}, 120_000);

describe('kubectl logs through the tunnel', () => {
  it('prints the log, with --tail, --timestamps, --limit-bytes and --since', async () => {
    expect(await kubectl(api, ['logs', 'quiet'])).toMatchObject({ code: 0, stdout: 'one\ntwo\nthree\n' });
    expect((await kubectl(api, ['logs', 'quiet', '--tail=1'])).stdout).toBe('three\n');
    const stamped = (await kubectl(api, ['logs', 'quiet', '--timestamps', '--tail=2'])).stdout.split('\n');
    expect(stamped[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z two$/);
    expect(stamped[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z three$/);
    // The limit counts what is written, timestamps included (kubelet's LimitWriter).
    expect((await kubectl(api, ['logs', 'quiet', '--limit-bytes=6'])).stdout).toBe('one\ntw');
    expect((await kubectl(api, ['logs', 'quiet', '--since=1h'])).stdout).toBe('one\ntwo\nthree\n');
    const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    expect(await kubectl(api, ['logs', 'quiet', `--since-time=${future}`])).toMatchObject({ code: 0, stdout: '' });
  });

  it('follows new lines as they are written and stops the agent side when kubectl goes away', async () => {
    const follow = kubectlStream(api, ['logs', '-f', 'ticker']);
    try {
      await eventually(() => /tick \d+\n/.test(follow.output()), 20_000, 'the first ticks');
      const first = Number(/tick (\d+)/.exec(follow.output())![1]);
      // Lines written after kubectl started arrive on the open stream.
      await eventually(() => follow.output().includes(`tick ${first + 5}\n`), 20_000, 'five more ticks');
      expect(follow.child.exitCode).toBeNull();
    } finally {
      await follow.stop();
    }
    await eventually(() => agentLogs.some((l) => l.msg === 'tunnel stream closed' && l.kind === 'logs' && l.pod === 'default/ticker'), 20_000, 'the agent to end the followed log');
  });

  it('shows the previous instance after a restart, and the kubelet error when there is none', async () => {
    const uid = await createApiPod(api, 'restarter', NODE, [{ name: 'app' }]);
    const pod = await startRuntimePod(t.rt, 'restarter', uid, []);
    const first = await startContainer(t.rt, pod.sandboxId, pod.sandbox, 'app', 'echo first life', 0);
    await waitFor('the first instance exits', async () => (await t.rt.containerStatus(first)).state === 'exited');
    await startContainer(t.rt, pod.sandboxId, pod.sandbox, 'app', 'echo second life; exec sleep 3600', 1);
    await waitFor('the second instance logs', async () => (await kubectl(api, ['logs', 'restarter'])).stdout === 'second life\n');
    expect(await kubectl(api, ['logs', 'restarter', '--previous'])).toMatchObject({ code: 0, stdout: 'first life\n' });
    const none = await kubectl(api, ['logs', 'quiet', '--previous']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('Error from server (BadRequest): previous terminated container "quiet" in pod "quiet" not found\n');
  });

  it('resolves the container like apiserver; kubectl applies the default-container annotation itself', async () => {
    // b writes to stderr: both streams are in the log.
    expect((await kubectl(api, ['logs', 'duo'])).stdout).toBe('from b\n');
    expect((await kubectl(api, ['logs', 'duo', '-c', 'a'])).stdout).toBe('from a\n');
    const unnamed = await api.request('GET', '/api/v1/namespaces/default/pods/duo/log');
    expect(unnamed.status).toBe(400);
    expect(JSON.parse(unnamed.body).message).toBe('a container name must be specified for pod duo, choose one of: [a b]');
    const wrong = await api.request('GET', '/api/v1/namespaces/default/pods/duo/log?container=zzz');
    expect(JSON.parse(wrong.body)).toMatchObject({ code: 400, reason: 'BadRequest', message: 'container zzz is not valid for pod duo' });
  });

  it('validates PodLogOptions like apiserver', async () => {
    const tail = await api.request('GET', '/api/v1/namespaces/default/pods/quiet/log?tailLines=-1');
    expect(JSON.parse(tail.body)).toMatchObject({ code: 422, reason: 'Invalid', message: 'PodLogOptions "quiet" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0' });
    const both = await api.request('GET', '/api/v1/namespaces/default/pods/quiet/log?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z');
    expect(both.status).toBe(422);
    expect(JSON.parse(both.body).message).toContain('at most one of `sinceTime` or `sinceSeconds` may be specified');
    const notInt = await api.request('GET', '/api/v1/namespaces/default/pods/quiet/log?limitBytes=lots');
    expect(notInt.status).toBe(400);
    // Every refusal above was decided by the server: none reached the agent.
    expect(tunnel.opened.some((o) => o.open.request.kind === 'logs' && o.open.request.name === 'quiet' && o.open.request.tailLines === -1)).toBe(false);
  });

  it('answers with the kubelet message for a container not created yet, 503 for a node without agent, nothing for an unscheduled pod', async () => {
    await createApiPod(api, 'ghost', NODE, [{ name: 'ghost' }]);
    const waiting = await kubectl(api, ['logs', 'ghost']);
    expect(waiting.stderr).toBe('Error from server (BadRequest): container "ghost" in pod "ghost" is waiting to start: ContainerCreating\n');
    await createApiPod(api, 'faraway', 'edge-offline', [{ name: 'faraway' }]);
    const offline = await kubectl(api, ['logs', 'faraway']);
    expect(offline.stderr).toBe('Error from server (ServiceUnavailable): node "edge-offline" has no agent connected\n');
    const created = await api.request('POST', '/api/v1/namespaces/default/pods', {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unscheduled' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }),
      headers: { 'content-type': 'application/json' },
    });
    expect(created.status).toBe(201);
    // apiserver's LogLocation has no location for a pod without a node: an empty log.
    expect(await api.request('GET', '/api/v1/namespaces/default/pods/unscheduled/log')).toMatchObject({ status: 200, body: '' });
  });
});

describe('kubectl exec, attach and port-forward through the tunnel', () => {
  it('separates stdout and stderr and keeps the exit code', async () => {
    const r = await kubectl(api, ['exec', 'quiet', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r).toEqual({ code: 7, stdout: 'out\n', stderr: 'err\ncommand terminated with exit code 7\n' });
    // kubectl offers WebSocket v5.channel.k8s.io first; containerd 1.6's streaming server does not
    // speak v5 and refuses, kubectl falls back to SPDY/3.1 with v4 (exit codes included). Both
    // requests crossed the tunnel, and neither carried the client's credentials to the agent.
    const heads = tunnel.opened.filter((o) => o.open.request.kind === 'exec').map((o) => o.open.httpHead!.toString('latin1'));
    expect(heads.some((h) => h.startsWith('GET ') && /Sec-WebSocket-Protocol: v5\.channel\.k8s\.io/i.test(h))).toBe(true);
    expect(heads.some((h) => h.startsWith('POST ') && /X-Stream-Protocol-Version: v4\.channel\.k8s\.io/i.test(h))).toBe(true);
    for (const h of heads) {
      expect(h).not.toMatch(/authorization/i);
      expect(h).not.toContain(TEST_TOKEN);
    }
  });

  it('passes stdin with -i', async () => {
    const r = await kubectl(api, ['exec', '-i', 'quiet', '--', 'sh', '-c', 'tr a-z A-Z; echo done'], { stdin: 'hello\nworld\n' });
    expect(r).toEqual({ code: 0, stdout: 'HELLO\nWORLD\ndone\n', stderr: '' });
  });

  it('runs an interactive shell with -it on a pseudo-terminal, with the terminal size', async () => {
    // The size travels on its own stream, concurrently with the typed input: wait for it in the shell.
    const waitSize = 'for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size); [ "$s" != "0 0" ] && break; sleep 0.3; done; echo "size $s"';
    const r = await kubectlInTerminal('exec -it quiet -- sh', `tty; ${waitSize}; echo hi-$((6*7)); exit 3\n`);
    expect(r.output).toMatch(/\/dev\/pts\/\d+\r\n/);
    expect(r.output).toContain('size 45 123\r\n');
    expect(r.output).toContain('hi-42\r\n');
    expect(r.output).toContain('command terminated with exit code 3');
    expect(r.code).toBe(3);
  });

  it('refuses a container that is not running with the kubelet message, and a node without agent', async () => {
    const uid = await createApiPod(api, 'finished', NODE, [{ name: 'done' }]);
    const pod = await startRuntimePod(t.rt, 'finished', uid, [{ name: 'done', script: 'true' }]);
    await waitFor('the container exits', async () => (await t.rt.containerStatus(pod.containerIds.done!)).state === 'exited');
    const refused = await kubectl(api, ['exec', 'finished', '--', 'true']);
    expect(refused).toMatchObject({ code: 1, stderr: 'error: unable to upgrade connection: container not found ("done")\n' });
    await createApiPod(api, 'elsewhere', 'edge-offline', [{ name: 'c' }]);
    const offline = await kubectl(api, ['exec', 'elsewhere', '--', 'true']);
    expect(offline).toMatchObject({ code: 1, stderr: 'Error from server (ServiceUnavailable): node "edge-offline" has no agent connected\n' });
  });

  it('copies files in and out with kubectl cp (tar over exec)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeos-tunnel-cp-'));
    try {
      const payload = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join(''));
      writeFileSync(join(dir, 'in.txt'), payload);
      expect((await kubectl(api, ['cp', join(dir, 'in.txt'), 'quiet:/tmp/copied.txt'])).code).toBe(0);
      expect((await kubectl(api, ['exec', 'quiet', '--', 'wc', '-c', '/tmp/copied.txt'])).stdout).toBe(`${payload.length} /tmp/copied.txt\n`);
      expect((await kubectl(api, ['cp', 'quiet:/tmp/copied.txt', join(dir, 'out.txt')])).code).toBe(0);
      expect(readFileSync(join(dir, 'out.txt')).equals(payload)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('attaches to a running container\'s output', async () => {
    const attach = kubectlStream(api, ['attach', 'ticker']);
    try {
      await eventually(() => /tick \d+\ntick \d+\n/.test(attach.output()), 20_000, 'ticks through attach');
    } finally {
      await attach.stop();
    }
  });

  it('forwards a local port to busybox httpd in the pod', async () => {
    const pf = kubectlStream(api, ['port-forward', 'pod/http', ':8080']);
    try {
      await eventually(() => /Forwarding from 127\.0\.0\.1:\d+ -> 8080/.test(pf.output()), 20_000, 'port-forward to listen');
      const port = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.output())![1]);
      expect(await httpGet(`http://127.0.0.1:${port}/`)).toBe('hello-from-pod\n');
      // A second connection is a second stream pair inside the same forwarded connection.
      expect(await httpGet(`http://127.0.0.1:${port}/index.html`)).toBe('hello-from-pod\n');
    } finally {
      await pf.stop();
    }
    const heads = tunnel.opened.filter((o) => o.open.request.kind === 'portforward').map((o) => o.open.httpHead!.toString('latin1'));
    expect(heads.some((h) => h.startsWith('POST ') && /X-Stream-Protocol-Version: portforward\.k8s\.io/i.test(h))).toBe(true);
  });
});
