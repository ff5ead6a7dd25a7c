// The file-system checks resolveServerConfig (pure) leaves to start-up, each failing with an error
// that names the flag to change.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidInputError, errorMessage } from '../common/errors.ts';
import type { ServerConfig } from './config.ts';

/** Creates the server's directories and checks the kubeconfig can be written. */
export function preflight(config: ServerConfig): void {
  const dirFlag = '--data-dir';
  try {
    if (!statSync(config.dataDir).isDirectory()) {
      throw new InvalidInputError(`${dirFlag}: ${config.dataDir} exists and is not a directory`);
    }
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidInputError(`${dirFlag}: cannot use ${config.dataDir}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    mkdirSync(config.paths.tlsDir, { recursive: true, mode: 0o700 });
    mkdirSync(dirname(config.paths.dbFile), { recursive: true, mode: 0o700 });
    accessSync(config.paths.serverDir, constants.W_OK);
  } catch (err) {
    throw new InvalidInputError(`${dirFlag}: cannot create or write ${config.paths.serverDir}: ${errorMessage(err)}`, { cause: err });
  }
  const kubeconfigDir = dirname(config.kubeconfigPath);
  try {
    mkdirSync(kubeconfigDir, { recursive: true });
    accessSync(kubeconfigDir, constants.W_OK);
  } catch (err) {
    throw new InvalidInputError(`--write-kubeconfig: cannot create or write the directory ${kubeconfigDir}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    if (statSync(config.kubeconfigPath).isDirectory()) {
      throw new InvalidInputError(`--write-kubeconfig: ${config.kubeconfigPath} is a directory; name a file`);
    }
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
  }
}
