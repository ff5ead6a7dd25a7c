import type { ApiDeps, Call } from '../context.ts';
import { objectView } from '../negotiate.ts';
import { decodeStored } from '../../storage/objects.ts';
import { respondObject } from '../present.ts';
import { readCurrent, readStored } from '../../storage/read.ts';
import { writeJsonBytes } from '../respond.ts';
import { notFound } from '../../storage/status.ts';
import { servedJson } from '../../storage/stored-json.ts';

/**
 * GET one object. resourceVersion "" or "0" read the latest; another value reads "not older
 * than" that revision, which the latest always satisfies unless it is in the future. The plain
 * object is served from its stored bytes (stored-json.ts); Table and metadata views decode it.
 */
export async function getObject(d: ApiDeps, c: Call): Promise<void> {
  const rv = c.query.get('resourceVersion') ?? '';
  if (rv !== '' && rv !== '0') {
    const n = Number(rv);
    const current = await d.store.currentRevision();
    if (Number.isInteger(n) && n > current) {
      const cur = await readCurrent(d.store, c.resource, c.info.namespace, c.info.name, n);
      if (!cur) throw notFound(c.resource, c.info.name);
    }
  }
  const kv = await readStored(d.store, c.resource, c.info.namespace, c.info.name);
  if (!kv) throw notFound(c.resource, c.info.name);
  if (objectView(c.req.headers.accept) === 'object') return writeJsonBytes(c.res, 200, servedJson(c.resource, kv), { warnings: c.warnings });
  respondObject(d, c, 200, decodeStored(c.resource, kv));
}
