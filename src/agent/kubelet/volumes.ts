import type { Stats } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type {
  ConfigMapProjection, Container, DownwardAPIVolumeFile, KeyToPath, Pod, SecretProjection, Volume, VolumeProjection,
} from 'kubernetes-types/core/v1';
import type { Mount } from '../../runtime/types.ts';
import type { PayloadFile } from '../../common/atomic-file.ts';
import { writePayload } from '../../common/atomic-file.ts';
import { VolumeSetupError } from './errors.ts';
import { fieldRefValue, resourceFieldValue } from './field-ref.ts';
import type { DownwardContext } from './field-ref.ts';
import { configMapEntries, secretEntries } from './objects.ts';
import type { ObjectSource } from './objects.ts';

/**
 * A token for a projected serviceAccountToken source, when the agent has a way to get one
 * (token-manager.ts); `current` reads the token the volume holds now. Rejects when there is none
 * to give (FailedMount).
 */
export type TokenSource = (req: {
  namespace: string; serviceAccountName: string; podName: string; podUid: string;
  audience: string; expirationSeconds: number;
  current: () => Promise<string | undefined>;
}) => Promise<string>;

export interface VolumeContext {
  rootDir: string;
  objects: ObjectSource;
  downward: DownwardContext;
  tokenSource?: TokenSource;
  /** A condition worth an event that did not fail the volume (a skipped token). */
  warn(reason: string, message: string): void;
}

export interface PreparedVolume {
  hostPath: string;
  /** configMap, secret, downwardAPI and projected volumes are always mounted read-only. */
  readOnly: boolean;
}

/** <rootDir>/pods/<uid>: everything the kubelet keeps for a pod (volumes, etc-hosts, termination logs). */
export function podDir(rootDir: string, uid: string): string {
  return join(rootDir, 'pods', uid);
}

const pluginDir = (ctx: VolumeContext, pod: Pod, plugin: string, name: string): string =>
  join(podDir(ctx.rootDir, pod.metadata?.uid ?? ''), 'volumes', plugin, name);

function itemsFrom(entries: Map<string, Buffer>, items: KeyToPath[] | undefined, mode: number, what: string, optional: boolean): Map<string, PayloadFile> {
  const out = new Map<string, PayloadFile>();
  if (!items || items.length === 0) {
    for (const [k, data] of entries) out.set(k, { data, mode });
    return out;
  }
  for (const it of items) {
    const data = entries.get(it.key);
    if (data === undefined) {
      if (optional) continue;
      throw new VolumeSetupError(`${what} references non-existent config key: ${it.key}`);
    }
    out.set(it.path, { data, mode: it.mode ?? mode });
  }
  return out;
}

async function configMapFiles(ctx: VolumeContext, ns: string, src: ConfigMapProjection, mode: number): Promise<Map<string, PayloadFile>> {
  const cm = await ctx.objects.configMap(ns, src.name ?? '');
  if (!cm) {
    if (src.optional) return new Map();
    throw new VolumeSetupError(`configmap "${src.name}" not found`);
  }
  return itemsFrom(configMapEntries(cm), src.items, mode, 'configMap', src.optional ?? false);
}

async function secretFiles(ctx: VolumeContext, ns: string, name: string, src: Omit<SecretProjection, 'name'>, mode: number): Promise<Map<string, PayloadFile>> {
  const s = await ctx.objects.secret(ns, name);
  if (!s) {
    if (src.optional) return new Map();
    throw new VolumeSetupError(`secret "${name}" not found`);
  }
  return itemsFrom(secretEntries(s), src.items, mode, 'secret', src.optional ?? false);
}

