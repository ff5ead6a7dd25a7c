/**
 * The agent's TunnelHandler: serves one tunnel stream the way the kubelet serves /containerLogs,
 * /exec, /attach and /portForward. Pods and containers are looked up in the runtime (the kubelet
 * asks its runtime cache too); refusals use the kubelet's messages and are thrown before anything
 * is written, so the server can answer kubectl with them.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/log.ts';
import type { NodeHttpHead, NodeHttpRequest, PodRef, TunnelHandler, TunnelOpen, TunnelRequest } from '../../common/tunnel.ts';
import type { Container, ContainerRuntime } from '../../runtime/index.ts';
import { ContainerNotRunningError, PodNotRunningError } from './errors.ts';
import { containerInstances, podSandboxes } from './find-pod.ts';
import { proxyToStreamingServer } from './proxy-stream.ts';
import { serveLogs } from './serve-logs.ts';
import { serveNodeHttp } from '../node-http/index.ts';
import type { NodeHttpDeps } from '../node-http/index.ts';

export interface TunnelHandlerDeps {
  readonly runtime: ContainerRuntime;
  readonly log: Logger;
  /** The node's own endpoints (node proxy); without them node-http streams are refused. */
  readonly nodeHttp?: NodeHttpDeps;
}

/** Writes a node-http answer: its head as one JSON line, then the body; ends the stream. */
async function writeNodeHttp(deps: TunnelHandlerDeps, req: NodeHttpRequest, stream: Duplex): Promise<void> {
  if (!deps.nodeHttp) throw new Error('this agent does not serve node endpoints');
  const { status, contentType, body } = await serveNodeHttp(deps.nodeHttp, req);
  const head: NodeHttpHead = { status, contentType };
  await new Promise<void>((resolve, reject) => {
    stream.write(`${JSON.stringify(head)}\n`);
    stream.end(body, () => resolve());
    stream.once('error', reject);
  });
}

async function runningContainer(runtime: ContainerRuntime, pod: PodRef, name: string): Promise<Container> {
  const running = (await containerInstances(runtime, pod, name)).find((c) => c.state === 'running');
  if (!running) throw new ContainerNotRunningError(name);
  return running;
}

/** The CRI streaming URL for an exec, attach or port-forward request. */
async function streamingUrl(runtime: ContainerRuntime, req: Exclude<TunnelRequest, { kind: 'logs' | 'node-http' }>): Promise<string> {
  switch (req.kind) {
    case 'exec': {
      const c = await runningContainer(runtime, req, req.container);
      return runtime.exec({ containerId: c.id, cmd: [...req.command], tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr });
    }
    case 'attach': {
      const c = await runningContainer(runtime, req, req.container);
      return runtime.attach({ containerId: c.id, tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr });
    }
    case 'portforward': {
      const sandbox = (await podSandboxes(runtime, req)).find((s) => s.state === 'ready');
      if (!sandbox) throw new PodNotRunningError(req.name, req.namespace);
      return runtime.portForward(sandbox.id, [...req.ports]);
    }
  }
}

export function createTunnelHandler(deps: TunnelHandlerDeps): TunnelHandler {
  const log = deps.log.child({ component: 'tunnel' });
  return {
    async handle(open: TunnelOpen, stream: Duplex): Promise<void> {
      const req = open.request;
      const what = req.kind === 'node-http' ? { kind: req.kind, path: req.path } : { kind: req.kind, pod: `${req.namespace}/${req.name}` };
      log.debug(what, 'tunnel stream opened');
      try {
        if (req.kind === 'logs') await serveLogs(deps.runtime, req, stream, log);
        else if (req.kind === 'node-http') await writeNodeHttp(deps, req, stream);
        else await proxyToStreamingServer(await streamingUrl(deps.runtime, req), open.httpHead, stream);
      } catch (err) {
        log.debug({ ...what, err }, 'tunnel stream failed');
        throw err;
      }
      log.debug(what, 'tunnel stream closed');
    },
  };
}
