/**
 * WATCH as a chunked stream of JSON lines `{"type":…,"object":…}` (kubectl-wire.md §4).
 *  - resourceVersion unset or "0": synthetic ADDED events for the current objects first, then
 *    changes after that snapshot; N: every change after revision N (ERROR 410 Expired when N was
 *    compacted — informers re-list on it, `get -w` prints it).
 *  - Selectors filter events the apiserver way: an object that stops matching is sent as DELETED,
 *    one that starts matching as ADDED.
 *  - BOOKMARK events (only metadata.resourceVersion) when allowWatchBookmarks=true and the store
 *    reports progress.
 *  - Table watches (`get -w`) get each object as a one-row Table.
 *  - The stream ends after timeoutSeconds (default: a random 30–60 minutes, like apiserver's
 *    min-request-timeout), when the client goes away, or when the server closes.
 */
import { randomInt } from 'node:crypto';
import { CompactedError, StoreError } from '../../../store/errors.ts';
import type { WatchEvent, WatchMessage } from '../../../store/types.ts';
import type { KubeObject } from '../../kinds/types.ts';
import { groupVersion, listPrefix } from '../../registry/index.ts';
import type { ResourceInfo } from '../../registry/index.ts';
import type { ApiDeps, Call } from '../context.ts';
import { parseFilter } from '../filter.ts';
import type { ObjectFilter } from '../filter.ts';
import { objectView } from '../negotiate.ts';
import { decodeStored } from '../../storage/objects.ts';
import { queryBool, queryInt } from '../query-params.ts';
import { parseResourceVersion } from '../resource-version.ts';
import { ApiError, internalError } from '../../storage/status.ts';
import { expiredFor, translateStoreError } from '../../storage/store-errors.ts';
import { listedObject, servedParts } from '../../storage/stored-json.ts';
import type { ListedObject } from '../../storage/types.ts';
import { includeObjectParam, partialObjectMetadata, tableRow, tableSpecFor } from '../table/table.ts';
import { readPage } from './list.ts';

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

const LINE_END = Buffer.from('}\n', 'utf8');

/** timeoutSeconds when positive, else apiserver's default of 30–60 minutes. */
function timeoutMs(query: URLSearchParams): number {
  const t = queryInt(query, 'timeoutSeconds');
  if (t !== undefined && t > 0) return t * 1000;
  return (30 * 60 + randomInt(30 * 60)) * 1000;
}

interface Filtered extends ListedObject {
  readonly type: EventType;
}

/**
 * Map one store event through the selector: apiserver's cacheWatcher.convertToWatchEvent. Without
 * a selector every event passes as it is and nothing is decoded here.
 */
function filtered(r: ResourceInfo, filter: ObjectFilter, ev: WatchEvent): Filtered | undefined {
  const kv = ev.kv;
  if (filter.everything) return { type: ev.type, kv };
  const obj = decodeStored(r, kv);
  const now = filter.matches(obj);
  if (ev.type === 'ADDED') return now ? { type: 'ADDED', kv, obj } : undefined;
  if (ev.type === 'DELETED') return now ? { type: 'DELETED', kv, obj } : undefined;
  const before = ev.prevKv ? filter.matches(decodeStored(r, ev.prevKv)) : false;
  if (now && before) return { type: 'MODIFIED', kv, obj };
  if (now) return { type: 'ADDED', kv, obj };
  if (before) return { type: 'DELETED', kv, obj };
  return undefined;
}

