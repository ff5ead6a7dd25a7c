// The controllers' API client: HTTPS to the server's own listener (or an in-process connection to its
// handler: ClientOptions.connect) with the in-memory loopback
// bearer token, trusting only the cluster CA (kube-controller-manager's loopback client config).
// Requests share one undici Pool; watches use a second, unbounded one, because each open watch
// holds its HTTP/1.1 connection for minutes.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { ApiError } from '../types.ts';
import type { ApiResource, DeleteOptions, KubeClient, KubeObject, ListOptions, ObjectList, PatchOptions, PatchType, ResourceRef, WatchEvent, WatchOptions, WriteOptions } from '../types.ts';
import { errorFromStatus } from './api-errors.ts';
import { resourcePath, withQuery } from './paths.ts';
import { watchLines } from './watch-stream.ts';

export interface ClientOptions {
  /** e.g. https://127.0.0.1:6443 */
  readonly url: string;
  readonly caPem: string;
  /** Bearer token (the loopback credential) … */
  readonly token?: string;
  /** … or a client certificate (tests and tools use the admin kubeconfig's). */
  readonly certPem?: string;
  readonly keyPem?: string;
  /** Concurrent request connections (default 16). */
  readonly connections?: number;
  readonly userAgent?: string;
  /**
   * Connections to the API inside the server's own process (in-process-api.ts) instead of HTTPS
   * to `url`: the controllers' requests and watches then cost no TLS and no TCP. Requests are the
   * same HTTP/1.1 with the same credential, so the API serves them exactly as over HTTPS.
   */
  readonly connect?: () => Duplex;
}

export interface ClosableKubeClient extends KubeClient {
  close(): Promise<void>;
}

const PATCH_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

interface AggregatedList {
  items?: {
    metadata?: { name?: string };
    versions?: { version: string; resources?: { resource: string; responseKind?: { kind?: string }; scope?: string; verbs?: string[] }[] }[];
  }[];
}

function parseAggregated(list: AggregatedList): ApiResource[] {
  const out: ApiResource[] = [];
  for (const g of list.items ?? []) {
    const preferred = g.versions?.[0];
    if (!preferred) continue;
    for (const r of preferred.resources ?? []) {
      out.push({ group: g.metadata?.name ?? '', version: preferred.version, resource: r.resource, kind: r.responseKind?.kind ?? '', namespaced: r.scope === 'Namespaced', verbs: r.verbs ?? [] });
    }
  }
  return out;
}

/** Page size of lists (kubectl and client-go's pager use 500). */
const PAGE = 500;

