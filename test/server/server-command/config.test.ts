import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/common/errors.ts';
import { resolveServerConfig } from '../../../src/server/config.ts';
import type { RawServerFlags } from '../../../src/server/config.ts';

function badInput(raw: RawServerFlags, env: Record<string, string> = {}): string {
  try {
    resolveServerConfig(raw, env);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as Error).message;
  }
  throw new Error('expected resolveServerConfig to fail');
}

describe('resolveServerConfig', () => {
  it('applies the defaults', () => {
    const c = resolveServerConfig({}, {});
    expect(c).toMatchObject({
      dataDir: '/var/lib/edgeos',
      bindAddress: '0.0.0.0',
      httpsListenPort: 6443,
      advertiseAddress: undefined,
      tlsSans: [],
      kubeconfigPath: '/etc/edgeos/kubeconfig.yaml',
      kubeconfigMode: 0o600,
      disableAgent: false,
      logLevel: 'info',
      apiServerUrl: 'https://127.0.0.1:6443',
      paths: { serverDir: '/var/lib/edgeos/server', tlsDir: '/var/lib/edgeos/server/tls', dbFile: '/var/lib/edgeos/server/db/state.db' },
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.paths)).toBe(true);
    expect(Object.isFrozen(c.tlsSans)).toBe(true);
  });

  it('reads EDGEOS_* variables and lets flags win over them', () => {
    const env = {
      EDGEOS_DATA_DIR: '/srv/edge',
      EDGEOS_HTTPS_LISTEN_PORT: '7443',
      EDGEOS_TLS_SAN: 'a.example.com, 10.1.1.1',
      EDGEOS_DISABLE_AGENT: 'true',
      EDGEOS_WRITE_KUBECONFIG_MODE: '644',
      EDGEOS_LOG_LEVEL: 'debug',
    };
    const fromEnv = resolveServerConfig({}, env);
    expect(fromEnv).toMatchObject({ dataDir: '/srv/edge', httpsListenPort: 7443, tlsSans: ['a.example.com', '10.1.1.1'], disableAgent: true, kubeconfigMode: 0o644, logLevel: 'debug' });
    const flags = resolveServerConfig({ dataDir: 'rel/dir', httpsListenPort: '8443', tlsSan: ['b.example.com'], disableAgent: false }, env, '/home/me');
    expect(flags).toMatchObject({ dataDir: '/home/me/rel/dir', httpsListenPort: 8443, tlsSans: ['b.example.com'], disableAgent: false });
  });

  it('accepts IPv6 bind and advertise addresses, and points the kubeconfig at a specific bind address', () => {
    expect(resolveServerConfig({ bindAddress: '::' }, {}).apiServerUrl).toBe('https://127.0.0.1:6443');
    const c = resolveServerConfig({ bindAddress: '::1', advertiseAddress: '[fd00::1]', httpsListenPort: '9443' }, {});
    expect(c).toMatchObject({ bindAddress: '::1', advertiseAddress: 'fd00::1', apiServerUrl: 'https://[::1]:9443' });
  });

  it('names the flag of a bad port', () => {
    expect(badInput({ httpsListenPort: '70000' })).toBe('--https-listen-port: "70000" is not a TCP port (1-65535)');
    expect(badInput({ httpsListenPort: '0' })).toMatch(/^--https-listen-port: /);
    expect(badInput({ httpsListenPort: '64x' })).toMatch(/^--https-listen-port: /);
    expect(badInput({}, { EDGEOS_HTTPS_LISTEN_PORT: '-1' })).toMatch(/^EDGEOS_HTTPS_LISTEN_PORT: /);
  });

  it('names the flag of a bad address', () => {
    expect(badInput({ bindAddress: 'localhost' })).toBe('--bind-address: "localhost" is not an IPv4 or IPv6 address');
    expect(badInput({ advertiseAddress: '10.0.0' })).toMatch(/^--advertise-address: /);
    expect(badInput({}, { EDGEOS_BIND_ADDRESS: 'x' })).toMatch(/^EDGEOS_BIND_ADDRESS: /);
  });

  it('names the flag of a bad certificate name', () => {
    expect(badInput({ tlsSan: ['ok.example.com', 'bad name'] })).toBe('--tls-san: "bad name" is neither an IP address nor a DNS name');
    expect(badInput({}, { EDGEOS_TLS_SAN: 'a,_b' })).toMatch(/^EDGEOS_TLS_SAN: /);
  });

  it('names the flag of other bad values', () => {
    expect(badInput({ writeKubeconfigMode: '999' })).toMatch(/^--write-kubeconfig-mode: /);
    expect(badInput({ writeKubeconfig: ' ' })).toBe('--write-kubeconfig: must not be empty');
    expect(badInput({ dataDir: '' })).toBe('--data-dir: must not be empty');
    expect(badInput({ logLevel: 'loud' })).toMatch(/^--log-level: "loud" is not one of trace, debug/);
    expect(badInput({}, { EDGEOS_DISABLE_AGENT: 'maybe' })).toMatch(/^EDGEOS_DISABLE_AGENT: /);
  });

  it("takes the local agent's --cgroup-root from the flag or EDGEOS_CGROUP_ROOT and refuses a path that is not one", () => {
    expect(resolveServerConfig({}, {}).cgroupRoot).toBeUndefined();
    expect(resolveServerConfig({ cgroupRoot: '/edge/pods' }, { EDGEOS_CGROUP_ROOT: '/other' }).cgroupRoot).toBe('/edge/pods');
    expect(resolveServerConfig({}, { EDGEOS_CGROUP_ROOT: '/other' }).cgroupRoot).toBe('/other');
    expect(badInput({ cgroupRoot: 'kubepods' })).toBe('--cgroup-root: "kubepods" is not an absolute cgroup path (/ or /a/b of [A-Za-z0-9_.-])');
    expect(badInput({}, { EDGEOS_CGROUP_ROOT: '/a/../b' })).toBe('EDGEOS_CGROUP_ROOT: "/a/../b" must not contain . or .. segments');
  });

  it("takes the local agent's EDGEOS_POD_START_CONCURRENCY and refuses what is not 0 or a positive integer", () => {
    expect(resolveServerConfig({}, {}).podStartConcurrency).toBeUndefined();
    expect(resolveServerConfig({}, { EDGEOS_POD_START_CONCURRENCY: '4' }).podStartConcurrency).toBe(4);
    expect(resolveServerConfig({}, { EDGEOS_POD_START_CONCURRENCY: '0' }).podStartConcurrency).toBe(Infinity);
    expect(badInput({}, { EDGEOS_POD_START_CONCURRENCY: '2.5' })).toBe('EDGEOS_POD_START_CONCURRENCY: "2.5" is not accepted (0 = unbounded, or a positive integer)');
  });

  it("takes the local agent's --sync-frequency as the agent does and refuses what is not a duration of at least 1s", () => {
    expect(resolveServerConfig({}, {}).syncFrequencyMs).toBeUndefined();
    expect(resolveServerConfig({ syncFrequency: '90s' }, { EDGEOS_SYNC_FREQUENCY: '2m' }).syncFrequencyMs).toBe(90_000);
    expect(resolveServerConfig({}, { EDGEOS_SYNC_FREQUENCY: '2m' }).syncFrequencyMs).toBe(120_000);
    expect(badInput({ syncFrequency: '500ms' })).toBe('--sync-frequency: "500ms" is not a duration of at least 1s such as 1m or 90s');
    expect(badInput({}, { EDGEOS_SYNC_FREQUENCY: 'often' })).toBe('EDGEOS_SYNC_FREQUENCY: "often" is not a duration of at least 1s such as 1m or 90s');
  });

  it("takes the local agent's --pod-network-backend as the agent does: auto by default, vxlan forces VXLAN, anything else named", () => {
    expect(resolveServerConfig({}, {}).podNetworkBackend).toBe('auto');
    expect(resolveServerConfig({ podNetworkBackend: 'vxlan' }, { EDGEOS_POD_NETWORK_BACKEND: 'auto' }).podNetworkBackend).toBe('vxlan');
    expect(resolveServerConfig({}, { EDGEOS_POD_NETWORK_BACKEND: 'vxlan' }).podNetworkBackend).toBe('vxlan');
    expect(badInput({ podNetworkBackend: 'host-gw' })).toBe('--pod-network-backend: "host-gw" is not a pod network backend: one of auto, vxlan (auto: native routing to nodes on a shared subnet, VXLAN to the others; vxlan: VXLAN to every node)');
  });

  it('resolves the cluster network as K3s does and names the flag of a bad value', () => {
    expect(resolveServerConfig({}, {}).network).toEqual({ clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 24, serviceCidr: '10.43.0.0/16', clusterDns: '10.43.0.10', clusterDomain: 'cluster.local', nodePortRange: { min: 30000, max: 32767 } });
    expect(badInput({ clusterCidr: '10.42.0.0' })).toMatch(/^--cluster-cidr: "10.42.0.0" is not an IPv4 CIDR/);
    expect(badInput({ clusterCidr: '10.43.0.0/17' })).toBe('--cluster-cidr: 10.43.0.0/17 overlaps --service-cidr 10.43.0.0/16');
    expect(badInput({}, { EDGEOS_NODE_CIDR_MASK_SIZE: '30' })).toMatch(/^EDGEOS_NODE_CIDR_MASK_SIZE: "30" must be a prefix length between 16 \(--cluster-cidr\) and 29/);
    // Sized for 10,000 nodes: /8 in /24s holds 65,536 (a cluster CIDR apart from the Service CIDR), /16 in /29s 8,192.
    expect(resolveServerConfig({ clusterCidr: '10.0.0.0/8', serviceCidr: '172.16.0.0/16' }, {}).network).toMatchObject({ clusterCidr: '10.0.0.0/8', nodeCidrMaskSize: 24 });
    expect(resolveServerConfig({ clusterCidr: '10.128.0.0/9', nodeCidrMaskSize: '25' }, {}).network).toMatchObject({ clusterCidr: '10.128.0.0/9', nodeCidrMaskSize: 25 });
    expect(badInput({ clusterCidr: '10.0.0.0/8', serviceCidr: '172.16.0.0/16', nodeCidrMaskSize: '25' })).toBe(
      '--node-cidr-mask-size: /25 splits --cluster-cidr 10.0.0.0/8 into 131072 node blocks; at most 65536 are allowed (a mask size up to 24), as kube-controller-manager allows',
    );
    expect(badInput({ clusterCidr: '10.0.0.0/8', serviceCidr: '172.16.0.0/16' }, { EDGEOS_NODE_CIDR_MASK_SIZE: '26' })).toMatch(/^EDGEOS_NODE_CIDR_MASK_SIZE: \/26 splits --cluster-cidr 10.0.0.0\/8 into 262144 node blocks/);
    expect(badInput({ clusterCidr: '10.0.0.0/8' })).toBe('--cluster-cidr: 10.0.0.0/8 overlaps --service-cidr 10.43.0.0/16');
    // The DNS address follows the Service CIDR unless given.
    expect(resolveServerConfig({ serviceCidr: '10.96.5.0/24' }, {}).network.clusterDns).toBe('10.96.5.10');
    expect(resolveServerConfig({}, { EDGEOS_SERVICE_NODE_PORT_RANGE: '31000-31999', EDGEOS_CLUSTER_DOMAIN: 'Edge.Local.' }).network).toMatchObject({ clusterDomain: 'edge.local', nodePortRange: { min: 31000, max: 31999 } });
    expect(badInput({ serviceCidr: '10.43.0.0/33' })).toMatch(/^--service-cidr: "10.43.0.0\/33" is not an IPv4 CIDR/);
    expect(badInput({ clusterDns: '10.44.0.10' })).toBe('--cluster-dns: 10.44.0.10 must be inside --service-cidr 10.43.0.0/16 and not its first address (the kubernetes Service\'s)');
    expect(badInput({}, { EDGEOS_CLUSTER_DNS: '10.43.0.1' })).toMatch(/^EDGEOS_CLUSTER_DNS: /);
    expect(badInput({ serviceNodePortRange: '32767-30000' })).toMatch(/^--service-node-port-range: "32767-30000" is not a port range/);
  });
});

