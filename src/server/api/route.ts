/**
 * Which handler serves a resource request: verb × subresource, as the resource's discovery entry
 * allows. Computed resources name their source, and subresources their handler, in the kind's
 * descriptor (src/server/kinds).
 */
import { present } from '../kinds/types.ts';
import type { ComputedSource } from '../kinds/types.ts';
import type { ApiDeps, Call } from './context.ts';
import { methodNotAllowed, pathNotFound } from '../storage/status.ts';
import { createBinding } from './subresources/binding.ts';
import { createEviction } from './subresources/eviction.ts';
import { serveMetrics } from './subresources/metrics.ts';
import { createReview } from './subresources/reviews.ts';
import { serveNodeProxy } from './subresources/node-proxy.ts';
import { servePodLog } from './subresources/pod-log.ts';
import { upgradeRequired } from './subresources/pod-stream.ts';
import { getScale, writeScale } from './subresources/scale.ts';
import { createTokenRequest } from './subresources/token-request.ts';
import { createObject } from './verbs/create.ts';
import { deleteCollection } from './verbs/delete-collection.ts';
import { deleteObject } from './verbs/delete.ts';
import { getObject } from './verbs/get.ts';
import { listObjects } from './verbs/list.ts';
import { patchObject } from './verbs/patch.ts';
import { replaceObject } from './verbs/update.ts';
import { watchObjects } from './verbs/watch.ts';
import { mustRead } from '../storage/read.ts';
import { respondObject } from './present.ts';

const COMPUTED: Readonly<Record<ComputedSource, (d: ApiDeps, c: Call) => Promise<void>>> = {
  'pod-metrics': (d, c) => serveMetrics(d, c, 'pods'),
  'node-metrics': (d, c) => serveMetrics(d, c, 'nodes'),
  'self-subject-review': (d, c) => createReview(d, c, 'self-subject-review'),
  'self-subject-access-review': (d, c) => createReview(d, c, 'self-subject-access-review'),
  'subject-access-review': (d, c) => createReview(d, c, 'subject-access-review'),
  'local-subject-access-review': (d, c) => createReview(d, c, 'local-subject-access-review'),
  'self-subject-rules-review': (d, c) => createReview(d, c, 'self-subject-rules-review'),
  'token-review': (d, c) => createReview(d, c, 'token-review'),
};

export async function route(d: ApiDeps, c: Call): Promise<void> {
  const { verb, subresource } = c.info;
  const r = c.resource;
  if (subresource === '') {
    if (!r.verbs.includes(verb)) throw methodNotAllowed();
    const computed = r.builtin && present(r.builtin.computed);
    if (computed) return COMPUTED[computed](d, c);
    switch (verb) {
      case 'get': return getObject(d, c);
      case 'list': return listObjects(d, c);
      case 'watch': return watchObjects(d, c);
      case 'create': return createObject(d, c);
      case 'update': return replaceObject(d, c, '');
      case 'patch': return patchObject(d, c, '');
      case 'delete': return deleteObject(d, c);
      case 'deletecollection': return deleteCollection(d, c);
      default: throw methodNotAllowed();
    }
  }
  const base = subresource.split('/')[0] ?? '';
  const sub = r.subresources.find((s) => s.name === base);
  if (!sub || c.info.name === '') throw pathNotFound();
  // Streams from a node answer plain requests themselves (log), or refuse them (upgrades only).
  if (sub.handler === 'log') return servePodLog(d, c);
  if (sub.handler === 'stream') throw await upgradeRequired(d, r, c.info);
  if (sub.handler === 'proxy') return serveNodeProxy(d, c);
  if (!sub.verbs.includes(verb)) throw methodNotAllowed();
  switch (sub.handler) {
    case 'status':
      if (verb === 'get') return respondObject(d, c, 200, (await mustRead(d.store, r, c.info.namespace, c.info.name)).obj);
      if (verb === 'update') return replaceObject(d, c, 'status');
      return patchObject(d, c, 'status');
    case 'finalize':
      return replaceObject(d, c, '');
    case 'ephemeralcontainers':
      if (verb === 'get') return respondObject(d, c, 200, (await mustRead(d.store, r, c.info.namespace, c.info.name)).obj);
      if (verb === 'update') return replaceObject(d, c, 'ephemeralcontainers');
      return patchObject(d, c, 'ephemeralcontainers');
    case 'scale':
      if (verb === 'get') return getScale(d, c);
      return writeScale(d, c, verb === 'update' ? 'update' : 'patch');
    case 'binding':
      return createBinding(d, c);
    case 'eviction':
      return createEviction(d, c);
    case 'token':
      return createTokenRequest(d, c);
  }
}
