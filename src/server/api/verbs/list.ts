/**
 * LIST with apiserver's semantics: label/field selectors, `limit` + `continue` pages read at the
 * revision of the first page, and resourceVersion/resourceVersionMatch:
 *   ""            → the latest state (consistent read);
 *   "0"           → any state (we serve the latest);
 *   N, no limit   → not older than N (the latest, 504 if N is in the future);
 *   N with limit, or resourceVersionMatch=Exact → exactly at N (410 when compacted).
 * The list's metadata.resourceVersion is the revision it was read at, which `get -w` watches from.
 * Plain lists are assembled from the stored bytes of their items (stored-json.ts).
 */
import { listPrefix } from '../../registry/index.ts';
import type { ResourceInfo } from '../../registry/index.ts';
import type { ApiDeps, Call } from '../context.ts';
import { CONTINUE_EXPIRED_MESSAGE, decodeContinue, encodeContinue } from '../continue-token.ts';
import { parseFilter } from '../filter.ts';
import type { ObjectFilter } from '../filter.ts';
import { decodeStored } from '../../storage/objects.ts';
import { presentList } from '../present.ts';
import { objectView } from '../negotiate.ts';
import { writeJson, writeJsonBytes } from '../respond.ts';
import { listedObject, servedListJson } from '../../storage/stored-json.ts';
import type { ListedObject } from '../../storage/types.ts';
import { queryInt } from '../query-params.ts';
import { parseResourceVersion } from '../resource-version.ts';
import { ApiError, badRequest, expired } from '../../storage/status.ts';
import { translateStoreError } from '../../storage/store-errors.ts';
import { CompactedError } from '../../../store/errors.ts';
import type { ListMetaOut } from '../../storage/types.ts';

export interface ListPage {
  readonly items: ListedObject[];
  readonly revision: number;
  /** Key (relative to the prefix) after which the next page starts, when there is one. */
  readonly continueAfter?: string;
}

/** Read matching objects under `prefix` at `revision`, up to `limit` matches (0 = all). */
export async function readPage(
  d: ApiDeps, r: ResourceInfo, prefix: string, filter: ObjectFilter, limit: number, revision: number | undefined, startAfter: string | undefined,
): Promise<ListPage> {
  const items: ListedObject[] = [];
  let after = startAfter;
  let rev = revision;
  // Selectors filter after reading, so keep reading chunks until the page is full (as apiserver does).
  for (;;) {
    const chunk = limit > 0 ? Math.max(limit - items.length, Math.min(limit * 2, 500)) : 0;
    const res = await d.store.list(prefix, { limit: chunk, startAfter: after, revision: rev });
    rev = res.revision;
    for (const kv of res.kvs) {
      after = kv.key;
      // Without a selector nothing needs the decoded object: it may be served from its bytes.
      if (filter.everything) items.push({ kv });
      else {
        const obj = decodeStored(r, kv);
        if (!filter.matches(obj)) continue;
        items.push({ kv, obj });
      }
      if (limit > 0 && items.length === limit) {
        const last = res.kvs[res.kvs.length - 1];
        const moreInChunk = last !== undefined && last.key !== kv.key;
        if (moreInChunk || res.more) return { items, revision: rev, continueAfter: kv.key.slice(prefix.length) };
        return { items, revision: rev };
      }
    }
    if (!res.more || limit === 0) return { items, revision: rev };
  }
}

export async function listObjects(d: ApiDeps, c: Call): Promise<void> {
  const r = c.resource;
  const filter = parseFilter(r, c.query);
  const prefix = listPrefix(r, c.info.namespace);
  // apiserver pages only for a positive limit; past 2^53 it is no limit at all (and SQLite's).
  const limit = Math.min(Math.max(queryInt(c.query, 'limit') ?? 0, 0), Number.MAX_SAFE_INTEGER);
  const rv = parseResourceVersion(c.query.get('resourceVersion'));
  const match = c.query.get('resourceVersionMatch') ?? '';
  if (match !== '' && match !== 'Exact' && match !== 'NotOlderThan') {
    throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  }
  if (match !== '' && rv === undefined) throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (match === 'Exact' && rv === 0) throw badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');

  let revision: number | undefined;
  let startAfter: string | undefined;
  const token = c.query.get('continue');
  if (token) {
    if (rv !== undefined && rv !== 0) throw badRequest('specifying resource version is not allowed when using continue');
    const pos = decodeContinue(token);
    revision = pos.revision;
    startAfter = prefix + pos.after;
  } else if (rv !== undefined && rv !== 0) {
    const current = await d.store.currentRevision();
    if (match === 'Exact' || (match === '' && limit > 0)) revision = rv;
    else if (rv > current) revision = rv; // lets the store answer FutureRevision → 504
  }

  let page: ListPage;
  try {
    page = await readPage(d, r, prefix, filter, limit, revision, startAfter);
  } catch (e) {
    if (e instanceof CompactedError) {
      if (token) throw expired(CONTINUE_EXPIRED_MESSAGE);
      throw new ApiError(410, 'Expired', `The resourceVersion for the provided list is too old.`);
    }
    throw translateStoreError(e, r, '');
  }
  const listMeta: ListMetaOut = { resourceVersion: String(page.revision) };
  if (page.continueAfter !== undefined) listMeta.continue = encodeContinue({ revision: page.revision, after: page.continueAfter });
  if (objectView(c.req.headers.accept) === 'object') {
    writeJsonBytes(c.res, 200, servedListJson(r, listMeta, page.items), { warnings: c.warnings });
    return;
  }
  writeJson(c.res, 200, presentList(d, c, page.items.map((item) => listedObject(r, item)), listMeta), { warnings: c.warnings });
}
