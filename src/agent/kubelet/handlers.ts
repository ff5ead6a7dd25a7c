import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Container, ExecAction, HTTPGetAction, TCPSocketAction } from 'kubernetes-types/core/v1';
import { errorMessage } from '../../common/errors.ts';
import type { ContainerRuntime } from '../../runtime/types.ts';

/** What a probe or lifecycle hook does: exactly one of exec, httpGet, tcpSocket (sleep for hooks). */
export interface Action {
  exec?: ExecAction;
  httpGet?: HTTPGetAction;
  tcpSocket?: TCPSocketAction;
  sleep?: { seconds: number };
}

export interface ActionResult {
  ok: boolean;
  /** Why it failed (kubelet's probe output / hook error), or the output on success. */
  message: string;
}

export interface ActionTarget {
  runtime: ContainerRuntime;
  containerId: string;
  container: Container;
  podIP: string;
  timeoutSeconds: number;
  signal?: AbortSignal;
}

/** A named port (ports[].name) or a number, as probes and hooks allow. */
export function resolvePort(port: number | string, c: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = (c.ports ?? []).find((x) => x.name === port);
  if (!p) throw new Error(`couldn't find port "${port}" in container "${c.name}"`);
  return p.containerPort;
}

/** Runs one action against the container (kubelet's prober and handlerRunner). */
export async function runAction(a: Action, t: ActionTarget): Promise<ActionResult> {
  try {
    if (a.exec) return await execAction(a.exec, t);
    if (a.httpGet) return await httpGetAction(a.httpGet, t);
    if (a.tcpSocket) return await tcpAction(a.tcpSocket, t);
    if (a.sleep) {
      await new Promise((r) => setTimeout(r, a.sleep!.seconds * 1000));
      return { ok: true, message: '' };
    }
    return { ok: false, message: 'handler has no exec, httpGet, tcpSocket or sleep action' };
  } catch (err) {
    return { ok: false, message: errorMessage(err) };
  }
}

async function execAction(a: ExecAction, t: ActionTarget): Promise<ActionResult> {
  const r = await t.runtime.execSync(t.containerId, a.command ?? [], t.timeoutSeconds);
  const out = Buffer.concat([r.stdout, r.stderr]).toString();
  if (r.exitCode === 0) return { ok: true, message: out };
  return { ok: false, message: `command ${JSON.stringify(a.command ?? [])} exited with ${r.exitCode}: ${out}`.trim() };
}

function httpGetAction(a: HTTPGetAction, t: ActionTarget): Promise<ActionResult> {
  const port = resolvePort(a.port, t.container);
  const host = a.host || t.podIP || '127.0.0.1';
  const https = a.scheme === 'HTTPS';
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
  for (const h of a.httpHeaders ?? []) headers[h.name] = h.value;
  const path = a.path ? (a.path.startsWith('/') ? a.path : `/${a.path}`) : '/';
  return new Promise((resolve) => {
    const opts = { host, port, path, method: 'GET', headers, timeout: t.timeoutSeconds * 1000, rejectUnauthorized: false, signal: t.signal };
    const req = (https ? httpsRequest : httpRequest)(opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < 10_240) body += d; });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        // kubelet: 200 ≤ code < 400 is success.
        resolve(code >= 200 && code < 400 ? { ok: true, message: body } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
      });
      res.on('error', (err) => resolve({ ok: false, message: errorMessage(err) }));
    });
    req.on('timeout', () => req.destroy(new Error(`Get "${https ? 'https' : 'http'}://${host}:${port}${path}": context deadline exceeded`)));
    req.on('error', (err) => resolve({ ok: false, message: errorMessage(err) }));
    req.end();
  });
}

function tcpAction(a: TCPSocketAction, t: ActionTarget): Promise<ActionResult> {
  const port = resolvePort(a.port, t.container);
  const host = a.host || t.podIP || '127.0.0.1';
  return new Promise((resolve) => {
    const sock = connect({ host, port, timeout: t.timeoutSeconds * 1000 });
    sock.once('connect', () => {
      sock.destroy();
      resolve({ ok: true, message: '' });
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    sock.once('error', (err) => resolve({ ok: false, message: `dial tcp ${host}:${port}: ${errorMessage(err)}` }));
  });
}
