// Restarts against a real containerd: CrashLoopBackOff with growing back-off, a failing liveness
// probe, an image change, restartPolicy Never/OnFailure outcomes, and graceful deletion through a
// deletionTimestamp (kubelet stops the containers, then reports the pod terminated).
import { writeFileSync } from 'node:fs';
import type { Pod } from 'kubernetes-types/core/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podUidLabel } from '../../../src/agent/kubelet/labels.ts';
import { busyboxArchive } from '../../fixtures/images/busybox-image.ts';
import { makePod, podJson, until } from './helpers.ts';
import { busyboxImage, startNode } from './node-harness.ts';
import type { TestNode } from './node-harness.ts';

let node: TestNode;

beforeAll(async () => {
  node = await startNode('restarts', '10.231.42.0/24', 'eostest-kl2');
}, 120_000);

afterAll(async () => {
  await node?.teardown();
}, 120_000);

const uidOf = (p: Pod): string => p.metadata!.uid!;
const status = (p: Pod) => node.sink.latest(uidOf(p));

describe('kubelet on containerd: restarts', () => {
  it('restarts a crashing container with growing back-off and reports CrashLoopBackOff', async () => {
    const pod = makePod('crash', node.nodeName, {
      containers: [{ name: 'c', image: busyboxImage, command: ['sh', '-c', 'echo crashing; exit 3'] }],
    });
    await node.cache.put('Pod', podJson(pod));
    const s = await until('restartCount 2', () => {
      const st = status(pod)?.containerStatuses?.[0];
      return st && st.restartCount >= 2 && st.state?.waiting?.reason === 'CrashLoopBackOff' ? st : undefined;
    }, 90_000);
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(s.state?.waiting?.message).toMatch(/^back-off (10|20)s restarting failed container=c pod=crash_default\(/);
    expect(status(pod)?.phase).toBe('Running');
    expect(node.sink.reasons(uidOf(pod))).toContain('BackOff');

    // Instance 0 is restarted at once, instance 1 only after the 10 s back-off.
    const all = node.sink.statuses.get(uidOf(pod))!;
    const startedOf = (n: number): number => {
      const t = all.map((x) => x.containerStatuses?.[0]).find((x) => x?.restartCount === n && (x.state?.running || x.state?.terminated || x.lastState?.terminated));
      const at = t?.state?.running?.startedAt ?? t?.state?.terminated?.startedAt ?? t?.lastState?.terminated?.startedAt;
      return at ? Date.parse(at) : NaN;
    };
    const gap1 = startedOf(1) - startedOf(0);
    const gap2 = startedOf(2) - startedOf(1);
    expect(gap1).toBeLessThan(8000);
    expect(gap2).toBeGreaterThanOrEqual(9000);

    // Garbage collection keeps the newest instance and the newest exited one (logs --previous).
    const instances = await node.rt.listContainers({ labelSelector: { [podUidLabel]: uidOf(pod) } });
    expect(instances.length).toBeLessThanOrEqual(2);
    const newest = instances.sort((a, b) => b.attempt - a.attempt)[0]!;
    const lines: string[] = [];
    for await (const e of node.rt.readLogs(newest.id, {})) lines.push(e.content);
    expect(lines).toEqual(['crashing\n']);
    await node.cache.delete('Pod', 'default', 'crash');
  });

  it('restarts a container whose liveness probe fails', async () => {
    const pod = makePod('live', node.nodeName, {
      containers: [{
        name: 'c', image: busyboxImage, command: ['sleep', '3600'],
        livenessProbe: { exec: { command: ['sh', '-c', 'test ! -f /tmp/dead'] }, periodSeconds: 1, failureThreshold: 2 },
      }],
    });
    await node.cache.put('Pod', podJson(pod));
    const first = await until('running', () => { const c = status(pod)?.containerStatuses?.[0]; return c?.state?.running ? c : undefined; }, 60_000);
    await node.rt.execSync(first.containerID!.replace('containerd://', ''), ['touch', '/tmp/dead'], 10);
    const second = await until('restarted', () => {
      const c = status(pod)?.containerStatuses?.[0];
      return c?.restartCount === 1 && c.state?.running ? c : undefined;
    }, 60_000);
    expect(second.containerID).not.toBe(first.containerID);
    expect(second.lastState?.terminated?.exitCode).toBe(137);
    const events = node.sink.events.filter((e) => e.involvedObject.uid === uidOf(pod));
    expect(events.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed'))).toBe(true);
    expect(events.some((e) => e.reason === 'Killing' && e.message === 'Container c failed liveness probe, will be restarted')).toBe(true);
    // The new instance has no /tmp/dead: it stays up.
    await new Promise((r) => setTimeout(r, 4000));
    expect(status(pod)?.containerStatuses?.[0]?.restartCount).toBe(1);
    await node.cache.delete('Pod', 'default', 'live');
  });

  it('restarts a container when its image changes, and only then', async () => {
    writeFileSync(`${node.dir}/agent/images/busybox2.tar`, busyboxArchive('edgeos.test/busybox:2'));
    await node.rt.importImages();
    const pod = makePod('img', node.nodeName, { containers: [{ name: 'c', image: busyboxImage, command: ['sleep', '3600'] }] });
    await node.cache.put('Pod', podJson(pod));
    const first = await until('running', () => { const c = status(pod)?.containerStatuses?.[0]; return c?.state?.running ? c : undefined; }, 60_000);
    // A change the kubelet cannot apply in place (command) is not applied.
    await node.cache.put('Pod', podJson({ ...pod, spec: { ...pod.spec!, containers: [{ ...pod.spec!.containers[0]!, command: ['sleep', '7200'] }] } }));
    await new Promise((r) => setTimeout(r, 3000));
    expect(status(pod)?.containerStatuses?.[0]?.containerID).toBe(first.containerID);
    await node.cache.put('Pod', podJson({ ...pod, spec: { ...pod.spec!, containers: [{ ...pod.spec!.containers[0]!, image: 'edgeos.test/busybox:2' }] } }));
    const second = await until('new image running', () => {
      const c = status(pod)?.containerStatuses?.[0];
      return c?.image === 'edgeos.test/busybox:2' && c.state?.running && c.containerID !== first.containerID ? c : undefined;
    }, 60_000);
    expect(second.restartCount).toBe(1);
    expect(node.sink.events.some((e) => e.involvedObject.uid === uidOf(pod) && e.message === 'Container c definition changed, will be restarted')).toBe(true);
    await node.cache.delete('Pod', 'default', 'img');
  });

  it('ends restartPolicy Never and OnFailure pods in Succeeded or Failed', async () => {
    const never = makePod('never', node.nodeName, { restartPolicy: 'Never', containers: [{ name: 'c', image: busyboxImage, command: ['sh', '-c', 'echo bad > /dev/termination-log; exit 4'] }] });
    const onFailure = makePod('onfail', node.nodeName, { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: busyboxImage, command: ['true'] }] });
    await node.cache.put('Pod', podJson(never));
    await node.cache.put('Pod', podJson(onFailure));
    const failed = await until('Failed', () => (status(never)?.phase === 'Failed' ? status(never) : undefined), 60_000);
    expect(failed.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 4, reason: 'Error', message: 'bad\n' });
    expect(failed.containerStatuses?.[0]?.restartCount).toBe(0);
    const ok = await until('Succeeded', () => (status(onFailure)?.phase === 'Succeeded' ? status(onFailure) : undefined), 60_000);
    expect(ok.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('PodCompleted');
    // Terminal pods keep no running sandbox.
    await until('sandboxes stopped', async () => (await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uidOf(never) }, state: 'ready' })).length === 0, 30_000);
    await node.cache.delete('Pod', 'default', 'never');
    await node.cache.delete('Pod', 'default', 'onfail');
  });

  it('stops a pod with a deletionTimestamp within its grace period and reports it terminated', async () => {
    const pod = makePod('bye', node.nodeName, {
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'c', image: busyboxImage, command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"] }],
    });
    await node.cache.put('Pod', podJson(pod));
    await until('running', () => status(pod)?.containerStatuses?.[0]?.state?.running, 60_000);
    const started = Date.now();
    await node.cache.put('Pod', podJson({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 30 } }));
    await until('terminated reported', () => node.sink.terminated.includes(uidOf(pod)), 60_000);
    // The container handled SIGTERM: far quicker than the 30 s grace period.
    expect(Date.now() - started).toBeLessThan(20_000);
    const s = status(pod)!;
    expect(s.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    expect(s.phase).toBe('Succeeded');
    await node.cache.delete('Pod', 'default', 'bye');
    await until('sandbox removed', async () => (await node.rt.listPodSandboxes({ labelSelector: { [podUidLabel]: uidOf(pod) } })).length === 0, 30_000);
  });
});
