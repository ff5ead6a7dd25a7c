/**
 * The deploy controller (K3s's auto-deploying manifests, docs/storage.md): every manifest in
 * `<data-dir>/server/manifests` is applied when the server starts and whenever it changes — the
 * folder is watched (inotify) and rescanned every RESCAN_MS in case a change was missed — with
 * server-side apply under its own field manager, so fields that kubectl or controllers set on the
 * same objects survive. Each file is tracked by an Addon in kube-system whose Events tell what
 * happened. A bad file (YAML error, unknown kind, an object the API refuses) gives one log line and
 * one Warning Event naming the file and the document, and does not stop the other files or the
 * server; a file that failed to apply is retried on every rescan (a CRD or namespace it needs may
 * come later), logging again only when the error changes. Removing a file leaves its objects,
 * except those that opted in with PRUNE_ANNOTATION.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../../common/errors.ts';
import { controllerFromRun } from '../lifecycle.ts';
import { NotFoundError, inNamespace } from '../types.ts';
import type { ApiResource, ControllerContext, ControllerDescriptor, KubeObject, ResourceRef } from '../types.ts';
import { ADDON_NAMESPACE, BUNDLED_MANIFESTS, PRUNE_ANNOTATION, addonCrd, addons } from './addons.ts';
import type { Addon, AppliedObject } from './addons.ts';
import { addonName, checksum, listManifests, readManifest } from './manifest-files.ts';
import type { ManifestFile, ManifestObject } from './manifest-files.ts';

/** The field manager of everything the folder applies. */
export const FIELD_MANAGER = 'edgeos-manifests';
const RESCAN_MS = 15_000;
/** Editors write a file in several steps: the folder settles this long before it is read. */
const SETTLE_MS = 250;
/** How long an unknown kind is waited for when a CRD was applied in the same pass. */
const CRD_WAIT_MS = 5000;

