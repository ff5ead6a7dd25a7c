/**
 * Every boolean and integer query parameter the API reads, with every spelling, parsed as
 * kube-apiserver's parameter codec parses them (apimachinery runtime/conversion.go): a boolean is
 * false only when absent, "0" or "false" in any case; an integer is strconv.ParseInt(s, 10, 64).
 * watch, allowWatchBookmarks, sendInitialEvents, timeoutSeconds, limit and force are driven over
 * HTTP; gracePeriodSeconds/orphanDependents (DeleteOptions), the log options and the exec/attach
 * stream flags through the functions that read them.
 */
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeleteOptions } from '../../../src/server/api/delete/delete-options.ts';
import { queryBool, queryInt } from '../../../src/server/api/query-params.ts';
import { parseRequest, requestUrl } from '../../../src/server/api/request-info.ts';
import { ApiError } from '../../../src/server/storage/status.ts';
import { parseLogOptions } from '../../../src/server/api/subresources/log-options.ts';
import { streamRequest } from '../../../src/server/api/subresources/stream-options.ts';
import { startInProcessApi } from '../../helpers/in-process-api.ts';
import type { InProcessApi } from '../../helpers/in-process-api.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Go's strconv.ParseBool spellings, and a few it refuses, with what apiserver makes of each. Note
 * "f" and "F": ParseBool reads them as false, apiserver's conversion as true (only "0" and
 * "false" in any case are false), and never answers 400 for a boolean.
 */
const BOOLS: [string, boolean][] = [
  ['1', true], ['t', true], ['T', true], ['TRUE', true], ['true', true], ['True', true],
  ['0', false], ['f', true], ['F', true], ['FALSE', false], ['false', false], ['False', false],
  ['fAlSe', false], ['yes', true], ['', true],
];

/** Integers: ParseInt base 10, 64 bits; anything else is 400 with Go's error. */
// The largest int64 reads as 2 ** 63, the double nearest to it.
const INTS: [string, number | string][] = [
  ['2', 2], ['+2', 2], ['-1', -1], ['0', 0], ['007', 7], ['9223372036854775807', 2 ** 63],
  ['', 'invalid syntax'], ['abc', 'invalid syntax'], ['1.5', 'invalid syntax'], ['1e3', 'invalid syntax'], [' 2', 'invalid syntax'], ['0x10', 'invalid syntax'],
  ['9223372036854775808', 'value out of range'],
];

const q = (name: string, v: string): URLSearchParams => new URLSearchParams([[name, v]]);

describe('queryBool and queryInt', () => {
  it.each(BOOLS)('boolean %j is %s', (spelling, want) => {
    expect(queryBool(q('watch', spelling), 'watch')).toBe(want);
  });
  it('an absent boolean is undefined, and only the first of repeated values counts', () => {
    expect(queryBool(new URLSearchParams(), 'watch')).toBeUndefined();
    expect(queryBool(new URLSearchParams('watch=false&watch=true'), 'watch')).toBe(false);
  });
  it.each(INTS)('integer %j → %s', (spelling, want) => {
    if (typeof want === 'number') expect(queryInt(q('limit', spelling), 'limit')).toBe(want);
    else expect(() => queryInt(q('limit', spelling), 'limit')).toThrow(`limit: strconv.ParseInt: parsing ${JSON.stringify(spelling)}: ${want}`);
  });
});

describe('watch in the request attributes', () => {
  it.each(BOOLS)('GET …/pods?watch=%j is a watch: %s', (spelling, want) => {
    const info = parseRequest('GET', requestUrl(`/api/v1/namespaces/default/pods?watch=${encodeURIComponent(spelling)}`));
    expect(info).toMatchObject({ kind: 'resource', verb: want ? 'watch' : 'list' });
  });
});

function fakeRequest(): IncomingMessage {
  return Object.assign(Readable.from([]), { headers: {} }) as unknown as IncomingMessage;
}

describe('DeleteOptions from the query', () => {
  it.each(BOOLS)('orphanDependents=%j orphans: %s', async (spelling, want) => {
    const o = await readDeleteOptions(fakeRequest(), q('orphanDependents', spelling));
    expect(o.propagation).toBe(want ? 'Orphan' : undefined);
  });
  it.each(INTS)('gracePeriodSeconds=%j → %s', async (spelling, want) => {
    const read = readDeleteOptions(fakeRequest(), q('gracePeriodSeconds', spelling));
    if (typeof want === 'number') expect((await read).gracePeriodSeconds).toBe(want);
    else await expect(read).rejects.toMatchObject({ httpStatus: 400, message: `gracePeriodSeconds: strconv.ParseInt: parsing ${JSON.stringify(spelling)}: ${want}` });
  });
});

