/**
 * A minimal HTTP API for driving the real kubectl against our OpenAPI documents in isolation:
 * /version, legacy discovery (APIVersions, APIGroupList, APIResourceList — kubectl accepts these,
 * kubectl-wire.md §1), /openapi/v3 from an OpenApiDocs, and a tiny in-memory object store for
 * GET/POST/PATCH so client-side apply can be observed. Requests are recorded for assertions.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenApiDocs } from '../../../src/server/openapi/index.ts';
import { publishedGroupVersions } from '../../../src/server/openapi/index.ts';
import type { KubectlTarget } from '../../helpers/kubectl.ts';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly contentType: string;
  readonly body: string;
}

export interface FakeCluster extends KubectlTarget {
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

interface Gv {
  group: string;
  version: string;
  resources: readonly { resource: string; kind: string; namespaced: boolean }[];
}

export async function startFakeCluster(docs: OpenApiDocs, extra: readonly Gv[] = []): Promise<FakeCluster> {
  const groupVersions: Gv[] = [...publishedGroupVersions(), ...extra];
  const objects = new Map<string, Record<string, unknown>>();
  const requests: RecordedRequest[] = [];
  const resourceList = (group: string, version: string) => {
    const gv = groupVersions.find((g) => g.group === group && g.version === version);
    return gv && {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: gv.resources.map((r) => ({ name: r.resource, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] })),
    };
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const p = url.pathname;
      requests.push({ method: req.method ?? '', path: p, query: url.searchParams, contentType: req.headers['content-type'] ?? '', body });
      const send = (code: number, value: object | undefined) => {
        if (!value) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', message: 'not found', code: 404 }));
          return;
        }
        res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      };
      if (p === '/version') return send(200, { major: '1', minor: '32', gitVersion: 'v1.32.0' });
      if (p === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
      if (p === '/apis')
        return send(200, {
          kind: 'APIGroupList',
          apiVersion: 'v1',
          groups: groupVersions
            .filter((g) => g.group !== '')
            .map((g) => ({ name: g.group, versions: [{ groupVersion: `${g.group}/${g.version}`, version: g.version }], preferredVersion: { groupVersion: `${g.group}/${g.version}`, version: g.version } })),
        });
      if (p === '/api/v1') return send(200, resourceList('', 'v1'));
      const parts = p.split('/');
      if (parts[1] === 'apis' && parts.length === 4) return send(200, resourceList(parts[2] ?? '', parts[3] ?? ''));
      if (p === '/openapi/v3') return send(200, docs.root());
      if (p.startsWith('/openapi/v3/')) return send(200, docs.groupVersion(p));
      // Objects: store by path; a POST stores under <collection>/<metadata.name>.
      if (req.method === 'GET') return send(200, objects.get(p));
      if (req.method === 'POST') {
        const obj = JSON.parse(body) as Record<string, unknown> & { metadata: Record<string, unknown> };
        obj.metadata = { ...obj.metadata, uid: 'uid-1', resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' };
        objects.set(`${p}/${String(obj.metadata.name)}`, obj);
        return send(201, obj);
      }
      if (req.method === 'PATCH') return send(200, objects.get(p));
      return send(404, undefined);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'edgeos-fake-cluster-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: ${url}\ncontexts:\n- name: t\n  context:\n    cluster: t\n    namespace: default\ncurrent-context: t\n`);
  return {
    kubeconfig,
    cacheDir: join(dir, 'cache'),
    requests,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
