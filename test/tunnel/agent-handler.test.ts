// The agent's TunnelHandler against the in-memory FakeRuntime: which sandbox and container it
// picks, the kubelet's refusals (thrown before any byte is written), log formatting and limits,
// and the replay of an upgrade request to a streaming server (a loopback TCP server standing in
// for containerd's, which the kubectl tests use for real).
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { duplexPair } from 'node:stream';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.ts';
import type { TunnelOpen, TunnelRequest } from '../../src/common/tunnel.ts';
import { createTunnelHandler } from '../../src/agent/tunnel/index.ts';
import {
  ContainerNotRunningError, ContainerWaitingError, NoPreviousContainerError, PodNotRunningError, StreamingServerError,
  TunnelRequestError, UpgradeHeadError,
} from '../../src/agent/tunnel/index.ts';
import { FakeRuntime } from '../../src/runtime/fake-runtime.ts';
import { RuntimeNotFoundError } from '../../src/runtime/index.ts';
import type { PodSandboxConfig, StreamRequest } from '../../src/runtime/index.ts';

const IMAGE = 'edgeos.test/busybox:1';
const pod = { namespace: 'default', name: 'web', uid: 'uid-1' };

/** FakeRuntime whose streaming URLs point at a test server. */
class StreamingFake extends FakeRuntime {
  streamingBase = 'http://127.0.0.1:1';
  readonly execs: StreamRequest[] = [];
  override async exec(req: StreamRequest): Promise<string> {
    await super.exec(req);
    this.execs.push(req);
    return `${this.streamingBase}/exec/tok-${req.containerId.slice(0, 8)}?x=1`;
  }
}

let rt: StreamingFake;
let sandbox: PodSandboxConfig;
let sid: string;

beforeEach(async () => {
  rt = new StreamingFake();
  rt.images.set(IMAGE, { id: 'sha256:1', repoTags: [IMAGE], repoDigests: [], sizeBytes: 1, pinned: false });
  sandbox = { metadata: { ...pod, attempt: 0 } };
  sid = await rt.runPodSandbox(sandbox);
});

async function container(name: string, attempt: number, sb = sid, sbConfig = sandbox): Promise<string> {
  const id = await rt.createContainer(sb, { name, attempt, image: IMAGE }, sbConfig);
  await rt.startContainer(id);
  return id;
}

function collect(stream: Duplex): Promise<string> {
  let out = '';
  stream.on('data', (b: Buffer) => (out += b.toString('latin1')));
  return once(stream, 'end').then(() => out);
}

/** Serves a request; returns the agent-side result and what the server end read. */
async function serve(open: TunnelOpen): Promise<{ result: Promise<void>; server: Duplex; agent: Duplex }> {
  const [server, agent] = duplexPair();
  const result = createTunnelHandler({ runtime: rt, log: silentLogger() }).handle(open, agent);
  return { result, server, agent };
}

const logs = (extra: Partial<Extract<TunnelRequest, { kind: 'logs' }>> = {}): TunnelRequest =>
  ({ kind: 'logs', ...pod, container: 'app', follow: false, previous: false, timestamps: false, ...extra });

describe('logs', () => {
  it('streams the newest instance as text, with timestamps and a byte limit that counts them', async () => {
    const old = await container('app', 0);
    rt.writeLog(old, 'old instance');
    rt.exit(old, 1);
    const cur = await container('app', 1);
    rt.writeLog(cur, 'hello');
    rt.writeLog(cur, 'oops', 'stderr');
    let s = await serve({ request: logs() });
    expect(await collect(s.server)).toBe('hello\noops\n');
    await s.result;
    s = await serve({ request: logs({ timestamps: true }) });
    expect(await collect(s.server)).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z hello\n\d{4}-\d\d-\d\dT[\d:.]+Z oops\n$/);
    s = await serve({ request: logs({ timestamps: true, limitBytes: 10 }) });
    expect(await collect(s.server)).toMatch(/^\d{4}-\d\d-\d\d$/);
    s = await serve({ request: logs({ tailLines: 1 }) });
    expect(await collect(s.server)).toBe('oops\n');
  });

  it('uses the pod by UID: a same-named pod with another UID is not it', async () => {
    const other: PodSandboxConfig = { metadata: { ...pod, uid: 'uid-2', attempt: 0 } };
    const otherSid = await rt.runPodSandbox(other);
    rt.writeLog(await container('app', 0, otherSid, other), 'wrong pod');
    const s = await serve({ request: logs() });
    await expect(s.result).rejects.toThrow(new ContainerWaitingError('app', 'web', 'ContainerCreating'));
    expect(s.server.readableLength).toBe(0);
  });

  it('refuses with the kubelet messages before writing', async () => {
    await expect((await serve({ request: logs() })).result).rejects.toThrow('container "app" in pod "web" is waiting to start: ContainerCreating');
    await container('app', 0);
    // FakeRuntime keeps no log files, so `previous` finds none.
    rt.readLogs = () => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new RuntimeNotFoundError('logs: previous terminated container of x not found')) }),
    });
    await expect((await serve({ request: logs({ previous: true }) })).result).rejects.toThrow(new NoPreviousContainerError('app', 'web'));
  });
});

