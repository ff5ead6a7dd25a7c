import jsonpatch, { type Operation as JsonPatchOperation } from 'fast-json-patch';
import type { KubeObject } from '../kinds/types.ts';
import { inapplicable, unparsable } from './errors.ts';
import { isObject } from './json-value.ts';

// fast-json-patch error names that mean "the patch document is malformed" (400); every other
// failure is a well-formed operation that does not fit the object (422), which is how the apiserver
// splits jsonpatch.DecodePatch errors (BadRequest) from Apply errors (Invalid).
const malformed = new Set([
  'SEQUENCE_NOT_AN_ARRAY',
  'OPERATION_NOT_AN_OBJECT',
  'OPERATION_OP_INVALID',
  'OPERATION_PATH_INVALID',
  'OPERATION_FROM_REQUIRED',
  'OPERATION_VALUE_REQUIRED',
  'OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED',
]);

interface Operation {
  op: string;
  path: string;
  from?: string;
}

/** Apply an RFC 6902 JSON Patch (what `kubectl rollout undo` and `kubectl patch --type=json` send). */
export function applyJsonPatch(current: KubeObject, body: Buffer): KubeObject {
  let ops: unknown;
  try {
    ops = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw unparsable(`error decoding JSON patch: ${(err as Error).message}`, err);
  }
  if (!Array.isArray(ops)) {
    throw unparsable('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  let result: unknown = structuredClone(current);
  try {
    ops.forEach((raw: unknown, index) => {
      const op = replaceOfMissingKeyAsAdd(result, raw);
      // validateOperation=true checks the op against the document first; mutateDocument=true works
      // on our clone.
      result = jsonpatch.applyOperation(result, op as JsonPatchOperation, true, true, true, index).newDocument;
    });
  } catch (err) {
    throw translate(err);
  }
  if (!isObject(result)) throw inapplicable('the JSON patch replaced the object with a value that is not an object');
  return result as KubeObject;
}

/**
 * gopkg.in/evanphx/json-patch.v4, which the apiserver uses, lets `replace` set a key an object does
 * not have yet (its partialDoc.get never fails), so such a replace is an add here too.
 */
function replaceOfMissingKeyAsAdd(doc: unknown, raw: unknown): unknown {
  if (!isObject(raw) || raw.op !== 'replace' || typeof raw.path !== 'string' || !raw.path.startsWith('/')) return raw;
  const tokens = raw.path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const key = tokens.pop() as string;
  let parent: unknown = doc;
  for (const t of tokens) {
    if (isObject(parent)) parent = parent[t];
    else if (Array.isArray(parent)) parent = parent[Number(t)];
    else return raw;
  }
  return isObject(parent) && !Object.hasOwn(parent, key) ? { ...raw, op: 'add' } : raw;
}

// Messages follow gopkg.in/evanphx/json-patch.v4, whose text the apiserver passes on.
function translate(err: unknown): Error {
  if (!(err instanceof jsonpatch.JsonPatchError)) return unparsable(`invalid JSON patch: ${String(err)}`, err);
  const op = (isObject(err.operation) ? err.operation : {}) as Partial<Operation>;
  const where = `operation ${err.index ?? 0}`;
  if (malformed.has(err.name)) {
    return unparsable(`invalid JSON patch ${where}: ${err.message.split('\n', 1)[0] ?? err.name}`);
  }
  const path = String(op.path ?? '');
  switch (err.name) {
    case 'TEST_OPERATION_FAILED':
      return inapplicable(`testing value ${path} failed: test failed`);
    case 'OPERATION_FROM_UNRESOLVABLE':
      return inapplicable(`${String(op.op)} operation does not apply: doc is missing from path: ${JSON.stringify(op.from ?? '')}: missing value`);
    case 'OPERATION_PATH_UNRESOLVABLE':
      if (op.op === 'replace') return inapplicable(`replace operation does not apply: doc is missing key: ${path}: missing value`);
      return inapplicable(`${String(op.op)} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
    case 'OPERATION_PATH_CANNOT_ADD':
    case 'OPERATION_PATH_ILLEGAL_ARRAY_INDEX':
      return inapplicable(`${String(op.op)} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
    default:
      return inapplicable(`${where} (${String(op.op)} ${path}) does not apply: ${err.message.split('\n', 1)[0] ?? err.name}`);
  }
}