function downwardFiles(pod: Pod, items: DownwardAPIVolumeFile[], mode: number, ctx: VolumeContext): Map<string, PayloadFile> {
  const out = new Map<string, PayloadFile>();
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const it of items) {
    let value: string;
    try {
      if (it.fieldRef) value = fieldRefValue(pod, it.fieldRef, ctx.downward);
      else if (it.resourceFieldRef) {
        const c = containers.find((x) => x.name === it.resourceFieldRef!.containerName) ?? containers[0];
        if (!c) continue;
        value = resourceFieldValue(c, it.resourceFieldRef, ctx.downward);
      } else continue;
    } catch (err) {
      throw new VolumeSetupError(`downwardAPI item "${it.path}": ${(err as Error).message}`, { cause: err });
    }
    out.set(it.path, { data: Buffer.from(value), mode: it.mode ?? mode });
  }
  return out;
}

async function projectedFiles(pod: Pod, vol: Volume, ctx: VolumeContext): Promise<Map<string, PayloadFile>> {
  const ns = pod.metadata?.namespace ?? '';
  const mode = vol.projected?.defaultMode ?? 0o644;
  const out = new Map<string, PayloadFile>();
  const add = (m: Map<string, PayloadFile>): void => { for (const [k, v] of m) out.set(k, v); };
  for (const src of vol.projected?.sources ?? ([] as VolumeProjection[])) {
    if (src.configMap) add(await configMapFiles(ctx, ns, src.configMap, mode));
    else if (src.secret) add(await secretFiles(ctx, ns, src.secret.name ?? '', src.secret, mode));
    else if (src.downwardAPI) add(downwardFiles(pod, src.downwardAPI.items ?? [], mode, ctx));
    else if (src.serviceAccountToken) {
      const t = src.serviceAccountToken;
      if (!ctx.tokenSource) {
        ctx.warn('TokenUnavailable', `volume "${vol.name}": no service account token is available on this node; "${t.path}" is left out`);
        continue;
      }
      let token: string;
      try {
        token = await ctx.tokenSource({
          namespace: ns, serviceAccountName: pod.spec?.serviceAccountName || 'default', podName: pod.metadata?.name ?? '',
          podUid: pod.metadata?.uid ?? '', audience: t.audience ?? '', expirationSeconds: t.expirationSeconds ?? 3600,
          current: () => readFile(join(pluginDir(ctx, pod, 'kubernetes.io~projected', vol.name), t.path), 'utf8').catch(() => undefined),
        });
      } catch (err) {
        throw new VolumeSetupError(`failed to fetch token: ${(err as Error).message}`, { cause: err });
      }
      out.set(t.path, { data: Buffer.from(token), mode });
    }
  }
  return out;
}

const hostPathChecks: Record<string, (s: Stats) => boolean> = {
  Directory: (s) => s.isDirectory(),
  File: (s) => s.isFile(),
  Socket: (s) => s.isSocket(),
  CharDevice: (s) => s.isCharacterDevice(),
  BlockDevice: (s) => s.isBlockDevice(),
};

async function hostPath(vol: Volume): Promise<string> {
  const { path, type = '' } = vol.hostPath!;
  const st = await stat(path).catch(() => undefined);
  if (type === 'DirectoryOrCreate') {
    if (!st) await mkdir(path, { recursive: true, mode: 0o755 });
    else if (!st.isDirectory()) throw new VolumeSetupError(`hostPath type check failed: ${path} is not a directory`);
  } else if (type === 'FileOrCreate') {
    if (!st) {
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      await writeFile(path, '', { mode: 0o644, flag: 'a' });
    } else if (!st.isFile()) throw new VolumeSetupError(`hostPath type check failed: ${path} is not a file`);
  } else if (hostPathChecks[type]) {
    if (!st) throw new VolumeSetupError(`hostPath type check failed: ${path} does not exist`);
    if (!hostPathChecks[type](st)) throw new VolumeSetupError(`hostPath type check failed: ${path} is not a ${type}`);
  }
  return path;
}

/**
 * Sets up (or refreshes) every volume of the pod on the host, in the kubelet's layout
 * <rootDir>/pods/<uid>/volumes/<plugin>/<name>. Called on every sync so ConfigMap/Secret changes
 * reach mounted volumes (kubelet refreshes them periodically); unchanged payloads are not rewritten.
 * Throws VolumeSetupError naming the volume (kubelet's FailedMount).
 */
