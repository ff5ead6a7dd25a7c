// The fake the agent's unit tests use must behave like the real runtime (conformance suite) and
// its test controls must do what they say.
import { beforeEach, describe, expect, it } from 'vitest';
import { ImageNotFoundError } from '../../src/runtime/errors.ts';
import { FakeRuntime } from '../../src/runtime/fake-runtime.ts';
import { describeRuntimeConformance } from './conformance.ts';

const image = 'edgeos.test/busybox:1';
let fake: FakeRuntime;

beforeEach(() => {
  fake = new FakeRuntime();
  fake.registry.add(image);
  return fake.pullImage(image).then(() => undefined);
});

describeRuntimeConformance('FakeRuntime', () => fake, image);

describe('FakeRuntime controls', () => {
  it('pulls only what its registry has, and scripts execs, logs and exits', async () => {
    await expect(fake.pullImage('edgeos.test/other:1')).rejects.toBeInstanceOf(ImageNotFoundError);
    const cfg = { metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 0 } };
    const sid = await fake.runPodSandbox(cfg);
    expect((await fake.podSandboxStatus(sid)).ip).toMatch(/^10\.88\.0\.\d+$/);
    const cid = await fake.createContainer(sid, { name: 'c', image }, cfg);
    await fake.startContainer(cid);
    fake.execHandler = (_id, cmd) => ({ stdout: Buffer.from(cmd.join(' ')), stderr: Buffer.alloc(0), exitCode: 7 });
    const r = await fake.execSync(cid, ['echo', 'x'], 5);
    expect([r.stdout.toString(), r.exitCode]).toEqual(['echo x', 7]);
    fake.writeLog(cid, 'a');
    fake.writeLog(cid, 'b', 'stderr');
    const lines: string[] = [];
    for await (const e of fake.readLogs(cid, { tailLines: 1 })) lines.push(e.content);
    expect(lines).toEqual(['b\n']);
    fake.exit(cid, 0);
    expect(await fake.containerStatus(cid)).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed' });
    expect(fake.calls.map((c) => c.method)).toEqual(['pullImage', 'pullImage', 'runPodSandbox', 'createContainer', 'startContainer', 'execSync']);
  });
});
