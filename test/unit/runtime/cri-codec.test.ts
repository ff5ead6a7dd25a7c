import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../../src/runtime/cri/codec.ts';
import { criMessages } from '../../../src/runtime/cri/schema.ts';
import { toWireContainerConfig, toWireSandboxConfig } from '../../../src/runtime/cri/convert.ts';
import { referenceDecode, referenceEncode } from './cri-reference.ts';

const sandbox = {
  metadata: { name: 'web-0', uid: '3f1c-uid', namespace: 'default', attempt: 2 },
  hostname: 'web-0',
  logDirectory: '/var/log/pods/default_web-0_3f1c-uid',
  dnsConfig: { servers: ['10.43.0.10'], searches: ['default.svc.cluster.local', ''], options: ['ndots:5'] },
  portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '127.0.0.1' }, { protocol: 'TCP', containerPort: 80, hostPort: 0, hostIp: '' }],
  labels: { 'io.kubernetes.pod.uid': '3f1c-uid', empty: '' },
  annotations: { 'ünïcode/✓': 'välue ✓' },
  linux: {
    cgroupParent: '/kubepods/pod3f1c',
    sysctls: { 'net.ipv4.ip_forward': '1' },
    securityContext: {
      namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' },
      runAsUser: { value: 0 },
      supplementalGroups: [1, '2', 4_000_000_000, -5],
      runAsGroup: { value: '65534' },
    },
  },
};