export async function setUpVolumes(pod: Pod, ctx: VolumeContext): Promise<Map<string, PreparedVolume>> {
  const ns = pod.metadata?.namespace ?? '';
  const out = new Map<string, PreparedVolume>();
  for (const vol of pod.spec?.volumes ?? []) {
    try {
      out.set(vol.name, await setUpVolume(pod, ns, vol, ctx));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${vol.name}" : ${msg}`, { cause: err });
    }
  }
  return out;
}

async function setUpVolume(pod: Pod, ns: string, vol: Volume, ctx: VolumeContext): Promise<PreparedVolume> {
  if (vol.emptyDir) {
    // medium: Memory would need a tmpfs mount per pod; edgeos keeps emptyDirs on disk.
    const dir = pluginDir(ctx, pod, 'kubernetes.io~empty-dir', vol.name);
    await mkdir(dir, { recursive: true, mode: 0o777 });
    return { hostPath: dir, readOnly: false };
  }
  if (vol.hostPath) return { hostPath: await hostPath(vol), readOnly: false };
  let files: Map<string, PayloadFile>;
  let plugin: string;
  if (vol.configMap) {
    plugin = 'kubernetes.io~configmap';
    files = await configMapFiles(ctx, ns, vol.configMap, vol.configMap.defaultMode ?? 0o644);
  } else if (vol.secret) {
    plugin = 'kubernetes.io~secret';
    files = await secretFiles(ctx, ns, vol.secret.secretName ?? '', vol.secret, vol.secret.defaultMode ?? 0o644);
  } else if (vol.downwardAPI) {
    plugin = 'kubernetes.io~downward-api';
    files = downwardFiles(pod, vol.downwardAPI.items ?? [], vol.downwardAPI.defaultMode ?? 0o644, ctx);
  } else if (vol.projected) {
    plugin = 'kubernetes.io~projected';
    files = await projectedFiles(pod, vol, ctx);
  } else {
    const kind = Object.keys(vol).find((k) => k !== 'name') ?? 'unknown';
    throw new VolumeSetupError(`volume type "${kind}" is not supported by edgeos`);
  }
  const dir = pluginDir(ctx, pod, plugin, vol.name);
  await writePayload(dir, files);
  return { hostPath: dir, readOnly: true };
}

/**
 * The CRI mounts of one container from its volumeMounts. subPath must stay inside the volume; a
 * missing subPath directory is created, as the kubelet does.
 */
export async function containerMounts(container: Container, volumes: Map<string, PreparedVolume>, env: Record<string, string>): Promise<Mount[]> {
  const mounts: Mount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const vol = volumes.get(vm.name);
    if (!vol) throw new VolumeSetupError(`volumeMount "${vm.name}" of container "${container.name}" names no volume of the pod`);
    let host = vol.hostPath;
    const sub = vm.subPathExpr ? vm.subPathExpr.replace(/\$\(([^)]+)\)/g, (_m, n: string) => env[n] ?? '') : vm.subPath;
    if (sub) {
      const rel = normalize(sub);
      if (rel.startsWith('..') || rel.startsWith('/')) throw new VolumeSetupError(`subPath "${sub}" of volumeMount "${vm.name}" leaves the volume`);
      host = join(vol.hostPath, rel);
      if (!(await stat(host).catch(() => undefined))) await mkdir(host, { recursive: true, mode: 0o755 });
    }
    mounts.push({ containerPath: vm.mountPath, hostPath: host, readonly: vol.readOnly || (vm.readOnly ?? false) });
  }
  return mounts;
}

/** Removes everything the kubelet kept for a pod (after its containers are gone). */
export async function removePodDir(rootDir: string, uid: string): Promise<void> {
  if (!uid) return;
  await rm(podDir(rootDir, uid), { recursive: true, force: true });
}
