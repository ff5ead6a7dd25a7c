// The whole path with the real link: kubectl 1.32 → the real `edgeos server` process → its
// NodeTunnel over the agent's outbound WebSocket (src/server/link, src/agent/link) → the agent's
// TunnelHandler → a real private containerd. The agent runs in this process without a kubelet;
// the pods are made directly in containerd with the kubelet's CRI metadata, and their Pod objects
// are scheduled to the agent's node in the API.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.ts';
import { createTunnelHandler } from '../../src/agent/tunnel/index.ts';
import { eventually, kubectl, kubectlStream } from '../helpers/kubectl.ts';
import { serverProcess, startTestAgent } from '../link/harness.ts';
import type { ServerProcess, TestAgent } from '../link/harness.ts';
import { startTestRuntime, waitFor } from '../runtime/harness.ts';
import type { TestRuntime } from '../runtime/harness.ts';
import { createApiPod, runPod } from './pods.ts';
import type { ApiRequester } from './pods.ts';

const NODE = 'edge-link-1';
let t: TestRuntime;
let server: ServerProcess;
let agent: TestAgent;
let agentDir: string;

/** The fixtures' request shape over the server harness's admin client. */
const admin = (): ApiRequester => ({
  request: async (method, path, o = {}) => {
    const r = await server.api(method, path, o.body === undefined ? undefined : JSON.parse(o.body));
    return { status: r.status, body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) };
  },
});

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

beforeAll(async () => {
  t = await startTestRuntime('tl', { podCidr: '10.231.62.0/24', cniBridge: 'eostest-tl0' });
  server = await serverProcess();
  agentDir = mkdtempSync(join(tmpdir(), 'edgeos-tunnel-agent-'));
  agent = await startTestAgent(server.token(), NODE, agentDir, { tunnelHandler: createTunnelHandler({ runtime: t.rt, log: silentLogger() }) });
  await Promise.all([
    runPod(admin(), t.rt, 'talker', NODE, [{ name: 'talker', script: 'echo one; sleep 0.1; echo two >&2; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done' }]),
    runPod(admin(), t.rt, 'http', NODE, [{ name: 'http', script: 'mkdir -p /www && echo hello-over-the-link > /www/index.html && exec httpd -f -p 8080 -h /www' }]),
  ]);
}, 180_000);

afterAll(async () => {
  await agent?.stop();
  await server?.dispose();
  if (agentDir) rmSync(agentDir, { recursive: true, force: true });
  await t?.teardown();
}, 120_000);

describe('through the real agent link', () => {
  it('kubectl logs, --tail and -f', async () => {
    // stdout and stderr are copied by separate goroutines in containerd: only per-stream order is fixed.
    // Wait for the first tick as well: --tail=1 below expects the last line to be one.
    await waitFor('talker logs', async () => /^one\n(.*\n)*two\n(.*\n)*tick \d+\n$/.test((await kubectl(server, ['logs', 'talker'])).stdout));
    expect((await kubectl(server, ['logs', 'talker', '--tail=1'])).stdout).toMatch(/^tick \d+\n$/);
    const follow = kubectlStream(server, ['logs', '-f', 'talker', '--tail=1']);
    try {
      await eventually(() => /tick (\d+)\n/.test(follow.output()), 20_000, 'the first followed tick');
      const first = Number(/tick (\d+)/.exec(follow.output())![1]);
      await eventually(() => follow.output().includes(`tick ${first + 3}\n`), 20_000, 'three more ticks');
    } finally {
      await follow.stop();
    }
  });

  it('kubectl exec keeps stdout, stderr, stdin and the exit code', async () => {
    expect(await kubectl(server, ['exec', 'talker', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']))
      .toEqual({ code: 7, stdout: 'out\n', stderr: 'err\ncommand terminated with exit code 7\n' });
    expect(await kubectl(server, ['exec', '-i', 'talker', '--', 'tr', 'a-z', 'A-Z'], { stdin: 'over the link\n' }))
      .toEqual({ code: 0, stdout: 'OVER THE LINK\n', stderr: '' });
  });

  it('kubectl port-forward reaches httpd in the pod', async () => {
    const pf = kubectlStream(server, ['port-forward', 'pod/http', ':8080']);
    try {
      await eventually(() => /Forwarding from 127\.0\.0\.1:\d+ -> 8080/.test(pf.output()), 20_000, 'port-forward to listen');
      const port = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.output())![1]);
      expect(await httpGet(`http://127.0.0.1:${port}/`)).toBe('hello-over-the-link\n');
    } finally {
      await pf.stop();
    }
  });

  it('refusals from the agent and a node without agent', async () => {
    await createApiPod(admin(), 'ghost', NODE, [{ name: 'ghost' }]);
    expect((await kubectl(server, ['logs', 'ghost'])).stderr).toBe('Error from server (BadRequest): container "ghost" in pod "ghost" is waiting to start: ContainerCreating\n');
    expect((await kubectl(server, ['exec', 'ghost', '--', 'true'])).stderr).toBe('error: unable to upgrade connection: container not found ("ghost")\n');
    await createApiPod(admin(), 'orphan', 'edge-never-joined', [{ name: 'orphan' }]);
    const offline = 'Error from server (ServiceUnavailable): node edge-never-joined has no connected agent\n';
    expect(await kubectl(server, ['logs', 'orphan'])).toMatchObject({ code: 1, stderr: offline });
    expect(await kubectl(server, ['exec', 'orphan', '--', 'true'])).toMatchObject({ code: 1, stderr: offline });
  });
});
