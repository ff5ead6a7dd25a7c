// K3s writes a join token at first start so that the first device can join without another
// command; edgeos does the same: <data-dir>/server/token (0600) holds a join token whose bootstrap
// Secret does not expire. A later start keeps the file as it is (deleting the Secret revokes it).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { BOOTSTRAP_NAMESPACE, bootstrapSecret, newBootstrapToken } from '../../common/link/bootstrap-secret.ts';
import { caHashOf, encodeJoinToken } from '../../common/link/join-token.ts';
import type { Logger } from '../../common/log.ts';
import { KeyExistsError } from '../../store/errors.ts';
import type { Store } from '../../store/types.ts';
import { encodeForStore } from '../storage/objects.ts';
import { rfc3339 } from '../kinds/age.ts';
import { PRIVATE_MODE, writeFileAtomic } from '../pki/files.ts';
import { ResourceRegistry, objectKey } from '../registry/index.ts';

const secrets = new ResourceRegistry().resolve('', 'v1', 'secrets')!;

export async function ensureDefaultJoinToken(o: { store: Store; file: string; caPem: string; servers: readonly string[]; log: Logger; now?: Date }): Promise<void> {
  if (existsSync(o.file)) return;
  for (;;) {
    const t = newBootstrapToken();
    const obj = bootstrapSecret({ ...t, description: 'the default join token, written at first start' });
    const meta = obj.metadata as Record<string, unknown>;
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(o.now ?? new Date());
    try {
      await o.store.create(objectKey(secrets, BOOTSTRAP_NAMESPACE, String(meta.name)), encodeForStore(secrets, obj));
    } catch (err) {
      if (err instanceof KeyExistsError) continue; // an id collision: draw again
      throw err;
    }
    writeFileAtomic(o.file, encodeJoinToken({ servers: o.servers, caHash: caHashOf(o.caPem), tokenId: t.id, tokenSecret: t.secret }) + '\n', PRIVATE_MODE);
    o.log.info({ file: o.file, tokenId: t.id }, 'wrote the default join token');
    return;
  }
}
