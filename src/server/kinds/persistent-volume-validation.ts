/**
 * The field rules of core/v1 PersistentVolumeClaim and PersistentVolume that go beyond metadata
 * (ValidatePersistentVolumeClaim(Update), ValidatePersistentVolumeSpec/Update): access modes, what
 * may change after creation, one volume source, a `local` volume's path and node affinity.
 */
import { list, map, str } from './access.ts';
import { forbidden, immutable, invalid, notSupported, required } from './field-errors.ts';
import type { FieldError } from './types.ts';
import { parseQuantity } from '../../common/quantity.ts';

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

export function validateAccessModes(modes: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const all = list(modes).map(String);
  if (all.length === 0) errs.push(required(path, 'at least 1 access mode is required'));
  for (const m of all) if (!ACCESS_MODES.includes(m)) errs.push(notSupported(path, m, ACCESS_MODES));
  return errs;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * ValidatePersistentVolumeClaimUpdate: the spec is fixed once created, but for what binding and
 * the default class fill in (volumeName while empty, storageClassName while unset) and a larger
 * storage request.
 */
export function validateClaimUpdate(spec: Record<string, unknown>, old: Record<string, unknown>): FieldError[] {
  const rest = (s: Record<string, unknown>) => {
    const r: Record<string, unknown> = { ...s };
    delete r.resources;
    delete r.volumeAttributesClassName;
    if (!str(old.volumeName)) delete r.volumeName;
    if (old.storageClassName === undefined || old.storageClassName === null) delete r.storageClassName;
    return r;
  };
  if (!same(rest(spec), rest(old))) {
    return [forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')];
  }
  const was = map(map(old.resources)?.requests)?.storage;
  const now = map(map(spec.resources)?.requests)?.storage;
  if (was !== undefined && now !== undefined && !same(was, now) && quantityBytes(now) < quantityBytes(was)) {
    return [forbidden('spec.resources.requests.storage', 'field can not be less than previous value')];
  }
  return [];
}

function quantityBytes(q: unknown): number {
  try {
    return parseQuantity(q as string);
  } catch {
    return 0;
  }
}

/** The volume sources of a PersistentVolume (PersistentVolumeSource's members). */
const VOLUME_SOURCES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'csi', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk',
  'glusterfs', 'hostPath', 'iscsi', 'local', 'nfs', 'photonPersistentDisk', 'portworxVolume', 'quobyte', 'rbd', 'scaleIO', 'storageos', 'vsphereVolume',
];

/** ValidatePersistentVolumeSpec's source rules, and ValidatePersistentVolumeUpdate's immutable fields. */
export function validateVolumeSpec(spec: Record<string, unknown>, old: Record<string, unknown> | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const sources = VOLUME_SOURCES.filter((k) => spec[k] !== undefined && spec[k] !== null);
  if (sources.length === 0) errs.push(required('spec', 'must specify a volume type'));
  else if (sources.length > 1) errs.push(forbidden(`spec.${sources[1]}`, 'may not specify more than 1 volume type'));
  const local = map(spec.local);
  if (local) {
    const path = str(local.path) ?? '';
    if (!path) errs.push(required('spec.local.path'));
    else if (!path.startsWith('/')) errs.push(invalid('spec.local.path', path, 'must be an absolute path'));
    else if (path.split('/').includes('..')) errs.push(invalid('spec.local.path', path, "must not contain '..'"));
    if (!old && !map(map(spec.nodeAffinity)?.required)) errs.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (!old) return errs;
  const oldSources = Object.fromEntries(VOLUME_SOURCES.map((k) => [k, old[k]]));
  const newSources = Object.fromEntries(VOLUME_SOURCES.map((k) => [k, spec[k]]));
  if (!same(newSources, oldSources)) errs.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  if (old.volumeMode !== undefined && !same(spec.volumeMode, old.volumeMode)) errs.push(immutable('spec.volumeMode', spec.volumeMode));
  if (old.nodeAffinity && !same(spec.nodeAffinity, old.nodeAffinity)) errs.push(immutable('spec.nodeAffinity', spec.nodeAffinity));
  return errs;
}
