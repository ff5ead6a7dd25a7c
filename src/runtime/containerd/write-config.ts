import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic-file.ts';
import type { Logger } from '../../common/log.ts';
import type { RuntimeConfig } from '../config.ts';
import { hasCapSysResource } from './capabilities.ts';
import { applyTemplate, renderContainerdConfig } from './config-toml.ts';
import { loadRegistries } from './registries.ts';

/** Writes <dir>/config.toml (mode 0600: it may carry registry passwords) and returns its path. */
export async function writeContainerdConfig(config: RuntimeConfig, log: Logger): Promise<string> {
  const paths = config.containerd;
  if (!paths) throw new Error('writeContainerdConfig: no private containerd configured');
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const registries = await loadRegistries(config.registriesFile);
  const restrictOomScoreAdj = !hasCapSysResource();
  const input = { paths, cni: config.cni, sandboxImage: config.pauseImage, registries, restrictOomScoreAdj };
  let text = renderContainerdConfig(input);
  let template: string | undefined;
  try {
    template = await readFile(paths.templateFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (template !== undefined) text = applyTemplate(template, input, text);
  writeFileAtomic(paths.configFile, text, 0o600);
  log.info({
    configFile: paths.configFile,
    template: template !== undefined,
    restrictOomScoreAdj,
    mirrors: Object.keys(registries.mirrors),
    registryConfigs: Object.keys(registries.configs),
  }, 'containerd config written');
  return paths.configFile;
}
