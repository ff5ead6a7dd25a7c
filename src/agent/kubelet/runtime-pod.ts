import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { RuntimeNotFoundError } from '../../runtime/errors.ts';
import type { ContainerRuntime, ContainerStatus, PodSandbox } from '../../runtime/types.ts';
import { podUidLabel, terminationMessagePolicyAnnotation } from './labels.ts';
import { podDir } from './volumes.ts';

export interface RuntimeContainer extends ContainerStatus {
  podSandboxId: string;
}

/** What the runtime holds for one pod: its sandboxes (newest first) and all their containers. */
export interface RuntimePod {
  sandboxes: PodSandbox[];
  containers: RuntimeContainer[];
  /** The newest sandbox, when it is ready (kubelet only starts containers in that one). */
  current: PodSandbox | undefined;
  /** The current sandbox's IP ('' with host network or when there is no current sandbox). */
  podIP: string;
}

const newestFirst = <T extends { attempt: number; createdAtMs: number }>(a: T, b: T): number =>
  b.attempt - a.attempt || b.createdAtMs - a.createdAtMs;

/** The newest instance of each container name, among `containers`. */
export function latestByName(containers: RuntimeContainer[]): Map<string, RuntimeContainer> {
  const out = new Map<string, RuntimeContainer>();
  for (const c of [...containers].sort(newestFirst)) if (!out.has(c.name)) out.set(c.name, c);
  return out;
}

/** All instances of a container name, newest first. */
export function instancesOf(containers: RuntimeContainer[], name: string): RuntimeContainer[] {
  return containers.filter((c) => c.name === name).sort(newestFirst);
}

/** The termination-message file the kubelet mounts into a container instance. */
export function terminationLogFile(rootDir: string, uid: string, name: string, attempt: number): string {
  return join(podDir(rootDir, uid), 'containers', name, String(attempt));
}

async function readTermination(file: string): Promise<string> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString();
  } finally {
    await fh.close();
  }
}

/**
 * kubelet's GetPodStatus for one pod uid: list its sandboxes and containers by label and inspect
 * each container. The termination message of an exited container comes from the file it wrote
 * (terminationMessagePath), or with FallbackToLogsOnError from the tail of its log.
 */
export async function inspectPod(runtime: ContainerRuntime, rootDir: string, uid: string): Promise<RuntimePod> {
  const sel = { labelSelector: { [podUidLabel]: uid } };
  const [sandboxes, listed] = await Promise.all([runtime.listPodSandboxes(sel), runtime.listContainers(sel)]);
  sandboxes.sort((a, b) => b.metadata.attempt - a.metadata.attempt || b.createdAtMs - a.createdAtMs);
  const containers: RuntimeContainer[] = [];
  for (const c of listed) {
    try {
      const st = await runtime.containerStatus(c.id);
      const full: RuntimeContainer = { ...st, podSandboxId: c.podSandboxId };
      if (full.state === 'exited' && !full.message) {
        full.message = await readTermination(terminationLogFile(rootDir, uid, c.name, c.attempt));
        if (!full.message && full.exitCode !== 0 && full.annotations[terminationMessagePolicyAnnotation] === 'FallbackToLogsOnError') {
          full.message = await logTail(runtime, c.id);
        }
      }
      containers.push(full);
    } catch (err) {
      if (!(err instanceof RuntimeNotFoundError)) throw err;
    }
  }
  const newest = sandboxes[0];
  const current = newest?.state === 'ready' ? newest : undefined;
  let podIP = '';
  if (current) {
    try {
      podIP = (await runtime.podSandboxStatus(current.id)).ip;
    } catch (err) {
      if (!(err instanceof RuntimeNotFoundError)) throw err;
    }
  }
  return { sandboxes, containers, current, podIP };
}

/** kubelet: the last 80 lines, at most 2 KiB, of a failed container's log. */
async function logTail(runtime: ContainerRuntime, id: string): Promise<string> {
  let out = '';
  try {
    for await (const e of runtime.readLogs(id, { tailLines: 80 })) out += e.content;
  } catch {
    return '';
  }
  return out.length > 2048 ? out.slice(out.length - 2048) : out;
}
