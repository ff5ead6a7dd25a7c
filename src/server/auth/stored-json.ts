import type { Logger } from '../../common/log.ts';
import type { Store } from '../../store/types.ts';

/**
 * Reads a stored object for an authorization decision. A value that is not JSON is logged and
 * treated as absent: a damaged object must deny, never crash the request.
 */
export async function readStoredJson<T>(store: Store, log: Logger, key: string): Promise<T | undefined> {
  const kv = await store.get(key);
  if (!kv) return undefined;
  try {
    return JSON.parse(kv.value.toString('utf8')) as T;
  } catch (err) {
    log.error({ key, err }, 'ignoring a stored object that is not JSON');
    return undefined;
  }
}
