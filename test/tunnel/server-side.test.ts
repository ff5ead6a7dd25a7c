// The API side of the tunnel without containerd: query decoding and container resolution with
// apiserver's messages, what crosses the tunnel (no credentials), authorization of the connect
// subresources through the real kubectl, and the answers when there is no tunnel or agent.
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeosError } from '../../src/common/errors.ts';
import type { NodeTunnel, TunnelHandler, TunnelOpen } from '../../src/common/tunnel.ts';
import type { Authorizer, RequestAttributes } from '../../src/server/auth/types.ts';
import { parseLogOptions } from '../../src/server/api/subresources/log-options.ts';
import { resolveContainer } from '../../src/server/api/subresources/pod-target.ts';
import type { PodTarget } from '../../src/server/api/subresources/pod-target.ts';
import { streamRequest } from '../../src/server/api/subresources/stream-options.ts';
import { tunnelApiError } from '../../src/server/api/subresources/tunnel-errors.ts';
import { upgradeHead } from '../../src/server/api/subresources/upgrade-head.ts';
import { ApiError } from '../../src/server/storage/status.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { allowAll } from '../helpers/in-process-api.ts';
import { createApiPod } from './pods.ts';
import { StreamPairTunnel } from './stream-pair-tunnel.ts';
import { startTunnelApi } from './tunnel-api.ts';
import type { TunnelApi } from './tunnel-api.ts';

const ref = { namespace: 'default', name: 'web', uid: 'u1' };
const target = (containers: string[], inits: string[] = []): PodTarget => ({
  ref, node: 'n1',
  pod: { spec: { containers: containers.map((name) => ({ name })), initContainers: inits.map((name) => ({ name })) } },
});
const q = (s: string): URLSearchParams => new URLSearchParams(s);
const apiErr = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
};

describe('container resolution (apiserver LogLocation / streamLocation)', () => {
  it('defaults to the only container, accepts init containers, refuses unknown names', () => {
    expect(resolveContainer(target(['app']), '')).toBe('app');
    expect(resolveContainer(target(['a', 'b'], ['init']), 'init')).toBe('init');
    expect(apiErr(() => resolveContainer(target(['a', 'b'], ['i1', 'i2']), '')).message)
      .toBe('a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [i1 i2]');
    expect(apiErr(() => resolveContainer(target([]), '')).message).toBe('a container name must be specified for pod web');
    expect(apiErr(() => resolveContainer(target(['a']), 'z'))).toMatchObject({ httpStatus: 400, message: 'container z is not valid for pod web' });
  });
});

describe('query decoding', () => {
  it('reads PodLogOptions and refuses what apiserver refuses', () => {
    expect(parseLogOptions(q('follow=true&timestamps=1&tailLines=5&limitBytes=100&sinceSeconds=60'), 'web'))
      .toEqual({ follow: true, previous: false, timestamps: true, tailLines: 5, limitBytes: 100, sinceSeconds: 60 });
    expect(parseLogOptions(q('previous=true&sinceTime=2024-05-06T07:08:09Z'), 'web'))
      .toEqual({ follow: false, previous: true, timestamps: false, sinceTime: '2024-05-06T07:08:09Z' });
    expect(apiErr(() => parseLogOptions(q('limitBytes=0&sinceSeconds=0'), 'web')).message)
      .toBe('PodLogOptions "web" is invalid: [limitBytes: Invalid value: 0: must be greater than 0, sinceSeconds: Invalid value: 0: must be greater than 0]');
    // apiserver's parameter codec reads any boolean spelling but absent, 0 and false as true (query-params.ts).
    expect(parseLogOptions(q('follow=maybe'), 'web').follow).toBe(true);
    expect(apiErr(() => parseLogOptions(q('sinceTime=yesterday'), 'web')).httpStatus).toBe(400);
  });

  it('reads exec/attach/portforward options; a TTY merges stderr into stdout', () => {
    expect(streamRequest('exec', ref, 'app', q('command=sh&command=-c&command=echo+hi&stdin=true&stdout=true&stderr=true&tty=true'))).toEqual({
      kind: 'exec', ...ref, container: 'app', command: ['sh', '-c', 'echo hi'], stdin: true, stdout: true, stderr: false, tty: true,
    });
    expect(streamRequest('attach', ref, 'app', q('stdout=1&stderr=1'))).toEqual({ kind: 'attach', ...ref, container: 'app', stdin: false, stdout: true, stderr: true, tty: false });
    expect(streamRequest('portforward', ref, '', q('ports=80,443&ports=8080'))).toEqual({ kind: 'portforward', ...ref, ports: [80, 443, 8080] });
    expect(apiErr(() => streamRequest('exec', ref, 'app', q('stdout=true'))).message).toBe('you must specify at least one command for the container');
    expect(apiErr(() => streamRequest('exec', ref, 'app', q('command=ls'))).message).toBe('you must specify at least 1 of stdin, stdout, stderr');
    expect(apiErr(() => streamRequest('portforward', ref, '', q('ports=70000'))).httpStatus).toBe(400);
  });

  it('forwards only the protocol headers of the upgrade request, duplicates kept', () => {
    const req = {
      method: 'POST', url: '/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true',
      rawHeaders: ['Host', 'x', 'Authorization', 'Bearer t0ken', 'Impersonate-User', 'bob', 'Connection', 'Upgrade', 'Upgrade', 'SPDY/3.1',
        'X-Stream-Protocol-Version', 'v4.channel.k8s.io', 'X-Stream-Protocol-Version', 'channel.k8s.io', 'User-Agent', 'kubectl/v1.32.0', 'Cookie', 'c=1'],
    } as unknown as IncomingMessage;
    expect(upgradeHead(req).toString('latin1')).toBe([
      'POST /api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true HTTP/1.1', 'Connection: Upgrade', 'Upgrade: SPDY/3.1',
      'X-Stream-Protocol-Version: v4.channel.k8s.io', 'X-Stream-Protocol-Version: channel.k8s.io', 'User-Agent: kubectl/v1.32.0', '', '',
    ].join('\r\n'));
  });

  it('maps tunnel failures to Status errors', () => {
    expect(tunnelApiError(new EdgeosError('TUNNEL_NO_AGENT', 'node "n" has no agent'))).toMatchObject({ httpStatus: 503, reason: 'ServiceUnavailable', message: 'node "n" has no agent' });
    expect(tunnelApiError(new EdgeosError('TUNNEL_FAILED', 'container "c" in pod "p" is waiting to start: ContainerCreating'))).toMatchObject({ httpStatus: 400, reason: 'BadRequest' });
    expect(tunnelApiError(new Error('boom'))).toMatchObject({ httpStatus: 500, reason: 'InternalError' });
  });
});

