import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/common/errors.ts';
import { resolveRuntimeConfig } from '../../src/runtime/config.ts';
import { hasCapSysResource } from '../../src/runtime/containerd/capabilities.ts';
import { applyTemplate, renderContainerdConfig } from '../../src/runtime/containerd/config-toml.ts';
import type { ContainerdConfigInput } from '../../src/runtime/containerd/config-toml.ts';
import { parseRegistries } from '../../src/runtime/containerd/registries.ts';
import { containerdEnv } from '../../src/runtime/containerd/supervisor.ts';

const cfg = resolveRuntimeConfig({ dataDir: '/var/lib/edgeos' });

const k3sExample = `
mirrors:
  docker.io:
    endpoint:
      - "https://mirror.example.com:5000"
  "registry.local:5000":
    endpoint: ["http://registry.local:5000"]
configs:
  "mirror.example.com:5000":
    auth:
      username: edge
      password: "p\\"w"
    tls:
      ca_file: /etc/ssl/mirror-ca.pem
      insecure_skip_verify: false
`;

async function input(restrict: boolean): Promise<ContainerdConfigInput> {
  return { paths: cfg.containerd!, cni: cfg.cni, sandboxImage: cfg.pauseImage, registries: await parseRegistries('r.yaml', k3sExample), restrictOomScoreAdj: restrict };
}

describe('registries.yaml (K3s format)', () => {
  it('reads mirrors and configs', async () => {
    const r = await parseRegistries('r.yaml', k3sExample);
    expect(r.mirrors['docker.io']).toEqual({ endpoints: ['https://mirror.example.com:5000'] });
    expect(r.configs['mirror.example.com:5000']).toEqual({
      auth: { username: 'edge', password: 'p"w', auth: undefined, identityToken: undefined },
      tls: { caFile: '/etc/ssl/mirror-ca.pem', certFile: undefined, keyFile: undefined, insecureSkipVerify: false },
    });
  });

  it.each([
    ['mirrors: [1]', 'mirrors: must be a mapping'],
    ['mirrors: { docker.io: { endpoint: ["ftp://x"] } }', 'mirrors.docker.io.endpoint'],
    ['mirrors: { docker.io: { endpoint: ["https://x"], rewrite: { a: b } } }', 'rewrite'],
    ['configs: { h: { tls: { insecure_skip_verify: "yes" } } }', 'configs.h.tls.insecure_skip_verify'],
    ['configs: { h: { auth: { username: 3 } } }', 'configs.h.auth.username'],
    ['mirrors: {', 'not valid YAML'],
  ])('rejects %s naming %s', async (text, where) => {
    await expect(parseRegistries('/etc/edgeos/registries.yaml', text)).rejects.toThrow(InvalidInputError);
    await expect(parseRegistries('/etc/edgeos/registries.yaml', text)).rejects.toThrow(where);
  });
});

describe('containerd config', () => {
  it('isolates the instance and carries CNI, sandbox image, mirrors and auth', async () => {
    const toml = renderContainerdConfig(await input(true));
    expect(toml).toContain('root = "/var/lib/edgeos/agent/containerd/root"');
    expect(toml).toContain('address = "/var/lib/edgeos/agent/containerd/containerd.sock"');
    expect(toml).toContain('address = "/var/lib/edgeos/agent/containerd/containerd.sock.ttrpc"');
    expect(toml).toContain('Root = "/var/lib/edgeos/agent/containerd/state/runc"');
    expect(toml).toContain('SystemdCgroup = false');
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('sandbox_image = "edgeos.local/pause:1"');
    expect(toml).toContain('conf_dir = "/var/lib/edgeos/agent/etc/cni/net.d"');
    expect(toml).toContain('[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n  endpoint = ["https://mirror.example.com:5000"]');
    expect(toml).toContain('[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example.com:5000".auth]\n  username = "edge"\n  password = "p\\"w"');
    expect(toml).toContain('ca_file = "/etc/ssl/mirror-ca.pem"');
    expect(renderContainerdConfig(await input(false))).toContain('restrict_oom_score_adj = false');
  });

  it('lets a user template replace or extend the generated config', async () => {
    const base = renderContainerdConfig(await input(true));
    const out = applyTemplate('{{ base }}\n[plugins."x"]\n  root = "{{root}}"\n  keep = "{{unknown}}"\n', await input(true), base);
    expect(out.startsWith(base)).toBe(true);
    expect(out).toContain('root = "/var/lib/edgeos/agent/containerd/root"');
    expect(out).toContain('keep = "{{unknown}}"');
  });

  it("gives containerd (and so its shims) GOGC=25 unless the user set GOGC", () => {
    expect(containerdEnv({ PATH: '/usr/bin' })).toEqual({ PATH: '/usr/bin', GOGC: '25' });
    expect(containerdEnv({ PATH: '/usr/bin', GOGC: '100' })).toEqual({ PATH: '/usr/bin', GOGC: '100' });
    expect(containerdEnv({ GOGC: 'off' }).GOGC).toBe('off');
  });

  it('reads CAP_SYS_RESOURCE from CapEff bit 24', () => {
    expect(hasCapSysResource('CapEff:\t000001fffeffffff\n')).toBe(false);
    expect(hasCapSysResource('CapEff:\t000001ffffffffff\n')).toBe(true);
    expect(hasCapSysResource('CapEff:\t0000000001000000\n')).toBe(true);
    expect(hasCapSysResource('nothing')).toBe(false);
  });
});