describe('log and stream options', () => {
  it.each(BOOLS)('follow, previous and timestamps = %j → %s', (spelling, want) => {
    for (const name of ['follow', 'previous', 'timestamps'] as const) expect(parseLogOptions(q(name, spelling), 'p')[name]).toBe(want);
  });
  it.each(INTS.filter(([, want]) => typeof want === 'string' || want > 0))('tailLines, limitBytes and sinceSeconds = %j → %s', (spelling, want) => {
    for (const name of ['tailLines', 'limitBytes', 'sinceSeconds'] as const) {
      if (typeof want === 'number') expect(parseLogOptions(q(name, spelling), 'p')[name]).toBe(want);
      else expect(() => parseLogOptions(q(name, spelling), 'p')).toThrow(`${name}: strconv.ParseInt: parsing ${JSON.stringify(spelling)}: ${want}`);
    }
  });
  it.each(BOOLS)('stdin, stdout, stderr and tty = %j → %s', (spelling, want) => {
    const ref = { namespace: 'default', name: 'p', uid: 'u' };
    for (const name of ['stdin', 'stdout', 'stderr']) {
      const run = (...more: [string, string][]): unknown => streamRequest('exec', ref, 'c', new URLSearchParams([['command', 'sh'], [name, spelling], ...more]));
      expect(run(['stdin', 'true'], ['stdout', 'true'], ['stderr', 'true'])).toMatchObject({ [name]: want });
      // At least one stream: a false one alone is refused.
      if (want) expect(run()).toMatchObject({ [name]: true });
      else expect(run).toThrow(ApiError);
    }
    const tty = streamRequest('attach', ref, 'c', new URLSearchParams([['stdout', '1'], ['stderr', '1'], ['tty', spelling]]));
    // With a TTY stderr is merged into stdout.
    expect(tty).toMatchObject({ tty: want, stderr: !want });
  });
});

describe('over HTTP', () => {
  let s: InProcessApi;
  const NS = '/api/v1/namespaces/default/configmaps';
  beforeAll(async () => {
    s = await startInProcessApi();
    for (const name of ['a', 'b', 'c']) {
      const res = await s.request('POST', NS, { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } }), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await s?.close();
  });

  /** The response's JSON lines: one List object, or a watch's events. */
  async function get(query: string): Promise<{ status: number; lines: Json[] }> {
    const res = await s.request('GET', `${NS}?${query}`);
    return { status: res.status, lines: res.body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Json) };
  }

  it('watch with every spelling: a stream of events or a List', async () => {
    const results = await Promise.all(BOOLS.map(([spelling]) => get(`watch=${encodeURIComponent(spelling)}&timeoutSeconds=1`)));
    BOOLS.forEach(([spelling, want], i) => {
      const { status, lines } = results[i]!;
      expect(status, spelling).toBe(200);
      if (want) expect(lines.map((l) => `${l.type} ${l.object.metadata.name}`), spelling).toEqual(['ADDED a', 'ADDED b', 'ADDED c']);
      else expect(lines.map((l) => l.kind), spelling).toEqual(['ConfigMapList']);
    });
  });

  it('sendInitialEvents with every spelling ends the initial events with a bookmark or not', async () => {
    const results = await Promise.all(BOOLS.map(([spelling]) => get(`watch=1&sendInitialEvents=${encodeURIComponent(spelling)}&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`)));
    BOOLS.forEach(([spelling, want], i) => {
      const marks = results[i]!.lines.filter((l) => l.type === 'BOOKMARK' && l.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true');
      expect(marks.length, spelling).toBe(want ? 1 : 0);
    });
  });

  it('allowWatchBookmarks with every spelling: progress bookmarks or none', async () => {
    // The in-process store reports progress every second.
    const results = await Promise.all(BOOLS.map(([spelling]) => get(`watch=true&resourceVersion=1&allowWatchBookmarks=${encodeURIComponent(spelling)}&timeoutSeconds=3`)));
    BOOLS.forEach(([spelling, want], i) => {
      const bookmarks = results[i]!.lines.filter((l) => l.type === 'BOOKMARK').length;
      if (want) expect(bookmarks, spelling).toBeGreaterThan(0);
      else expect(bookmarks, spelling).toBe(0);
    });
  }, 20_000);

  it.each(INTS)('limit=%j → %s', async (spelling, want) => {
    const { status, lines } = await get(`limit=${encodeURIComponent(spelling)}`);
    if (typeof want === 'string') {
      expect(status).toBe(400);
      expect(lines[0]).toMatchObject({ reason: 'BadRequest', message: `limit: strconv.ParseInt: parsing ${JSON.stringify(spelling)}: ${want}` });
      return;
    }
    expect(status).toBe(200);
    // apiserver pages only for a positive limit.
    expect(lines[0]!.items).toHaveLength(want > 0 && want < 3 ? want : 3);
  });

  it.each(INTS)('timeoutSeconds=%j → %s', async (spelling, want) => {
    if (typeof want === 'number' && want !== 2) return; // a valid one that ends quickly is enough
    const started = Date.now();
    const { status, lines } = await get(`watch=true&timeoutSeconds=${encodeURIComponent(spelling)}`);
    if (typeof want === 'string') {
      expect(status).toBe(400);
      expect(lines[0]).toMatchObject({ reason: 'BadRequest', message: `timeoutSeconds: strconv.ParseInt: parsing ${JSON.stringify(spelling)}: ${want}` });
      return;
    }
    expect(status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it.each(BOOLS)('server-side apply with force=%j takes the conflicting field: %s', async (spelling, want) => {
    const name = `force-${BOOLS.findIndex(([s2]) => s2 === spelling)}`;
    const body = (v: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: v } });
    const apply = (manager: string, v: string, extra = ''): ReturnType<InProcessApi['request']> =>
      s.request('PATCH', `${NS}/${name}?fieldManager=${manager}${extra}`, { body: body(v), headers: { 'content-type': 'application/apply-patch+yaml' } });
    expect((await apply('first', 'one')).status).toBe(201);
    const res = await apply('second', 'two', `&force=${encodeURIComponent(spelling)}`);
    expect(res.status).toBe(want ? 200 : 409);
  });
});
