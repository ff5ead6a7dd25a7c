// The CRI codec against what a real containerd sends: the raw response bytes of a running pod's
// RPCs, decoded by cri/codec.ts and by protobufjs reflection with proto-loader's options (what
// the runtime used before the codec), must give the same objects. The requests are the codec's
// own, so containerd accepting them and answering about the right pod proves the encoder too.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelOptions, criRpcs, endpointAddress } from '../../src/runtime/cri/client.ts';
import { decode } from '../../src/runtime/cri/codec.ts';
import { referenceDecode } from '../unit/runtime/cri-reference.ts';
import { busyboxImage, startTestRuntime } from './harness.ts';
import type { TestRuntime } from './harness.ts';

let t: TestRuntime;
let raw: grpc.Client;

beforeAll(async () => {
  t = await startTestRuntime('codec', { podCidr: '10.231.13.0/24', cniBridge: 'eostest-cc0' });
  raw = new grpc.Client(endpointAddress(t.config.endpoint), grpc.credentials.createInsecure(), channelOptions);
}, 120_000);

afterAll(async () => {
  raw?.close();
  await t?.teardown();
}, 120_000);

/** The response's bytes as containerd sent them, for a request the codec encoded. */
function rawCall(method: string, request: object): Promise<Buffer> {
  const rpc = criRpcs.get(method)!;
  return new Promise((resolve, reject) => {
    raw.makeUnaryRequest(rpc.path, rpc.serialize, (b: Buffer) => b, request, new grpc.Metadata(), { deadline: Date.now() + 30_000 },
      (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

describe('CRI codec on containerd responses', () => {
  it('decodes what containerd sends exactly as protobufjs + proto-loader did', async () => {
    const metadata = { name: 'codec-pod', uid: `codec-uid-${process.pid}`, namespace: 'test', attempt: 1 };
    const sandbox = { metadata, labels: { app: 'codec', 'ünï': '✓' }, annotations: { note: 'x' }, portMappings: [{ protocol: 'TCP' as const, containerPort: 80, hostPort: 0 }] };
    const sid = await t.rt.runPodSandbox(sandbox);
    const cid = await t.rt.createContainer(sid, {
      name: 'main', image: busyboxImage, command: ['sh', '-c', 'echo out; echo err >&2; sleep 3600'], env: { A: 'b' }, attempt: 2,
      resources: { memoryLimitBytes: 64 * 1024 * 1024, cpuShares: 256 },
    }, sandbox);
    await t.rt.startContainer(cid);

    const calls: [string, object][] = [
      ['Version', { version: 'v1' }],
      ['Status', { verbose: false }],
      ['ListPodSandbox', { filter: { labelSelector: { app: 'codec' } } }],
      ['PodSandboxStatus', { podSandboxId: sid, verbose: true }],
      ['ListContainers', { filter: { podSandboxId: sid, state: { state: 'CONTAINER_RUNNING' } } }],
      ['ContainerStatus', { containerId: cid, verbose: true }],
      ['ExecSync', { containerId: cid, cmd: ['sh', '-c', 'printf "a\\0b"; echo e >&2; exit 3'], timeout: 10 }],
      ['ContainerStats', { containerId: cid }],
      ['ListContainerStats', { filter: { podSandboxId: sid } }],
      ['ListImages', { filter: null }],
      ['ImageStatus', { image: { image: busyboxImage }, verbose: false }],
      ['ImageFsInfo', {}],
      ['Exec', { containerId: cid, cmd: ['true'], stdout: true }],
      ['PortForward', { podSandboxId: sid, port: [80] }],
    ];
    const decoded: Record<string, Record<string, unknown>> = {};
    for (const [method, req] of calls) {
      const bytes = await rawCall(method, req);
      decoded[method] = decode(`${method}Response`, bytes);
      expect(decoded[method], method).toEqual(referenceDecode(`${method}Response`, bytes));
    }

    // And the objects say what the requests asked for, in the shapes cri/wire.ts declares.
    expect(decoded.ListPodSandbox!.items).toEqual([expect.objectContaining({
      id: sid, metadata, state: 'SANDBOX_READY', labels: expect.objectContaining({ app: 'codec', 'ünï': '✓' }) as unknown,
    })]);
    expect((decoded.PodSandboxStatus!.status as { createdAt: string }).createdAt).toMatch(/^1\d{18}$/);
    expect((decoded.PodSandboxStatus!.info as Record<string, string>).info).toBeTypeOf('string'); // verbose
    expect(decoded.ListContainers!.containers).toEqual([expect.objectContaining({
      id: cid, podSandboxId: sid, metadata: { name: 'main', attempt: 2 }, state: 'CONTAINER_RUNNING',
    })]);
    expect(decoded.ContainerStatus!.status).toEqual(expect.objectContaining({ id: cid, state: 'CONTAINER_RUNNING', exitCode: 0, finishedAt: '0' }));
    expect(decoded.ExecSync).toEqual({ stdout: Buffer.from('a\0b'), stderr: Buffer.from('e\n'), exitCode: 3 });
    const stats = decoded.ContainerStats!.stats as { attributes: { id: string }; memory: { workingSetBytes: { value: string } } };
    expect(stats.attributes.id).toBe(cid);
    expect(stats.memory.workingSetBytes.value).toMatch(/^[1-9]\d*$/);
    expect((decoded.ListImages!.images as { repoTags: string[] }[]).some((i) => i.repoTags.includes(busyboxImage))).toBe(true);
    expect((decoded.Exec!.url as string)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\//);
  });
});
