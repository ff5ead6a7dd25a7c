// The behaviour every ContainerRuntime must share, run against the CRI runtime over a real
// containerd (containerd.test.ts) and against the fake the agent's unit tests use
// (fake-runtime.test.ts), so the fake cannot drift from the real thing.
import { describe, expect, it } from 'vitest';
import { RuntimeAlreadyExistsError, RuntimeNotFoundError } from '../../src/runtime/errors.ts';
import type { ContainerRuntime, PodSandboxConfig } from '../../src/runtime/types.ts';

export function describeRuntimeConformance(name: string, get: () => ContainerRuntime, image: string): void {
  let seq = 0;
  const sandbox = (): PodSandboxConfig => {
    seq++;
    return {
      metadata: { name: `conf-${seq}`, uid: `conf-uid-${process.pid}-${seq}`, namespace: 'conformance', attempt: 0 },
      labels: { suite: 'conformance', seq: String(seq) },
    };
  };

  describe(`ContainerRuntime conformance: ${name}`, () => {
    it('runs, lists, stops and removes a sandbox; removal is idempotent', async () => {
      const rt = get();
      const cfg = sandbox();
      const sid = await rt.runPodSandbox(cfg);
      expect((await rt.podSandboxStatus(sid)).state).toBe('ready');
      const listed = await rt.listPodSandboxes({ labelSelector: { seq: cfg.labels!.seq! } });
      expect(listed.map((s) => s.id)).toEqual([sid]);
      expect(listed[0]!.metadata).toEqual(cfg.metadata);
      expect(listed[0]!.createdAtMs).toBeGreaterThan(Date.now() - 600_000);
      await rt.stopPodSandbox(sid);
      expect((await rt.podSandboxStatus(sid)).state).toBe('notready');
      expect(await rt.listPodSandboxes({ id: sid, state: 'ready' })).toEqual([]);
      await rt.removePodSandbox(sid);
      await rt.removePodSandbox(sid);
      await expect(rt.podSandboxStatus(sid)).rejects.toBeInstanceOf(RuntimeNotFoundError);
    });

    it('refuses a second sandbox with the same metadata', async () => {
      const rt = get();
      const cfg = sandbox();
      const sid = await rt.runPodSandbox(cfg);
      await expect(rt.runPodSandbox(cfg)).rejects.toBeInstanceOf(RuntimeAlreadyExistsError);
      await rt.stopPodSandbox(sid);
      await rt.removePodSandbox(sid);
    });

    it('takes a container from created to running to exited to removed', async () => {
      const rt = get();
      const cfg = sandbox();
      const sid = await rt.runPodSandbox(cfg);
      const cid = await rt.createContainer(sid, { name: 'main', image, command: ['sleep', '3600'], labels: { role: 'main' } }, cfg);
      expect((await rt.containerStatus(cid)).state).toBe('created');
      await rt.startContainer(cid);
      const running = await rt.containerStatus(cid);
      expect(running.state).toBe('running');
      expect(running.startedAtMs).toBeGreaterThan(0);
      expect((await rt.execSync(cid, ['true'], 30)).exitCode).toBe(0);
      const listed = await rt.listContainers({ podSandboxId: sid, labelSelector: { role: 'main' } });
      expect(listed.map((c) => [c.id, c.podSandboxId, c.name, c.state])).toEqual([[cid, sid, 'main', 'running']]);
      await expect(rt.createContainer(sid, { name: 'main', image }, cfg)).rejects.toBeInstanceOf(RuntimeAlreadyExistsError);
      await rt.stopContainer(cid, 0);
      const exited = await rt.containerStatus(cid);
      expect(exited.state).toBe('exited');
      expect(exited.finishedAtMs).toBeGreaterThanOrEqual(exited.startedAtMs);
      await rt.removeContainer(cid);
      await expect(rt.containerStatus(cid)).rejects.toBeInstanceOf(RuntimeNotFoundError);
      await rt.stopPodSandbox(sid);
      await rt.removePodSandbox(sid);
    });

    it('names unknown ids and images as not found', async () => {
      const rt = get();
      const unknown = 'f'.repeat(64);
      await expect(rt.containerStatus(unknown)).rejects.toBeInstanceOf(RuntimeNotFoundError);
      await expect(rt.podSandboxStatus(unknown)).rejects.toBeInstanceOf(RuntimeNotFoundError);
      expect(await rt.imageStatus('edgeos.test/never-imported:1')).toBeUndefined();
      expect((await rt.listImages()).some((i) => i.repoTags.includes(image))).toBe(true);
    });
  });
}