describe('resolveServerConfig: --datastore-endpoint', () => {
  const secret = 'S3cr%40t-pw';
  it('parses a PostgreSQL endpoint from the flag or EDGEOS_DATASTORE_ENDPOINT, keeping the password out of sight', () => {
    expect(resolveServerConfig({}, {}).datastore).toBeUndefined();
    const c = resolveServerConfig({ datastoreEndpoint: `postgres://edge:${secret}@db.example.com:6432/k3s?sslmode=verify-full` }, {});
    expect(c.datastore?.endpoint).toMatchObject({ from: '--datastore-endpoint', host: 'db.example.com', port: 6432, database: 'k3s', user: 'edge', sslmode: 'verify-full' });
    expect(c.datastore?.endpoint.password).toBe('S3cr@t-pw');
    // Serializing or inspecting the configuration never shows the password.
    expect(JSON.stringify(c)).not.toContain('S3cr');
    expect(inspect(c, { depth: 10 })).not.toContain('S3cr');
    const env = resolveServerConfig({}, { EDGEOS_DATASTORE_ENDPOINT: 'postgresql://edge@10.0.0.5/?host=/run/postgresql' });
    expect(env.datastore?.endpoint).toMatchObject({ from: 'EDGEOS_DATASTORE_ENDPOINT', host: '/run/postgresql', port: 5432, database: 'edgeos' });
    const files = resolveServerConfig(
      { datastoreEndpoint: 'postgres://edge@db/x', datastoreCafile: 'ca.pem', datastorePasswordFile: '/run/secrets/pg' },
      {},
      '/etc/edgeos',
    );
    expect(files.datastore?.files).toEqual({ caFile: { path: '/etc/edgeos/ca.pem', from: '--datastore-cafile' }, passwordFile: { path: '/run/secrets/pg', from: '--datastore-password-file' } });
  });

  it('names the flag of a bad endpoint and never quotes the URL', () => {
    const cases: Array<[string, RegExp]> = [
      [`mysql://root:${secret}@db/x`, /^--datastore-endpoint: mysql:\/\/ is not supported/],
      [`db.example.com:5432`, /^--datastore-endpoint: expected a URL such as postgres:\/\//],
      [`postgres://edge:${secret}@db:0/x`, /^--datastore-endpoint: port "0" is not a TCP port/],
      [`postgres://edge:${secret}@db:99999/x`, /^--datastore-endpoint: is not a valid URL \(special characters in the password must be percent-encoded/],
      [`postgres://edge:${secret}@db/x?sslmode=allow`, /^--datastore-endpoint: sslmode "allow" is not one of disable, prefer, require, verify-ca, verify-full/],
      [`postgres://edge:${secret}@db/x?sslmod=disable`, /^--datastore-endpoint: unknown parameter "sslmod"/],
      [`postgres://:${secret}@db/x`, /^--datastore-endpoint: has no user name/],
      [`postgres://edge:${secret}@db/x?connect_timeout=0`, /^--datastore-endpoint: connect_timeout "0"/],
    ];
    for (const [url, want] of cases) {
      const msg = badInput({ datastoreEndpoint: url });
      expect(msg, url).toMatch(want);
      expect(msg).not.toContain('S3cr');
    }
    expect(badInput({}, { EDGEOS_DATASTORE_ENDPOINT: 'etcd://x' })).toMatch(/^EDGEOS_DATASTORE_ENDPOINT: etcd:\/\/ is not supported/);
  });

  it('refuses datastore files without an endpoint, and a password given twice', () => {
    expect(badInput({ datastoreCafile: '/ca.pem' })).toBe('--datastore-cafile: only applies with --datastore-endpoint (EDGEOS_DATASTORE_ENDPOINT)');
    expect(badInput({ datastoreEndpoint: `postgres://edge:${secret}@db/x`, datastorePasswordFile: '/pw' })).toBe(
      '--datastore-password-file: the endpoint (--datastore-endpoint) already has a password; give it in one place only',
    );
  });
});

describe('resolveServerConfig: --token / --token-file (a cluster of servers)', () => {
  const endpoint = 'postgres://edge:pw@db/x';
  it('takes the server token from the flag, the variable or a file, only with a datastore', () => {
    const token = 'a-server-token-0123456789';
    expect(resolveServerConfig({ datastoreEndpoint: endpoint }, {}).serverToken).toBeUndefined();
    expect(resolveServerConfig({ datastoreEndpoint: endpoint, token }, {}).serverToken).toEqual({ value: token, from: '--token' });
    expect(resolveServerConfig({ datastoreEndpoint: endpoint }, { EDGEOS_TOKEN: ` ${token}\n` }).serverToken).toEqual({ value: token, from: 'EDGEOS_TOKEN' });
    expect(resolveServerConfig({ datastoreEndpoint: endpoint, tokenFile: 'tok' }, {}, '/etc/edgeos').serverToken).toEqual({ file: '/etc/edgeos/tok', from: '--token-file' });
    const paths = resolveServerConfig({ dataDir: '/d' }, {}).paths;
    expect([paths.serverTokenFile, paths.serverIdFile]).toEqual(['/d/server/server-token', '/d/server/server-id']);
  });

  it('refuses a token without a datastore, a token given twice, and a short one, never quoting it', () => {
    expect(badInput({ token: 'a-server-token-0123456789' })).toBe(
      '--token: only applies with --datastore-endpoint (EDGEOS_DATASTORE_ENDPOINT): servers share a cluster through its datastore',
    );
    expect(badInput({ datastoreEndpoint: endpoint, token: 'a-server-token-0123456789', tokenFile: '/t' })).toBe('--token-file: give the server token once: --token or --token-file');
    const short = badInput({ datastoreEndpoint: endpoint }, { EDGEOS_TOKEN: 'hunter2' });
    expect(short).toMatch(/^EDGEOS_TOKEN: the server token must be at least 16 characters without spaces/);
    expect(short).not.toContain('hunter2');
  });
});