describe('the API without an agent', () => {
  let api: TunnelApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('answers 503 when the server has no tunnel, and 400 to a stream subresource without upgrade', async () => {
    api = await startTunnelApi(undefined);
    await createApiPod(api, 'web', 'n1', [{ name: 'web' }]);
    const logs = await kubectl(api, ['logs', 'web']);
    expect(logs).toMatchObject({ code: 1, stderr: 'Error from server (ServiceUnavailable): no tunnel to node n1: this server does not accept agent links\n' });
    const exec = await kubectl(api, ['exec', 'web', '--', 'true']);
    expect(exec.stderr).toBe('Error from server (ServiceUnavailable): no tunnel to node n1: this server does not accept agent links\n');
    expect(JSON.parse((await api.request('GET', '/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true')).body))
      .toMatchObject({ code: 400, message: 'Upgrade request required' });
    expect((await api.request('GET', '/api/v1/namespaces/default/pods/nope/exec?command=ls')).status).toBe(404);
  });

  it('cuts a log response off when the agent side goes away mid-stream, and kubectl returns', async () => {
    const handler: TunnelHandler = {
      async handle(_open, stream) {
        stream.write('partial line\n');
        await new Promise((r) => setTimeout(r, 200));
        stream.destroy();
      },
    };
    api = await startTunnelApi(new StreamPairTunnel({ n1: handler }));
    await createApiPod(api, 'web', 'n1', [{ name: 'web' }]);
    const r = await kubectl(api, ['logs', '-f', 'web'], { timeoutMs: 20_000 });
    // The chunked response ends without its last chunk: kubectl sees the truncation.
    expect(r).toEqual({ code: 1, stdout: 'partial line\n', stderr: 'error: unexpected EOF\n' });
  });

  it('authorizes pods/log as get and pods/exec, attach, portforward as create, before the tunnel', async () => {
    const seen: RequestAttributes[] = [];
    const opened: TunnelOpen[] = [];
    const authorizer: Authorizer = {
      rulesFor: allowAll.rulesFor,
      authorize: async (a) => {
        seen.push(a);
        return ['log', 'exec', 'attach', 'portforward'].includes(a.subresource) ? { allowed: false, reason: 'test policy' } : { allowed: true, reason: '' };
      },
    };
    const tunnel: NodeTunnel = { open: async (_node, o) => { opened.push(o); throw new EdgeosError('TUNNEL_NO_AGENT', 'unexpected'); } };
    api = await startTunnelApi(tunnel, { authorizer });
    await createApiPod(api, 'web', 'n1', [{ name: 'web' }]);
    const denied = (verb: string, sub: string): string =>
      `pods "web" is forbidden: User "test-admin" cannot ${verb} resource "pods/${sub}" in API group "" in the namespace "default": test policy`;
    expect((await kubectl(api, ['logs', 'web'])).stderr).toBe(`Error from server (Forbidden): ${denied('get', 'log')}\n`);
    expect((await kubectl(api, ['exec', 'web', '--', 'true'])).stderr).toContain(denied('create', 'exec'));
    expect((await kubectl(api, ['attach', 'web'])).stderr).toContain(denied('create', 'attach'));
    expect((await kubectl(api, ['port-forward', 'web', ':80'])).stderr).toContain(denied('create', 'portforward'));
    const connect = seen.filter((a) => ['log', 'exec', 'attach', 'portforward'].includes(a.subresource)).map((a) => `${a.verb} ${a.subresource}`);
    expect(new Set(connect)).toEqual(new Set(['get log', 'create exec', 'create attach', 'create portforward']));
    expect(opened).toEqual([]);
  });
});
