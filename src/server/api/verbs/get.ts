import type { ApiDeps, Call } from '../context.ts';
import { respondObject } from '../present.ts';
import { mustRead, readCurrent } from '../read.ts';
import { notFound } from '../status.ts';

/**
 * GET one object. resourceVersion "" or "0" read the latest; another value reads "not older
 * than" that revision, which the latest always satisfies unless it is in the future.
 */
export async function getObject(d: ApiDeps, c: Call): Promise<void> {
  const rv = c.query.get('resourceVersion') ?? '';
  if (rv !== '' && rv !== '0') {
    const n = Number(rv);
    const current = await d.store.currentRevision();
    if (Number.isInteger(n) && n > current) {
      const cur = await readCurrent(d, c.resource, c.info.namespace, c.info.name, n);
      if (!cur) throw notFound(c.resource, c.info.name);
    }
  }
  const { obj } = await mustRead(d, c.resource, c.info.namespace, c.info.name);
  respondObject(d, c, 200, obj);
}
