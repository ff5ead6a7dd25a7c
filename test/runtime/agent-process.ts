// Stand-in for an agent process, for takeover.test.ts: starts the runtime on the data dir given in
// argv, prints containerd's pid, then waits to be killed (and leaves containerd behind).
import { silentLogger } from '../../src/common/log.ts';
import { createContainerRuntime, resolveRuntimeConfig } from '../../src/runtime/index.ts';

const [dataDir, podCidr, cniBridge] = process.argv.slice(2) as [string, string, string];
const rt = createContainerRuntime(resolveRuntimeConfig({ dataDir, podCidr, cniBridge, privateRegistry: `${dataDir}/registries.yaml` }), { log: silentLogger() });
void rt.start(new AbortController().signal).then(() => {
  console.log(`containerd ${rt.containerdPid()}`);
  setInterval(() => {}, 1 << 30);
});
