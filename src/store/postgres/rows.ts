/** Rows of the kv log as node-postgres returns them, into the contract's KeyValue and WatchEvent. */
import { ownBytes } from '../../common/own-bytes.ts';
import type { KeyValue, TxnOp, WatchEvent } from '../types.ts';
import type { HistoryRow, Row, WriteRow } from './statements.ts';

type MutableKv = { -readonly [K in keyof KeyValue]: KeyValue[K] };

function kv(key: string, value: Buffer, createRevision: number, modRevision: number, expiresAt: number | null): KeyValue {
  const out: MutableKv = { key, value, createRevision, modRevision };
  if (expiresAt !== null) out.expiresAt = expiresAt;
  return out;
}

export function toKv(r: Row): KeyValue {
  return kv(r.name, r.value, r.create_revision, r.id, r.expires_at);
}

/** One history row as the event it records; prevKv comes from the row it replaced (joined in). */
export function toEvent(r: HistoryRow & Row): WatchEvent {
  const event = toKv(r);
  if (r.created) return { type: 'ADDED', kv: event };
  const type = r.deleted ? 'DELETED' : 'MODIFIED';
  if (r.prev_value === null) return { type, kv: event };
  return { type, kv: event, prevKv: kv(r.name, r.prev_value, r.prev_create_revision!, r.prev_revision, r.prev_expires_at) };
}

/** What txn() returns and what it publishes, from edgeos_write's rows (one per operation). */
export function writeOutcome(ops: readonly TxnOp[], rows: readonly WriteRow[]): { results: KeyValue[]; events: WatchEvent[] } {
  const results: KeyValue[] = [];
  const events: WatchEvent[] = [];
  ops.forEach((o, i) => {
    const r = rows[i]!;
    const prevKv = r.o_prev_id === null ? undefined : kv(o.key, r.o_prev_value!, r.o_prev_create_revision!, r.o_prev_id, r.o_prev_expires_at);
    if (o.op === 'create') {
      const created = kv(o.key, ownBytes(o.value), r.o_create_revision, r.o_id, r.o_expires_at);
      results.push(created);
      events.push({ type: 'ADDED', kv: created });
    } else if (o.op === 'update') {
      const updated = kv(o.key, ownBytes(o.value), r.o_create_revision, r.o_id, r.o_expires_at);
      results.push(updated);
      events.push({ type: 'MODIFIED', kv: updated, prevKv: prevKv! });
    } else {
      // The delete's key-value is the last value at the delete's revision, as SQLite returns it.
      const deleted = kv(o.key, r.o_prev_value!, r.o_create_revision, r.o_id, null);
      results.push(deleted);
      events.push({ type: 'DELETED', kv: deleted, prevKv: prevKv! });
    }
  });
  return { results, events };
}