export function createKubeClient(o: ClientOptions): ClosableKubeClient {
  const inProcess = o.connect;
  const connect: Pool.Options['connect'] = inProcess
    ? // undici takes any stream it can read and write; the callback is called asynchronously, as its own connector does.
      (_opts, done) => {
        const socket = inProcess() as unknown as Socket;
        setImmediate(() => done(null, socket));
      }
    : { ca: o.caPem, ...(o.certPem && o.keyPem ? { cert: o.certPem, key: o.keyPem } : {}) };
  const origin = inProcess ? 'http://in-process' : o.url;
  const requests = new Pool(origin, { connections: o.connections ?? 16, connect, keepAliveTimeout: 30_000 });
  const watches = new Pool(origin, { connect, keepAliveTimeout: 30_000, bodyTimeout: 0, headersTimeout: 60_000 });
  const headers: Record<string, string> = { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), 'user-agent': o.userAgent ?? 'edgeos-controller-manager', accept: 'application/json' };

  async function call(method: Dispatcher.HttpMethod, path: string, what: string, body?: unknown, contentType = 'application/json', signal?: AbortSignal): Promise<unknown> {
    let res: Dispatcher.ResponseData;
    try {
      res = await requests.request({
        method,
        path,
        headers: body === undefined ? headers : { ...headers, 'content-type': contentType },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      throw new ApiError(0, 'ConnectionFailed', `${what}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.body.text();
    if (res.statusCode >= 300) throw errorFromStatus(res.statusCode, text, what);
    return text ? JSON.parse(text) : undefined;
  }

  const nameOf = (obj: KubeObject): string => obj.metadata.name ?? '';
  const forObject = (ref: ResourceRef, obj: KubeObject): ResourceRef =>
    ref.namespace || !obj.metadata.namespace ? ref : { ...ref, namespace: obj.metadata.namespace };
  const label = (ref: ResourceRef, verb: string, name?: string) =>
    `${verb} ${ref.resource}${ref.group ? `.${ref.group}` : ''}${name !== undefined ? ` ${ref.namespace ? `${ref.namespace}/` : ''}${name}` : ''}`;

  return {
    async get<T extends KubeObject>(ref: ResourceRef, name: string, opts: { signal?: AbortSignal; subresource?: string } = {}) {
      return (await call('GET', resourcePath(ref, name, opts.subresource), label(ref, opts.subresource ? `get ${opts.subresource} of` : 'get', name), undefined, undefined, opts.signal)) as T;
    },
    async list<T extends KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
      const items: T[] = [];
      let cont: string | undefined;
      let rv = '';
      do {
        const page = (await call(
          'GET',
          withQuery(resourcePath(ref), {
            labelSelector: opts.labelSelector,
            fieldSelector: opts.fieldSelector,
            limit: PAGE,
            continue: cont,
            resourceVersion: cont ? undefined : opts.resourceVersion,
          }),
          label(ref, 'list'),
          undefined,
          undefined,
          opts.signal,
        )) as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
        for (const item of page.items ?? []) items.push(item);
        rv = page.metadata?.resourceVersion ?? rv;
        cont = page.metadata?.continue || undefined;
      } while (cont);
      return { items, resourceVersion: rv };
    },
    watch<T extends KubeObject>(ref: ResourceRef, opts: WatchOptions): AsyncIterable<WatchEvent<T>> {
      const path = withQuery(resourcePath(ref), {
        watch: true,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resourceVersion: opts.resourceVersion,
        timeoutSeconds: opts.timeoutSeconds,
        allowWatchBookmarks: opts.allowWatchBookmarks,
      });
      return watchLines<T>(watches, path, headers, opts.signal, label(ref, 'watch'));
    },
    async create<T extends KubeObject>(ref: ResourceRef, obj: T, opts: WriteOptions = {}) {
      const r = forObject(ref, obj);
      return (await call('POST', withQuery(resourcePath(r), { fieldManager: opts.fieldManager }), label(r, 'create', nameOf(obj) || obj.metadata.generateName), obj, undefined, opts.signal)) as T;
    },
    async update<T extends KubeObject>(ref: ResourceRef, obj: T, opts: WriteOptions = {}) {
      const r = forObject(ref, obj);
      return (await call('PUT', withQuery(resourcePath(r, nameOf(obj)), { fieldManager: opts.fieldManager }), label(r, 'update', nameOf(obj)), obj, undefined, opts.signal)) as T;
    },
    async updateStatus<T extends KubeObject>(ref: ResourceRef, obj: T, opts: WriteOptions = {}) {
      const r = forObject(ref, obj);
      return (await call('PUT', withQuery(resourcePath(r, nameOf(obj), 'status'), { fieldManager: opts.fieldManager }), label(r, 'update status of', nameOf(obj)), obj, undefined, opts.signal)) as T;
    },
    async patch<T extends KubeObject>(ref: ResourceRef, name: string, type: PatchType, patch: unknown, opts: PatchOptions = {}) {
      const query = { fieldManager: opts.fieldManager, ...(opts.force ? { force: true } : {}) };
      return (await call('PATCH', withQuery(resourcePath(ref, name, opts.subresource), query), label(ref, type === 'apply' ? 'apply' : 'patch', name), patch, PATCH_TYPES[type], opts.signal)) as T;
    },
    async delete(ref: ResourceRef, name: string, opts: DeleteOptions = {}) {
      const body = {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {}),
        ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
        ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
      };
      const res = (await call('DELETE', resourcePath(ref, name), label(ref, 'delete', name), body, undefined, opts.signal)) as KubeObject | undefined;
      // A Status answer means the object is gone; an object answer means it stays (graceful/finalizers).
      return res && res.kind !== 'Status' ? res : undefined;
    },
    async createSubresource<T extends KubeObject>(ref: ResourceRef, name: string, subresource: string, body: KubeObject, opts: WriteOptions = {}) {
      return (await call('POST', withQuery(resourcePath(ref, name, subresource), { fieldManager: opts.fieldManager }), label(ref, `create ${subresource} of`, name), body, undefined, opts.signal)) as T;
    },
    async replaceSubresource<T extends KubeObject>(ref: ResourceRef, obj: T, subresource: string, opts: WriteOptions = {}) {
      const r = forObject(ref, obj);
      return (await call('PUT', withQuery(resourcePath(r, nameOf(obj), subresource), { fieldManager: opts.fieldManager }), label(r, `update ${subresource} of`, nameOf(obj)), obj, undefined, opts.signal)) as T;
    },
    async discover(opts: { signal?: AbortSignal } = {}) {
      const out: ApiResource[] = [];
      for (const path of ['/api', '/apis']) {
        const res = await requests.request({ method: 'GET', path, headers: { ...headers, accept: AGGREGATED }, ...(opts.signal ? { signal: opts.signal } : {}) });
        const text = await res.body.text();
        if (res.statusCode >= 300) throw errorFromStatus(res.statusCode, text, `discovery ${path}`);
        out.push(...parseAggregated(JSON.parse(text) as AggregatedList));
      }
      return out;
    },
    async close() {
      await Promise.all([requests.destroy(), watches.destroy()]);
    },
  };
}
