// apiserver_storage_objects and edgeos_link_relays (src/server/metrics), on a real SQLite store:
// the counts follow what is stored, by resource, refreshed at most once a minute.
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { openSqliteStore } from '../../../src/store/index.ts';
import type { Store } from '../../../src/store/types.ts';
import { storageObjectMetrics } from '../../../src/server/metrics/storage-objects.ts';
import { createServerMetrics } from '../../../src/server/metrics/index.ts';

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

const value = (text: string, resource: string) => {
  const m = new RegExp(`^apiserver_storage_objects\\{resource="${resource.replace(/\./g, '\\.')}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('apiserver_storage_objects', () => {
  it('counts the stored objects of each resource, refreshed once a minute', async () => {
    store = await openSqliteStore({ file: ':memory:' });
    const s = store;
    await s.create('/registry/nodes/n1', Buffer.from('{}'));
    await s.create('/registry/nodes/n2', Buffer.from('{}'));
    await s.create('/registry/pods/default/p1', Buffer.from('{}'));
    await s.create('/registry/deployments/default/d1', Buffer.from('{}'));
    let now = 1_000_000;
    const registry = new Registry();
    storageObjectMetrics(registry, () => s, () => now);
    let text = await registry.metrics();
    expect(value(text, 'nodes')).toBe(2);
    expect(value(text, 'pods')).toBe(1);
    expect(value(text, 'deployments.apps')).toBe(1);
    expect(value(text, 'secrets')).toBe(0);

    await s.create('/registry/nodes/n3', Buffer.from('{}'));
    now += 30_000;
    text = await registry.metrics();
    expect(value(text, 'nodes')).toBe(2); // not yet a minute: the last counts
    now += 30_000;
    await registry.metrics(); // starts the refresh in the background …
    await new Promise((r) => setTimeout(r, 50));
    expect(value(await registry.metrics(), 'nodes')).toBe(3); // … whose counts the next scrape reports
  });

  it('the server scrape carries it, and edgeos_link_relays with no link says 0', async () => {
    store = await openSqliteStore({ file: ':memory:' });
    const s = store;
    await s.create('/registry/nodes/n1', Buffer.from('{}'));
    const { body } = await createServerMetrics({ store: () => s, links: () => undefined }).scrape();
    expect(value(body, 'nodes')).toBe(1);
    expect(body).toMatch(/^edgeos_link_relays 0$/m);
    expect(body).toMatch(/# HELP edgeos_link_relays Node pairs .* relayed in the last 10 s/);
    expect(body).toMatch(/^edgeos_link_relay_packets_total 0$/m);
  });
});