describe('exec, attach, port-forward', () => {
  let streaming: Server;
  let heads: string[];
  let conns: Socket[];

  beforeEach(async () => {
    heads = [];
    conns = [];
    // A streaming server: reads the request head, answers 101, then echoes bytes in upper case.
    streaming = createServer((sock) => {
      conns.push(sock);
      let buf = '';
      const onHead = (b: Buffer): void => {
        buf += b.toString('latin1');
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.off('data', onHead);
        heads.push(buf.slice(0, end + 4));
        sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\n');
        const rest = buf.slice(end + 4);
        if (rest) sock.write(rest.toUpperCase());
        sock.on('data', (d: Buffer) => sock.write(d.toString('latin1').toUpperCase()));
        sock.on('end', () => sock.end());
      };
      sock.on('data', onHead);
    });
    await new Promise<void>((r) => streaming.listen(0, '127.0.0.1', r));
    rt.streamingBase = `http://127.0.0.1:${(streaming.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    for (const c of conns) c.destroy();
    await new Promise<void>((r) => streaming.close(() => r()));
  });

  const head = (lines: string[]): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const spdyHead = head([
    'POST /api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true HTTP/1.1', 'Host: api.example:6443',
    'Authorization: Bearer secret-token', 'Connection: Upgrade', 'Upgrade: SPDY/3.1',
    'X-Stream-Protocol-Version: v4.channel.k8s.io', 'X-Stream-Protocol-Version: channel.k8s.io', 'Cookie: a=b',
  ]);
  const exec: TunnelRequest = { kind: 'exec', ...pod, container: 'app', command: ['sh'], stdin: true, stdout: true, stderr: true, tty: false };

  it('replays the upgrade to the streaming URL and splices both ways until the client ends', async () => {
    const old = await container('app', 0);
    rt.exit(old, 0);
    const cur = await container('app', 1);
    const s = await serve({ request: exec, httpHead: spdyHead });
    const received = collect(s.server);
    await once(s.server, 'readable');
    s.server.write('ping');
    s.server.end();
    expect(await received).toBe('HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\nPING');
    await s.result;
    expect(rt.execs).toEqual([{ containerId: cur, cmd: ['sh'], tty: false, stdin: true, stdout: true, stderr: true }]);
    const port = (streaming.address() as AddressInfo).port;
    expect(heads).toEqual([[
      `POST /exec/tok-${cur.slice(0, 8)}?x=1 HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: Upgrade', 'Upgrade: SPDY/3.1',
      'X-Stream-Protocol-Version: v4.channel.k8s.io', 'X-Stream-Protocol-Version: channel.k8s.io', '', '',
    ].join('\r\n')]);
  });

  it('tears the streaming connection down when the tunnel stream is reset', async () => {
    await container('app', 0);
    const s = await serve({ request: exec, httpHead: spdyHead });
    await once(s.server, 'readable');
    expect(conns).toHaveLength(1);
    const gone = once(conns[0]!, 'close');
    s.agent.destroy();
    await gone;
    await s.result;
  });

  it('refuses with the kubelet messages before writing', async () => {
    const cases: [TunnelOpen, TunnelRequestError][] = [
      [{ request: exec, httpHead: spdyHead }, new ContainerNotRunningError('app')],
      [{ request: { kind: 'attach', ...pod, container: 'app', stdin: false, stdout: true, stderr: true, tty: false }, httpHead: spdyHead }, new ContainerNotRunningError('app')],
      [{ request: { kind: 'portforward', ...pod, uid: 'other', ports: [] }, httpHead: spdyHead }, new PodNotRunningError('web', 'default')],
    ];
    const exited = await container('app', 0);
    rt.exit(exited, 0);
    for (const [open, expected] of cases) {
      const s = await serve(open);
      await expect(s.result).rejects.toThrow(expected);
      await expect(s.result).rejects.toMatchObject({ code: expected.code });
      expect(s.server.readableLength).toBe(0);
    }
    expect(conns).toHaveLength(0);
  });

  it('refuses a missing or malformed head, and an unreachable streaming server', async () => {
    await container('app', 0);
    await expect((await serve({ request: exec })).result).rejects.toBeInstanceOf(UpgradeHeadError);
    await expect((await serve({ request: exec, httpHead: head(['GET /x HTTP/1.1', 'Connection: keep-alive']) })).result).rejects.toThrow('the request has no Upgrade header');
    await expect((await serve({ request: exec, httpHead: Buffer.from('GET /x HTTP/1.1\r\nUpgrade: x\r\n') })).result).rejects.toThrow('incomplete');
    await expect((await serve({ request: exec, httpHead: head(['DELETE /x HTTP/1.1', 'Upgrade: x']) })).result).rejects.toThrow('not an HTTP/1.1 GET or POST');
    rt.streamingBase = 'http://127.0.0.1:1';
    await expect((await serve({ request: exec, httpHead: spdyHead })).result).rejects.toBeInstanceOf(StreamingServerError);
  });
});

describe('errors', () => {
  it('have stable codes and the kubelet wording', () => {
    const table: [TunnelRequestError, string, string][] = [
      [new ContainerWaitingError('c', 'p', 'ContainerCreating'), 'TUNNEL_CONTAINER_WAITING', 'container "c" in pod "p" is waiting to start: ContainerCreating'],
      [new NoPreviousContainerError('c', 'p'), 'TUNNEL_NO_PREVIOUS_CONTAINER', 'previous terminated container "c" in pod "p" not found'],
      [new ContainerNotRunningError('c'), 'TUNNEL_CONTAINER_NOT_FOUND', 'container not found ("c")'],
      [new PodNotRunningError('p', 'ns'), 'TUNNEL_POD_NOT_FOUND', 'pod not found ("p_ns")'],
      [new UpgradeHeadError('m'), 'TUNNEL_BAD_UPGRADE_HEAD', 'm'],
      [new StreamingServerError('m'), 'TUNNEL_STREAMING_SERVER', 'm'],
    ];
    for (const [err, code, message] of table) {
      expect(err).toBeInstanceOf(TunnelRequestError);
      expect([err.code, err.message]).toEqual([code, message]);
    }
  });
});
