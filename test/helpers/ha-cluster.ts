/**
 * Several real `edgeos server` processes on one PostgreSQL (docs/ha.md), for the HA tests and
 * bench/ha: the first founds the cluster, the others join with its server token file; each on its
 * own loopback port and data dir. Streaming watches through a server's API, the Lease holder,
 * kill -9 by PID.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { readCredentials, startServer } from './start-server.ts';
import type { RunningServer, StartOptions } from './start-server.ts';

export interface HaServer extends RunningServer {
  /** <data-dir>/server/server-id */
  readonly id: string;
}

/** The first server of a cluster on `url` (no --token: it founds the cluster and writes one). */
export async function startHaServer(url: string, o: StartOptions & { tokenFile?: string } = {}): Promise<HaServer> {
  const s = await startServer({
    ...o,
    extraArgs: ['--datastore-endpoint', url, ...(o.tokenFile ? ['--token-file', o.tokenFile] : []), ...(o.extraArgs ?? [])],
  });
  return Object.assign(s, { id: readFileSync(join(s.dir, 'data', 'server', 'server-id'), 'utf8').trim() });
}

export const serverTokenFile = (s: RunningServer) => join(s.dir, 'data', 'server', 'server-token');
export const joinTokenOf = (s: RunningServer) => readFileSync(join(s.dir, 'data', 'server', 'token'), 'utf8').trim();

/** kill -9, and wait until the process is gone. */
export async function kill9(s: RunningServer): Promise<void> {
  try {
    process.kill(s.pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(s.pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}


export interface WatchEventLine {
  readonly type: string;
  readonly object: { metadata: { name?: string; resourceVersion?: string } } & Record<string, unknown>;
}

export interface ApiWatch {
  readonly events: WatchEventLine[];
  /** Resolves when the server ended the watch (or it failed). */
  readonly ended: Promise<void>;
  close(): void;
}

/** A watch through `s`'s API (`path` is a collection path), every event kept as it arrives. */
export function apiWatch(s: RunningServer, path: string, resourceVersion: string, onEvent: (e: WatchEventLine, at: number) => void = () => undefined): ApiWatch {
  const creds = readCredentials(s.kubeconfig);
  const events: WatchEventLine[] = [];
  let end!: () => void;
  const ended = new Promise<void>((r) => (end = r));
  const req = request(`${s.url}${path}?watch=true&resourceVersion=${resourceVersion}&allowWatchBookmarks=false`, { ca: creds.ca, cert: creds.cert, key: creds.key, agent: false }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const at = performance.now();
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const e = JSON.parse(line) as WatchEventLine;
        events.push(e);
        onEvent(e, at);
      }
    });
    res.on('end', end);
    res.on('error', end);
  });
  req.on('error', end);
  req.end();
  return { events, ended, close: () => req.destroy() };
}

/** The holder of the controllers' Lease, read through `s`. */
export async function leaseHolder(s: RunningServer): Promise<string | undefined> {
  const r = await s.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/edgeos-controllers');
  if (r.status !== 200) return undefined;
  return (JSON.parse(r.body) as { spec?: { holderIdentity?: string } }).spec?.holderIdentity || undefined;
}

export const configMap = (name: string, namespace = 'default') => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { k: name } });

/** POST a ConfigMap; its resourceVersion when the server acknowledged it (201), else undefined. */
export async function createConfigMap(s: RunningServer, name: string, namespace = 'default'): Promise<string | undefined> {
  const r = await s.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, { body: configMap(name, namespace), headers: { 'content-type': 'application/json' } }).catch(() => undefined);
  if (r?.status !== 201) return undefined;
  return (JSON.parse(r.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}