export async function watchObjects(d: ApiDeps, c: Call): Promise<void> {
  const r = c.resource;
  const filter = parseFilter(r, c.query);
  const rv = parseResourceVersion(c.query.get('resourceVersion'));
  const bookmarks = queryBool(c.query, 'allowWatchBookmarks') ?? false;
  const sendInitial = queryBool(c.query, 'sendInitialEvents') ?? false;
  const timeout = timeoutMs(c.query);
  const view = objectView(c.req.headers.accept);
  const include = view === 'table' ? includeObjectParam(c.query) : 'Metadata';
  const spec = view === 'table' ? tableSpecFor(r) : undefined;
  const prefix = listPrefix(r, c.info.namespace);
  const res = c.res;
  let lastRevision = 0;
  let headersSentTable = false;

  const encode = (type: EventType, obj: unknown): string => JSON.stringify({ type, object: obj }) + '\n';
  // The line of one object event: in the plain view from the stored bytes (stored-json.ts), the
  // same bytes `encode` would give.
  const eventLine = (type: EventType, item: ListedObject): Buffer => {
    const served = view === 'object' ? servedParts(r, item.kv) : undefined;
    if (served) return Buffer.concat([Buffer.from(`{"type":"${type}","object":`, 'utf8'), ...served, LINE_END]);
    return Buffer.from(encode(type, present(listedObject(r, item))), 'utf8');
  };
  const present = (obj: KubeObject): unknown => {
    if (spec) {
      const table: Record<string, unknown> = {
        kind: 'Table',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { resourceVersion: String(obj.metadata?.resourceVersion ?? '') },
        columnDefinitions: headersSentTable ? [] : spec.columns,
        rows: [tableRow(spec, obj, include, d.now())],
      };
      headersSentTable = true;
      return table;
    }
    if (view === 'partial') return partialObjectMetadata(obj);
    return obj;
  };
  const bookmarkObject = (revision: number): unknown => ({
    kind: r.kind,
    apiVersion: groupVersion(r.group, r.version),
    metadata: { resourceVersion: String(revision) },
  });

  // Snapshot first when asked for the current state (rv unset/0), so its events precede live ones.
  const initial: (Buffer | string)[] = [];
  let from = rv ?? 0;
  if (rv === undefined || rv === 0 || sendInitial) {
    try {
      const page = await readPage(d, r, prefix, filter, 0, rv && rv > 0 ? rv : undefined, undefined);
      for (const item of page.items) initial.push(eventLine('ADDED', item));
      from = page.revision;
    } catch (e) {
      if (!(e instanceof CompactedError)) throw translateStoreError(e, r, '');
    }
    if (sendInitial) {
      initial.push(encode('BOOKMARK', { ...(bookmarkObject(from) as object), metadata: { resourceVersion: String(from), annotations: { 'k8s.io/initial-events-end': 'true' } } }));
    }
  }
  lastRevision = from;

  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (c.warnings.length > 0) res.setHeader('Warning', c.warnings.map((w) => `299 - ${JSON.stringify(w)}`));
  res.flushHeaders();
  for (const line of initial) res.write(line);

  await new Promise<void>((resolve) => {
    let done = false;
    let watch: { close(): void } | undefined;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      d.closing.removeEventListener('abort', finish);
      watch?.close();
      res.end();
      resolve();
    };
    const fail = (err: ApiError): void => {
      if (!done && !res.writableEnded) res.write(encode('ERROR', err.toStatus()));
      finish();
    };
    const timer = setTimeout(finish, timeout);
    d.closing.addEventListener('abort', finish);
    c.req.on('close', finish);
    res.on('close', finish);
    res.on('error', finish);

    const onMessage = (msg: WatchMessage): void => {
      if (done) return;
      if (msg.kind === 'error') {
        fail(msg.error instanceof CompactedError ? expiredFor(msg.error) : internalError(msg.error.message, msg.error));
        return;
      }
      if (msg.kind === 'progress') {
        lastRevision = Math.max(lastRevision, msg.revision);
        if (bookmarks) res.write(encode('BOOKMARK', bookmarkObject(lastRevision)));
        return;
      }
      const out: Buffer[] = [];
      for (const ev of msg.events) {
        lastRevision = Math.max(lastRevision, ev.kv.modRevision);
        const f = filtered(r, filter, ev);
        if (f) out.push(eventLine(f.type, f));
      }
      if (out.length > 0) res.write(out.length === 1 ? out[0] : Buffer.concat(out));
    };
    // A failure while encoding one event ends this watch with an ERROR event; it must never
    // escape into the store's watch fan-out.
    const guarded = (msg: WatchMessage): void => {
      try {
        onMessage(msg);
      } catch (e) {
        c.log.error({ err: e }, 'watch event failed');
        fail(internalError('the watch could not encode an event'));
      }
    };
    try {
      watch = d.store.watch(prefix, { fromRevision: from }, guarded);
    } catch (e) {
      const translated = translateStoreError(e, r, '');
      if (translated instanceof ApiError) fail(translated);
      else if (e instanceof StoreError) fail(internalError(e.message, e));
      else {
        c.log.error({ err: e }, 'watch failed to start');
        fail(internalError('the watch could not be started'));
      }
    }
  });
}
