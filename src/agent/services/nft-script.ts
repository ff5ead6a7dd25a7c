/**
 * One `nft -f` transaction from the last applied table to the desired one, pure. Only what
 * changed is touched (kube-proxy's partial syncs): new chains and sets are added, changed chains
 * flushed and refilled, map elements deleted and added, chains nobody uses any more flushed and
 * deleted. So an endpoint change is a few lines whatever the number of Services, and ClientIP
 * affinity sets keep their entries across unrelated changes. Without a previous table the script
 * replaces whatever table of that name the kernel holds (a crashed agent's) in the same
 * transaction: `nft -f` applies a file all or nothing.
 */
import type { Chain, Fragment, Ruleset } from './types.ts';

interface Merged {
  readonly chains: Map<string, Chain>;
  readonly containers: Map<string, { kind: 'map' | 'set'; body: string }>;
  readonly elements: Map<string, { container: string; key: string; value: string }>;
}

/** The last applied table is merged once, not at every sync that diffs against it. */
const merged = new WeakMap<Ruleset, Merged>();

function merge(r: Ruleset | undefined): Merged {
  const m: Merged = { chains: new Map(), containers: new Map(), elements: new Map() };
  if (!r) return m;
  const known = merged.get(r);
  if (known) return known;
  merged.set(r, m);
  // forEach, not for…of, over every Map here: the agent's V8 runs without an optimizing compiler
  // (--lite-mode), where each step of a for…of over a Map allocates an iterator result and an
  // entry array — per sync, for every chain and element of the table.
  const add = (f: Fragment) => {
    f.chains.forEach((v, k) => m.chains.set(k, v));
    f.containers.forEach((v, k) => m.containers.set(k, v));
    // The first Service port to claim an address . port keeps it (as kube-proxy, one wins).
    f.elements.forEach((v, k) => {
      if (!m.elements.has(k)) m.elements.set(k, v);
    });
  };
  add(r.base);
  for (const f of [...r.ports.keys()].sort().map((k) => r.ports.get(k)!)) add(f);
  return m;
}

const sameChain = (a: Chain, b: Chain) => a === b || (a.hook === b.hook && a.rules.length === b.rules.length && a.rules.every((r, i) => r === b.rules[i]));

/** Elements grouped per container, one statement each (nft parses one long list fastest). */
function elementLines(verb: 'add' | 'delete', table: string, els: { container: string; key: string; value: string }[], withValue: boolean): string[] {
  const by = new Map<string, string[]>();
  for (const e of els) by.set(e.container, [...(by.get(e.container) ?? []), withValue && e.value ? `${e.key} : ${e.value}` : e.key]);
  return [...by].map(([c, items]) => `${verb} element ip ${table} ${c} { ${items.join(', ')} }`);
}

export function nftScript(table: string, prev: Ruleset | undefined, next: Ruleset): string {
  const a = merge(prev);
  const b = merge(next);
  const out: string[] = [`add table ip ${table}`];
  if (!prev) out.push(`delete table ip ${table}`, `add table ip ${table} { comment "edgeos Services (docs/services.md)"; }`);

  b.containers.forEach((c, name) => {
    if (!a.containers.has(name)) out.push(`add ${c.kind} ip ${table} ${name} { ${c.body} }`);
  });
  b.chains.forEach((c, name) => {
    if (!a.chains.has(name)) out.push(c.hook ? `add chain ip ${table} ${name} { ${c.hook} }` : `add chain ip ${table} ${name}`);
  });
  b.chains.forEach((c, name) => {
    const old = a.chains.get(name);
    if (old && sameChain(old, c)) return;
    if (old) out.push(`flush chain ip ${table} ${name}`);
    for (const rule of c.rules) out.push(`add rule ip ${table} ${name} ${rule}`);
  });

  const gone: { container: string; key: string; value: string }[] = [];
  const added: { container: string; key: string; value: string }[] = [];
  a.elements.forEach((e, k) => {
    const now = b.elements.get(k);
    if (!now || now.value !== e.value) gone.push(e);
  });
  b.elements.forEach((e, k) => {
    const was = a.elements.get(k);
    if (!was || was.value !== e.value) added.push(e);
  });
  out.push(...elementLines('delete', table, gone, false), ...elementLines('add', table, added, true));

  const removedChains: string[] = [];
  a.chains.forEach((_, n) => {
    if (!b.chains.has(n)) removedChains.push(n);
  });
  for (const n of removedChains) out.push(`flush chain ip ${table} ${n}`);
  for (const n of removedChains) out.push(`delete chain ip ${table} ${n}`);
  a.containers.forEach((c, name) => {
    if (!b.containers.has(name)) out.push(`delete ${c.kind} ip ${table} ${name}`);
  });
  return out.join('\n') + '\n';
}
