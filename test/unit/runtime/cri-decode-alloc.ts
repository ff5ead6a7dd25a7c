// Run by cri-decode-alloc.test.ts in a node of its own with a 64 MB young generation, so no GC
// runs while it counts: the heap bytes decoding a 50-pod ListContainers + ListPodSandbox answer
// (what the PLEG decodes every second) allocates, against the answer's wire bytes. Prints JSON.
import { getHeapStatistics } from 'node:v8';
import { decode, encode } from '../../../src/runtime/cri/codec.ts';

const labels = (i: number): Record<string, string> => ({
  'io.kubernetes.container.name': 'main', 'io.kubernetes.pod.name': `p-${i}`, 'io.kubernetes.pod.namespace': 'bench',
  'io.kubernetes.pod.uid': `3f1c${i}-aaaa-bbbb-cccc-0123456789ab`,
});
const annotations = (i: number): Record<string, string> => ({
  'io.kubernetes.container.hash': 'abc123', 'io.kubernetes.container.restartCount': '0',
  'io.kubernetes.container.terminationMessagePath': '/dev/termination-log', 'io.kubernetes.container.terminationMessagePolicy': 'File',
  'io.kubernetes.pod.terminationGracePeriod': '0', 'edgeos.io/pod': `p-${i}`,
});
const image = `sha256:${'a'.repeat(64)}`;
const containers = Array.from({ length: 50 }, (_, i) => ({
  id: `${i}`.padStart(64, 'c'), podSandboxId: `${i}`.padStart(64, 's'), metadata: { name: 'main', attempt: 0 }, image: { image }, imageRef: image,
  state: 'CONTAINER_RUNNING', createdAt: '1796641944088123456', labels: labels(i), annotations: annotations(i),
}));
const sandboxes = Array.from({ length: 50 }, (_, i) => ({
  id: `${i}`.padStart(64, 's'), metadata: { name: `p-${i}`, uid: `3f1c${i}-aaaa`, namespace: 'bench', attempt: 0 }, state: 'SANDBOX_READY',
  createdAt: '1796641944088123456', labels: labels(i), annotations: annotations(i), runtimeHandler: '',
}));
const c = encode('ListContainersResponse', { containers });
const s = encode('ListPodSandboxResponse', { items: sandboxes });
const once = (): void => {
  decode('ListContainersResponse', c);
  decode('ListPodSandboxResponse', s);
};
for (let i = 0; i < 200; i++) once(); // warm: inline caches and feedback allocated before counting
const rounds = 50;
const before = getHeapStatistics().used_heap_size;
for (let i = 0; i < rounds; i++) once();
const after = getHeapStatistics().used_heap_size;
console.log(JSON.stringify({ bytesPerDecode: (after - before) / rounds, wireBytes: c.length + s.length }));
