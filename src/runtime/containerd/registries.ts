import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../../common/errors.ts';

/**
 * K3s's registries.yaml, the format edge users already write:
 *   mirrors: { "docker.io": { endpoint: ["https://mirror:5000"] } }
 *   configs: { "mirror:5000": { auth: {username, password, auth, identity_token},
 *                               tls: {ca_file, cert_file, key_file, insecure_skip_verify} } }
 * K3s's `rewrite` needs containerd's hosts.toml (config_path), which conflicts with the inline
 * mirrors containerd 1.6 reads from config.toml; it is rejected rather than silently ignored.
 */
export interface RegistryMirror {
  endpoints: string[];
}

export interface RegistryHostConfig {
  auth?: { username?: string; password?: string; auth?: string; identityToken?: string };
  tls?: { caFile?: string; certFile?: string; keyFile?: string; insecureSkipVerify?: boolean };
}

export interface Registries {
  mirrors: Record<string, RegistryMirror>;
  configs: Record<string, RegistryHostConfig>;
}

function fail(file: string, where: string, message: string): never {
  throw new InvalidInputError(`--private-registry ${file}: ${where}: ${message}`);
}

function record(file: string, where: string, v: unknown): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(file, where, 'must be a mapping');
  return v as Record<string, unknown>;
}

function str(file: string, where: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(file, where, 'must be a string');
  return v;
}

/**
 * Parses and validates the file's text; `file` is only for messages. The YAML parser loads here, not
 * with the runtime: most devices have no registries.yaml, and the agent would keep it resident.
 */
export async function parseRegistries(file: string, text: string): Promise<Registries> {
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new InvalidInputError(`--private-registry ${file}: not valid YAML`, { cause: err });
  }
  const top = record(file, 'top level', doc);
  const mirrors: Record<string, RegistryMirror> = {};
  for (const [host, raw] of Object.entries(record(file, 'mirrors', top.mirrors))) {
    const m = record(file, `mirrors.${host}`, raw);
    if (m.rewrite !== undefined) fail(file, `mirrors.${host}.rewrite`, 'rewrites are not supported by edgeos yet');
    const ep = m.endpoint ?? [];
    if (!Array.isArray(ep) || ep.some((e) => typeof e !== 'string' || !/^https?:\/\//.test(e))) {
      fail(file, `mirrors.${host}.endpoint`, 'must be a list of http:// or https:// URLs');
    }
    mirrors[host] = { endpoints: ep as string[] };
  }
  const configs: Record<string, RegistryHostConfig> = {};
  for (const [host, raw] of Object.entries(record(file, 'configs', top.configs))) {
    const c = record(file, `configs.${host}`, raw);
    const cfg: RegistryHostConfig = {};
    if (c.auth !== undefined) {
      const a = record(file, `configs.${host}.auth`, c.auth);
      cfg.auth = {
        username: str(file, `configs.${host}.auth.username`, a.username),
        password: str(file, `configs.${host}.auth.password`, a.password),
        auth: str(file, `configs.${host}.auth.auth`, a.auth),
        identityToken: str(file, `configs.${host}.auth.identity_token`, a.identity_token),
      };
    }
    if (c.tls !== undefined) {
      const t = record(file, `configs.${host}.tls`, c.tls);
      const skip = t.insecure_skip_verify;
      if (skip !== undefined && typeof skip !== 'boolean') fail(file, `configs.${host}.tls.insecure_skip_verify`, 'must be true or false');
      cfg.tls = {
        caFile: str(file, `configs.${host}.tls.ca_file`, t.ca_file),
        certFile: str(file, `configs.${host}.tls.cert_file`, t.cert_file),
        keyFile: str(file, `configs.${host}.tls.key_file`, t.key_file),
        insecureSkipVerify: skip,
      };
    }
    configs[host] = cfg;
  }
  return { mirrors, configs };
}

/** Reads the file; a missing file means no private registries (the common case). */
export async function loadRegistries(file: string): Promise<Registries> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { mirrors: {}, configs: {} };
    throw new InvalidInputError(`--private-registry ${file}: cannot read`, { cause: err });
  }
  return parseRegistries(file, text);
}
