/** Watch semantics over HTTPS with the real SQLite store. */
import { request } from 'node:https';
import type { ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/kubectl.ts';
import { startInProcessApi, TEST_TOKEN } from '../../helpers/in-process-api.ts';
import type { InProcessApi } from '../../helpers/in-process-api.ts';

let s: InProcessApi;
beforeAll(async () => {
  s = await startInProcessApi();
  await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w' } });
});
afterAll(async () => {
  await s?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function post(path: string, body: unknown): Promise<Json> {
  const res = await s.request('POST', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return JSON.parse(res.body) as Json;
}

async function patch(path: string, body: unknown): Promise<Json> {
  const res = await s.request('PATCH', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/merge-patch+json' } });
  return JSON.parse(res.body) as Json;
}

interface Stream {
  events: Json[];
  ended: boolean;
  status: number;
  req: ClientRequest;
}

function watch(path: string, accept = 'application/json'): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const st: Stream = { events: [], ended: false, status: 0, req: undefined as unknown as ClientRequest };
    st.req = request(`${s.url}${path}`, { ca: s.caPem, headers: { authorization: `Bearer ${TEST_TOKEN}`, accept } }, (res) => {
      st.status = res.statusCode ?? 0;
      let buf = '';
      res.on('data', (b: Buffer) => {
        buf += b.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          st.events.push(JSON.parse(buf.slice(0, nl)) as Json);
          buf = buf.slice(nl + 1);
        }
      });
      res.on('end', () => (st.ended = true));
      res.on('error', () => (st.ended = true));
      resolve(st);
    });
    st.req.on('error', reject);
    st.req.end();
  });
}

const cm = (name: string, labels: Json = {}): Json => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: {} });

describe('watch', () => {
  it('sends synthetic ADDED events for resourceVersion 0, then live changes', async () => {
    await post('/api/v1/namespaces/w/configmaps', cm('pre'));
    const st = await watch('/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=0');
    try {
      await eventually(() => st.events.length >= 1, 10_000, 'initial event');
      expect(st.events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'pre' } } });
      await post('/api/v1/namespaces/w/configmaps', cm('live'));
      await patch('/api/v1/namespaces/w/configmaps/live', { data: { a: 'b' } });
      await s.request('DELETE', '/api/v1/namespaces/w/configmaps/live');
      await eventually(() => st.events.length >= 4, 10_000, 'live events');
      expect(st.events.slice(1).map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED live', 'MODIFIED live', 'DELETED live']);
      const del = st.events[3];
      expect(Number(del?.object.metadata.resourceVersion)).toBeGreaterThan(Number(st.events[2]?.object.metadata.resourceVersion));
    } finally {
      st.req.destroy();
    }
  });

  it('starts after an exact resourceVersion without replaying older state', async () => {
    const list = JSON.parse((await s.request('GET', '/api/v1/namespaces/w/configmaps')).body) as Json;
    const st = await watch(`/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
    try {
      await post('/api/v1/namespaces/w/configmaps', cm('after'));
      await eventually(() => st.events.length >= 1, 10_000, 'event after rv');
      expect(st.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED after']);
    } finally {
      st.req.destroy();
    }
  });

  it('turns selector transitions into ADDED/DELETED', async () => {
    const st = await watch('/api/v1/namespaces/w/configmaps?watch=true&labelSelector=app%3Dweb');
    try {
      await post('/api/v1/namespaces/w/configmaps', cm('sel', { app: 'other' }));
      await patch('/api/v1/namespaces/w/configmaps/sel', { metadata: { labels: { app: 'web' } } });
      await patch('/api/v1/namespaces/w/configmaps/sel', { data: { x: '1' } });
      await patch('/api/v1/namespaces/w/configmaps/sel', { metadata: { labels: { app: 'gone' } } });
      await eventually(() => st.events.length >= 3, 10_000, 'selector events');
      expect(st.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
      expect(st.events[2]?.object.metadata.labels.app).toBe('gone');
    } finally {
      st.req.destroy();
    }
  });

  it('sends one-row Tables to Table watches', async () => {
    const st = await watch('/api/v1/namespaces/w/configmaps?watch=true&fieldSelector=metadata.name%3Dtbl', 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
    try {
      await post('/api/v1/namespaces/w/configmaps', cm('tbl'));
      await eventually(() => st.events.length >= 1, 10_000, 'table event');
      const t = st.events[0]?.object;
      expect(t.kind).toBe('Table');
      expect(t.rows).toHaveLength(1);
      expect(t.rows[0].cells[0]).toBe('tbl');
      expect(t.rows[0].object.kind).toBe('PartialObjectMetadata');
    } finally {
      st.req.destroy();
    }
  });

  it('ends with an ERROR 410 Expired event for a compacted resourceVersion', async () => {
    await post('/api/v1/namespaces/w/configmaps', cm('c1'));
    await patch('/api/v1/namespaces/w/configmaps/c1', { data: { v: '2' } });
    const rev = await s.store.currentRevision();
    await s.store.compact(rev - 1);
    const st = await watch('/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=1');
    await eventually(() => st.ended, 10_000, 'the stream to end');
    expect(st.status).toBe(200);
    expect(st.events).toHaveLength(1);
    expect(st.events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(st.events[0]?.object.message).toMatch(/^too old resource version: 1 \(\d+\)$/);
  });

  it('sends BOOKMARKs when asked and ends at timeoutSeconds', async () => {
    const st = await watch('/api/v1/namespaces/w/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=3&resourceVersion=0');
    await eventually(() => st.ended, 15_000, 'the timeout');
    const bookmark = st.events.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(Number(bookmark?.object.metadata.resourceVersion)).toBeGreaterThan(0);
  });
});
