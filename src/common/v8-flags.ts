/**
 * V8/Node flags the product runs with, per role. One list, read by everything that starts an
 * edgeos process: the single executable's launch (scripts/build-sea.ts and src/cli) and the
 * benchmarks that run the bundled JavaScript with `node`, so a bench measures what ships.
 *
 * - server: `edgeos server` (API, store, controllers and, by default, the local agent).
 * - agent: `edgeos join` / `edgeos agent` on a device, where memory matters most.
 */
export const v8Flags: { readonly server: readonly string[]; readonly agent: readonly string[] } = {
  server: [],
  agent: [],
};
