import type { Stats } from 'node:fs';
import { mkdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type {
  ConfigMapProjection, Container, DownwardAPIVolumeFile, KeyToPath, Pod, SecretProjection, Volume, VolumeProjection,
} from 'kubernetes-types/core/v1';
import type { Mount } from '../../runtime/types.ts';
import { ensureLocalVolume, localVolumeDir } from '../storage/local-volumes.ts';
import type { PayloadFile } from '../../common/atomic-file.ts';
import { writePayload } from '../../common/atomic-file.ts';
import { VolumeSetupError } from './errors.ts';
import { fieldRefValue, resourceFieldValue } from './field-ref.ts';
import type { DownwardContext } from './field-ref.ts';
import { configMapEntries, secretEntries } from './objects.ts';
import type { ClaimSource, ObjectSource } from './objects.ts';
import { setVolumeOwnership } from './volume-ownership.ts';

/**
 * A token for a projected serviceAccountToken source, when the agent has a way to get one
 * (token-manager.ts), and when to ask again; `current` reads the token the volume holds now.
 * Rejects when there is none to give (FailedMount).
 */
export type TokenSource = (req: {
  namespace: string; serviceAccountName: string; podName: string; podUid: string;
  audience: string; expirationSeconds: number;
  current: () => Promise<string | undefined>;
}) => Promise<{ token: string; refreshAt: number }>;

export interface VolumeContext {
  rootDir: string;
  nodeName: string;
  objects: ObjectSource;
  claims: ClaimSource;
  /** Volumes of this pod whose fsGroup ownership was set already (set up once per pod, as the kubelet mounts once). */
  owned: Set<string>;
  downward: DownwardContext;
  tokenSource?: TokenSource;
  /** A condition worth an event that did not fail the volume (a skipped token). */
  warn(reason: string, message: string): void;
}

export interface PreparedVolume {
  hostPath: string;
  /** configMap, secret, downwardAPI and projected volumes are always mounted read-only. */
  readOnly: boolean;
  /** When its contents must be set up again (a projected token due for renewal), in ms since the epoch. */
  refreshAt?: number;
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

async function projectedFiles(pod: Pod, vol: Volume, ctx: VolumeContext): Promise<{ files: Map<string, PayloadFile>; refreshAt?: number }> {
  const ns = pod.metadata?.namespace ?? '';
  const mode = vol.projected?.defaultMode ?? 0o644;
  const out = new Map<string, PayloadFile>();
  let refreshAt: number | undefined;
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
      let token: { token: string; refreshAt: number };
      try {
        token = await ctx.tokenSource({
          namespace: ns, serviceAccountName: pod.spec?.serviceAccountName || 'default', podName: pod.metadata?.name ?? '',
          podUid: pod.metadata?.uid ?? '', audience: t.audience ?? '', expirationSeconds: t.expirationSeconds ?? 3600,
          current: () => readFile(join(pluginDir(ctx, pod, 'kubernetes.io~projected', vol.name), t.path), 'utf8').catch(() => undefined),
        });
      } catch (err) {
        throw new VolumeSetupError(`failed to fetch token: ${(err as Error).message}`, { cause: err });
      }
      out.set(t.path, { data: Buffer.from(token.token), mode });
      refreshAt = Math.min(refreshAt ?? Infinity, token.refreshAt);
    }
  }
  return refreshAt === undefined ? { files: out } : { files: out, refreshAt };
}

const hostPathChecks: Record<string, (s: Stats) => boolean> = {
  Directory: (s) => s.isDirectory(),
  File: (s) => s.isFile(),
  Socket: (s) => s.isSocket(),
  CharDevice: (s) => s.isCharacterDevice(),
  BlockDevice: (s) => s.isBlockDevice(),
};

async function hostPath(src: { path: string; type?: string }): Promise<string> {
  const { path, type = '' } = src;
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
    await applyFsGroup(pod, vol.name, dir, false, ctx);
    return { hostPath: dir, readOnly: false };
  }
  if (vol.hostPath) return { hostPath: await hostPath(vol.hostPath), readOnly: false };
  if (vol.persistentVolumeClaim) return claimVolume(pod, ns, vol, ctx);
  let files: Map<string, PayloadFile>;
  let plugin: string;
  let refreshAt: number | undefined;
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
    ({ files, refreshAt } = await projectedFiles(pod, vol, ctx));
  } else {
    const kind = Object.keys(vol).find((k) => k !== 'name') ?? 'unknown';
    throw new VolumeSetupError(`volume type "${kind}" is not supported by edgeos`);
  }
  const dir = pluginDir(ctx, pod, plugin, vol.name);
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  // Like the kubelet's secret and configMap volumes, the files are the fsGroup's (read-only bits).
  if ((await writePayload(dir, files)) && fsGroup !== undefined) await setVolumeOwnership(dir, fsGroup, { readOnly: true });
  return refreshAt === undefined ? { hostPath: dir, readOnly: true } : { hostPath: dir, readOnly: true, refreshAt };
}