interface FileState {
  readonly addon: string;
  /** Of the content last handled; '' forces the next pass to apply (start-up). */
  readonly checksum: string;
  /** The last failure, reported once; a parse error waits for the file to change. */
  readonly error?: string;
  readonly parseError?: boolean;
  readonly applied: readonly AppliedObject[];
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((r) => {
  const t = setTimeout(r, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
});

const groupVersion = (apiVersion: string): [string, string] => {
  const i = apiVersion.indexOf('/');
  return i < 0 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
};

const describe = (o: KubeObject): string => `${o.kind ?? ''} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name ?? ''}`;

/** Kind and name: how a removed object is told from one still in its file (namespace defaults aside). */
const identity = (o: { kind?: string; apiVersion?: string; name?: string }): string => `${groupVersion(o.apiVersion ?? '')[0]}/${o.kind ?? ''}/${o.name ?? ''}`;

function deployLoop(ctx: ControllerContext, dir: string, signal: AbortSignal, ready: () => void): Promise<void> {
  const log = ctx.log;
  const state = new Map<string, FileState>();
  let discovered = new Map<string, ApiResource>();
  let appliedCrd = false;

  async function discover(): Promise<void> {
    discovered = new Map((await ctx.client.discover({ signal })).map((r) => [`${r.group}/${r.version}/${r.kind}`, r]));
  }

  /** The resource of an apiVersion and kind; rediscovers on a miss (a CRD applied meanwhile). */
  async function resolve(apiVersion: string, kind: string): Promise<ApiResource> {
    const [group, version] = groupVersion(apiVersion);
    const key = `${group}/${version}/${kind}`;
    const deadline = Date.now() + (appliedCrd ? CRD_WAIT_MS : 0);
    for (;;) {
      const r = discovered.get(key);
      if (r) return r;
      await discover();
      if (discovered.has(key) || Date.now() >= deadline || signal.aborted) break;
      await sleep(250, signal);
    }
    const r = discovered.get(key);
    if (!r) throw new Error(`no matches for kind "${kind}" in version "${apiVersion}"`);
    return r;
  }

  const refOf = (r: ApiResource, namespace: string | undefined): ResourceRef =>
    r.namespaced ? inNamespace({ group: r.group, version: r.version, resource: r.resource }, namespace ?? 'default') : { group: r.group, version: r.version, resource: r.resource };

  /** Server-side apply of one object; a namespaced one without a namespace goes to "default", as with kubectl apply. */
  async function applyOne(obj: KubeObject): Promise<AppliedObject> {
    const apiVersion = obj.apiVersion ?? '';
    const kind = obj.kind ?? '';
    const r = await resolve(apiVersion, kind);
    const meta = { ...obj.metadata };
    if (r.namespaced) meta.namespace ||= 'default';
    else delete meta.namespace;
    const name = meta.name ?? '';
    await ctx.client.patch(refOf(r, meta.namespace), name, 'apply', { ...obj, metadata: meta }, { fieldManager: FIELD_MANAGER, force: true, signal });
    if (groupVersion(apiVersion)[0] === 'apiextensions.k8s.io' && kind === 'CustomResourceDefinition') appliedCrd = true;
    return { apiVersion, kind, ...(meta.namespace ? { namespace: meta.namespace } : {}), name, prune: meta.annotations?.[PRUNE_ANNOTATION] === 'true' };
  }

  async function deleteObject(o: AppliedObject): Promise<void> {
    const r = await resolve(o.apiVersion, o.kind);
    try {
      await ctx.client.delete(refOf(r, o.namespace), o.name, { propagationPolicy: 'Background', signal });
      log.info({ object: `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}` }, 'deleted an object whose manifest went away (it opted in)');
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }

  async function addonFor(name: string, source: string): Promise<Addon> {
    const ref = inNamespace(addons, ADDON_NAMESPACE);
    try {
      const a = await ctx.client.get<Addon>(ref, name, { signal });
      if (a.spec?.source === source) return a;
      return await ctx.client.patch<Addon>(ref, name, 'merge', { spec: { source } }, { signal });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      return ctx.client.create<Addon>(ref, { apiVersion: 'edgeos.io/v1', kind: 'Addon', metadata: { name, namespace: ADDON_NAMESPACE }, spec: { source } }, { signal });
    }
  }

  /** One log line and one Event per distinct failure of a file. */
  function failed(f: ManifestFile, addon: Addon | undefined, reason: string, message: string, prev: FileState | undefined): void {
    if (prev?.error === message) return;
    log.error({ file: f.path, reason, err: message }, 'manifest not applied');
    if (addon) ctx.recorder.event(addon, 'Warning', reason, message);
  }

  async function deploy(f: ManifestFile, name: string): Promise<void> {
    const prev = state.get(f.path);
    let read: Awaited<ReturnType<typeof readManifest>>;
    try {
      read = await readManifest(f.path);
    } catch (err) {
      const message = `Read manifest at "${f.path}" failed: ${errorMessage(err)}`;
      failed(f, undefined, 'ReadManifestFailed', message, prev);
      state.set(f.path, { addon: name, checksum: '', error: message, applied: prev?.applied ?? [] });
      return;
    }
    const sum = checksum(read.content);
    if (prev && prev.checksum === sum && (!prev.error || prev.parseError)) return;
    const addon = await addonFor(name, f.path);
    if ('error' in read.parsed) {
      const message = `Parse manifest at "${f.path}" failed: ${read.parsed.error}`;
      failed(f, addon, 'ParseManifestFailed', message, prev);
      state.set(f.path, { addon: name, checksum: sum, error: message, parseError: true, applied: prev?.applied ?? [] });
      return;
    }
    const objects: ManifestObject[] = read.parsed.objects;
    const changed = prev?.checksum !== sum;
    if (changed) ctx.recorder.event(addon, 'Normal', 'ApplyingManifest', `Applying manifest at "${f.path}"`);
    const applied: AppliedObject[] = [];
    const errors: string[] = [];
    for (const { document, object } of objects) {
      try {
        applied.push(await applyOne(object));
      } catch (err) {
        errors.push(`document ${document} (${describe(object)}): ${errorMessage(err)}`);
      }
    }
    // Objects this file applied before and no longer has: deleted only when they opted in.
    const inFile = new Set(objects.map(({ object }) => identity({ apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name })));
    const kept: AppliedObject[] = [];
    for (const old of prev?.applied ?? []) {
      const id = identity(old);
      if (applied.some((a) => identity(a) === id)) continue;
      if (inFile.has(id)) kept.push(old); // still in the file; its apply failed this time
      else if (old.prune) await deleteObject(old).catch((err: unknown) => errors.push(`deleting ${old.kind} ${old.name}: ${errorMessage(err)}`));
    }
    const record = [...applied, ...kept];
    await ctx.client.patch(inNamespace(addons, ADDON_NAMESPACE), name, 'merge', { spec: { checksum: sum }, status: { objects: record } }, { signal });
    if (errors.length > 0) {
      failed(f, addon, 'ApplyManifestFailed', `Applying manifest at "${f.path}" failed: ${errors.join('; ')}`, prev);
      state.set(f.path, { addon: name, checksum: sum, error: `Applying manifest at "${f.path}" failed: ${errors.join('; ')}`, applied: record });
      return;
    }
    if (changed || prev?.error) {
      ctx.recorder.event(addon, 'Normal', 'AppliedManifest', `Applied manifest at "${f.path}"`);
      log.info({ file: f.path, objects: applied.length }, 'applied manifest');
    }
    state.set(f.path, { addon: name, checksum: sum, applied: record });
  }

  /** A file that went away (not one a .skip switched off): its opted-in objects, then its Addon. */
  async function removed(path: string, st: FileState): Promise<void> {
    const pruned = st.applied.filter((o) => o.prune);
    for (const o of pruned) await deleteObject(o);
    try {
      await ctx.client.delete(inNamespace(addons, ADDON_NAMESPACE), st.addon, { signal });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
    log.info({ file: path, deleted: pruned.length, left: st.applied.length - pruned.length }, pruned.length ? 'manifest removed: deleted the objects that opted in, the others stay' : 'manifest removed: its objects stay');
    state.delete(path);
  }

  async function scan(): Promise<void> {
    appliedCrd = false;
    const { files, skipped } = await listManifests(dir);
    const present = new Set<string>();
    const owners = new Map<string, string>();
    for (const f of files) {
      if (signal.aborted) return;
      present.add(f.path);
      const name = addonName(f.relative);
      const other = owners.get(name);
      if (other) {
        failed(f, undefined, 'ApplyManifestFailed', `manifest "${f.path}" maps to Addon "${name}" as "${other}" does: rename one of them`, state.get(f.path));
        continue;
      }
      owners.set(name, f.path);
      try {
        await deploy(f, name);
      } catch (err) {
        // The API itself failed (not the file): logged, retried on the next pass.
        log.warn({ file: f.path, err: errorMessage(err) }, 'manifest pass failed; retrying');
      }
    }
    for (const [path, st] of [...state]) {
      if (present.has(path) || skipped.has(path) || signal.aborted) continue;
      await removed(path, st).catch((err: unknown) => log.warn({ file: path, err: errorMessage(err) }, 'removing a manifest failed; retrying'));
    }
  }

  return (async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const [file, content] of Object.entries(BUNDLED_MANIFESTS)) {
      const path = join(dir, file);
      const skip = await readFile(`${path}.skip`).then(() => true, () => false);
      if (skip || (await readFile(path, 'utf8').catch(() => undefined)) === content) continue;
      await writeFile(path, content, { mode: 0o600 });
    }
    await applyOne(addonCrd);
    await resolve('edgeos.io/v1', 'Addon');
    // Addons of files removed while the server was down are handled by the first pass.
    for (const a of (await ctx.client.list<Addon>(inNamespace(addons, ADDON_NAMESPACE), { signal })).items) {
      const source = a.spec?.source;
      if (source?.startsWith(`${dir}/`)) state.set(source, { addon: a.metadata.name ?? '', checksum: '', applied: a.status?.objects ?? [] });
    }
    ready();

    // Passes run one at a time; a change during a pass runs one more after it.
    let running: Promise<void> | undefined;
    let again = false;
    const pass = (): void => {
      if (running) {
        again = true;
        return;
      }
      running = scan()
        .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'manifest pass failed; retrying'))
        .finally(() => {
          running = undefined;
          if (again && !signal.aborted) {
            again = false;
            pass();
          }
        });
    };
    let settle: NodeJS.Timeout | undefined;
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(dir, { recursive: true }, () => {
        clearTimeout(settle);
        settle = setTimeout(pass, SETTLE_MS);
      });
      watcher.on('error', (err) => log.warn({ err: errorMessage(err) }, 'watching the manifests folder failed; rescanning every 15 s only'));
    } catch (err) {
      log.warn({ err: errorMessage(err), dir }, 'cannot watch the manifests folder; rescanning every 15 s only');
    }
    const rescan = setInterval(pass, RESCAN_MS);
    pass();
    await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    clearInterval(rescan);
    clearTimeout(settle);
    watcher?.close();
    await running;
  })();
}

export const deployController: ControllerDescriptor = {
  name: 'deploy',
  create: (ctx) =>
    controllerFromRun('deploy', async (signal, ready) => {
      const dir = ctx.options.manifestsDir;
      if (!dir) {
        ready();
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        return;
      }
      await deployLoop(ctx, dir, signal, ready);
    }),
};