describe('CRI codec', () => {
  it('encodes requests as proto-loader did: the reference decodes both to the same object', () => {
    const requests: [string, object][] = [
      ['RunPodSandboxRequest', { config: sandbox, runtimeHandler: '' }],
      ['CreateContainerRequest', {
        podSandboxId: 'abc',
        config: toWireContainerConfig({
          name: 'main', image: 'busybox:1', command: ['sh', '-c'], args: ['echo hi', ''], env: { A: '1', B: '' }, attempt: 3,
          mounts: [{ containerPath: '/data', hostPath: '/var/lib/x', readonly: true }],
          resources: { cpuPeriod: 100_000, cpuQuota: 50_000, cpuShares: 512, memoryLimitBytes: 2 ** 40, oomScoreAdj: -997 },
          security: { runAsUser: 1000, runAsGroup: 0, privileged: true, addCapabilities: ['NET_ADMIN'], readonlyRootfs: true, pidNamespace: 'POD' },
        }, { metadata: sandbox.metadata, hostNetwork: true }),
        sandboxConfig: toWireSandboxConfig({ metadata: sandbox.metadata }, '/logs'),
      }],
      ['StopContainerRequest', { containerId: 'c1', timeout: 30 }],
      ['ExecSyncRequest', { containerId: 'c1', cmd: ['cat', '/etc/hostname'], timeout: '9007199254740993' }],
      ['PortForwardRequest', { podSandboxId: 's', port: [80, 8080, 0] }],
      ['ListContainersRequest', { filter: { state: { state: 'CONTAINER_CREATED' }, labelSelector: { app: 'x' } } }],
      ['ListContainersRequest', { filter: { id: '', state: { state: 1 }, podSandboxId: 'p' } }],
      ['ListPodSandboxRequest', { filter: null }],
      ['PullImageRequest', { image: { image: 'reg:5000/a:b' }, auth: { username: 'u', password: 'p', serverAddress: 'https://reg:5000' }, sandboxConfig: null }],
      ['VersionRequest', { version: 'v1' }],
      ['ImageFsInfoRequest', {}],
    ];
    for (const [name, req] of requests) {
      const ours = encode(name, req);
      expect(referenceDecode(name, ours), name).toEqual(referenceDecode(name, referenceEncode(name, req)));
    }
  });

  it('decodes responses as proto-loader did, defaults and all', () => {
    const responses: [string, object][] = [
      ['ListPodSandboxResponse', { items: [
        { id: 's1', metadata: sandbox.metadata, state: 1, createdAt: '1732262400123456789', labels: { a: 'b' }, annotations: {}, runtimeHandler: '' },
        {},
      ] }],
      ['ContainerStatusResponse', { status: {
        id: 'c', metadata: { name: 'main', attempt: 4 }, state: 2, createdAt: '-1', startedAt: '9223372036854775807', finishedAt: '-9223372036854775808',
        exitCode: -1, image: { image: 'busybox' }, imageRef: 'sha256:x', reason: 'Error', message: 'm', logPath: 'main/4.log',
        mounts: [{ containerPath: '/x', hostPath: '/y', readonly: true, selinuxRelabel: false }],
      }, info: { k: 'v' } }],
      ['ListContainerStatsResponse', { stats: [{
        attributes: { id: 'c', metadata: { name: 'main' }, labels: { l: '1' } },
        cpu: { timestamp: '1', usageCoreNanoSeconds: { value: '18446744073709551615' }, usageNanoCores: null },
        memory: { timestamp: '2', workingSetBytes: { value: '1048576' }, usageBytes: { value: '0' } },
        writableLayer: { usedBytes: { value: '4096' }, fsId: { mountpoint: '/m' } },
      }] }],
      ['ListImagesResponse', { images: [{ id: 'sha256:a', repoTags: ['a:1', ''], repoDigests: [], size: '5000000000', pinned: true, uid: { value: '0' } }] }],
      ['ExecSyncResponse', { stdout: Buffer.from('hello\n'), stderr: Buffer.alloc(0), exitCode: 3 }],
      ['StatusResponse', { status: { conditions: [{ type: 'RuntimeReady', status: true }, { type: 'NetworkReady', status: false, reason: 'r', message: 'm' }] } }],
      ['VersionResponse', {}],
      ['PodSandboxStatusResponse', { status: { network: { ip: '10.42.0.5', additionalIps: [{ ip: 'fd00::5' }] }, state: 0 } }],
    ];
    for (const [name, res] of responses) {
      const bytes = Buffer.from(referenceEncode(name, res));
      expect(decode(name, bytes), name).toEqual(referenceDecode(name, bytes));
    }
  });

  it('decodes 64-bit values at the edges of its two-halves reading as proto-loader does', () => {
    // The decoder reads a varint64 as 28 + 36 bits and only makes a BigInt from 2^53 on.
    const edges = ['0', '1', '268435455', '268435456', '9007199254740991', '9007199254740992', '9007199254740993',
      '1796641944088123456', '-1', '-268435456', '-9007199254740993', '9223372036854775807', '-9223372036854775808'];
    for (const v of edges) {
      const name = 'ContainerStatusResponse';
      const bytes = Buffer.from(referenceEncode(name, { status: { id: 'c', createdAt: v, startedAt: v.replace('-', '') } }));
      const got = decode(name, bytes) as { status: { createdAt: string; startedAt: string } };
      expect(got, v).toEqual(referenceDecode(name, bytes));
      expect(got.status.createdAt).toBe(v);
    }
    const stats = Buffer.from(referenceEncode('ListContainerStatsResponse', { stats: [{ cpu: { usageCoreNanoSeconds: { value: '18446744073709551615' } } }] }));
    expect(decode('ListContainerStatsResponse', stats)).toEqual(referenceDecode('ListContainerStatsResponse', stats));
  });

  it('round-trips every message of the schema with every field set', () => {
    const valueFor = (type: string, i: number): unknown => {
      switch (type) {
        case 'string': return `s${i} ✓`;
        case 'bool': return true;
        case 'int32': return -i - 1;
        case 'uint32': return 4_000_000_000 + i;
        case 'int64': return `-${i + 1}000000000000000000`;
        case 'uint64': return `1${i}000000000000000000`;
        case 'bytes': return Buffer.from([0, 255, i]);
        case 'map': return { [`k${i}`]: `v${i}`, '': '' };
        case 'Protocol': return 'SCTP';
        case 'NamespaceMode': return 'TARGET';
        case 'PodSandboxState': return 'SANDBOX_NOTREADY';
        case 'ContainerState': return 'CONTAINER_UNKNOWN';
        case 'ProfileType': return 'Localhost';
        default: return {}; // a nested message: empty but present
      }
    };
    for (const [name, fields] of Object.entries(criMessages)) {
      const obj = Object.fromEntries(Object.entries(fields).map(([f, [, type, rep]], i) => {
        const v = valueFor(type, i);
        return [f, rep ? [v, v] : v];
      }));
      const bytes = encode(name, obj);
      expect(decode(name, bytes), name).toEqual(referenceDecode(name, bytes));
      expect(referenceDecode(name, bytes), name).toEqual(referenceDecode(name, referenceEncode(name, obj)));
    }
  });

  it('skips fields the trimmed schema does not know, of every wire type', () => {
    // VersionResponse { version = 1 } plus unknown fields 9 (varint), 10 (fixed64), 11 (bytes), 12 (fixed32).
    const bytes = Buffer.from([
      0x48, 0x96, 0x01,
      0x51, 1, 2, 3, 4, 5, 6, 7, 8,
      0x5a, 3, 0x61, 0x62, 0x63,
      0x65, 1, 2, 3, 4,
      0x0a, 2, 0x76, 0x31,
    ]);
    expect(decode('VersionResponse', bytes)).toEqual({ version: 'v1', runtimeName: '', runtimeVersion: '', runtimeApiVersion: '' });
  });

  it('reads repeated numbers packed and unpacked, and keeps an enum number it does not know', () => {
    // PortForwardRequest.port = 2: unpacked 80, then packed [443, 1].
    const ports = Buffer.from([0x0a, 1, 0x73, 0x10, 80, 0x12, 3, 0xbb, 0x03, 0x01]);
    expect(decode('PortForwardRequest', ports)).toEqual({ podSandboxId: 's', port: [80, 443, 1] });
    // ContainerStateValue.state = 7
    expect(decode('ContainerStateValue', Buffer.from([0x08, 7]))).toEqual({ state: 7 });
  });

  it('refuses malformed input instead of guessing', () => {
    expect(() => decode('VersionResponse', Buffer.from([0x0a, 5, 0x61]))).toThrow(/past the end/);
    expect(() => decode('VersionResponse', Buffer.from([0x0a]))).toThrow(/truncated/);
    expect(() => decode('VersionResponse', Buffer.from([0x08, 1]))).toThrow(/wire type 0/);
    expect(() => encode('ListContainersRequest', { filter: { state: { state: 'RUNNING' } } })).toThrow(/RUNNING is not a ContainerState/);
    expect(() => encode('ExecSyncRequest', { cmd: 'ls' })).toThrow(/ExecSyncRequest.cmd: array expected/);
    expect(() => encode('StopContainerRequest', { timeout: 'soon' })).toThrow(/integer expected/);
  });
});