/**
 * The pod's fsGroup on a writable volume, once per pod (the kubelet does it when it mounts), with
 * the pod's fsGroupChangePolicy (emptyDir always walks, as upstream passes it no policy).
 */
async function applyFsGroup(pod: Pod, volume: string, dir: string, readOnly: boolean, ctx: VolumeContext, withPolicy = false): Promise<void> {
  const sc = pod.spec?.securityContext;
  if (sc?.fsGroup === undefined || ctx.owned.has(volume)) return;
  const policy = withPolicy && sc.fsGroupChangePolicy === 'OnRootMismatch' ? 'OnRootMismatch' : 'Always';
  await setVolumeOwnership(dir, sc.fsGroup, { readOnly, policy });
  ctx.owned.add(volume);
}

/**
 * A persistentVolumeClaim volume: the claim and its bound PersistentVolume from the agent's cache
 * (so it mounts offline too), then the volume's directory — a local volume this node holds is
 * created if missing (the node is its provisioner, docs/storage.md); any other must exist.
 */
async function claimVolume(pod: Pod, ns: string, vol: Volume, ctx: VolumeContext): Promise<PreparedVolume> {
  const src = vol.persistentVolumeClaim!;
  const claim = await ctx.claims.claim(ns, src.claimName);
  if (!claim) throw new VolumeSetupError(`persistentvolumeclaim "${src.claimName}" not found`);
  const pvName = claim.spec?.volumeName;
  if (!pvName) throw new VolumeSetupError(`error processing PVC ${ns}/${src.claimName}: PVC is not bound`);
  const pv = await ctx.claims.volume(pvName);
  if (!pv) throw new VolumeSetupError(`persistentvolume "${pvName}" not found`);
  const ref = pv.spec?.claimRef;
  if (ref?.uid && ref.uid !== claim.metadata?.uid) throw new VolumeSetupError(`persistentvolume "${pvName}" is bound to another claim`);
  const readOnly = src.readOnly ?? false;
  const local = pv.spec?.local?.path;
  if (local) {
    const own = localVolumeDir(pv, ctx.nodeName);
    if (own) await ensureLocalVolume(own);
    else if (!(await stat(local).catch(() => undefined))?.isDirectory()) throw new VolumeSetupError(`path "${local}" does not exist`);
    // The local volume plugin supports ownership management; hostPath does not (as upstream).
    await applyFsGroup(pod, vol.name, local, readOnly, ctx, true);
    return { hostPath: local, readOnly };
  }
  if (pv.spec?.hostPath) return { hostPath: await hostPath(pv.spec.hostPath), readOnly };
  const kind = Object.keys(pv.spec ?? {}).find((k) => !NOT_SOURCES.has(k)) ?? 'unknown';
  throw new VolumeSetupError(`persistentvolume "${pvName}" is of type "${kind}", which edgeos does not mount (local and hostPath volumes are)`);
}

/** PersistentVolumeSpec fields that are not a volume source. */
const NOT_SOURCES = new Set([
  'accessModes', 'capacity', 'claimRef', 'mountOptions', 'nodeAffinity', 'persistentVolumeReclaimPolicy', 'storageClassName', 'volumeAttributesClassName', 'volumeMode',
]);

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
      const leaves = () => new VolumeSetupError(`subPath "${sub}" of volumeMount "${vm.name}" leaves the volume`);
      if (rel.startsWith('..') || rel.startsWith('/')) throw leaves();
      host = join(vol.hostPath, rel);
      if (!(await stat(host).catch(() => undefined))) await mkdir(host, { recursive: true, mode: 0o755 });
      // A writable volume may hold a symbolic link a container made: the bind mount would follow
      // it out of the volume (the kubelet's subpath checks, CVE-2017-1002101).
      const root = await realpath(vol.hostPath);
      const real = await realpath(host);
      if (real !== root && !real.startsWith(`${root}/`)) throw leaves();
      host = real;
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
