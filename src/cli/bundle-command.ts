// `edgeos bundle create`: the air-gapped install bundle (docs/install.md, "Air-gapped install").
import { Command } from 'commander';
import type { RawBundleFlags } from './bundle/options.ts';
import { collect } from './config-file.ts';

export function bundleCommand(): Command {
  const bundle = new Command('bundle').description('Build the air-gapped install bundle');
  bundle
    .command('create')
    .description('Write one .tar.gz with edgeos, install.sh, containerd, runc, the CNI plugins, images and manifests, for a machine without network')
    .option('--arch <arch>', "amd64 or arm64 (default: this machine's)")
    .option('--image <file>', 'a docker-archive or OCI image tar (.tar, .tar.gz, .tar.zst) imported at first start, repeatable', collect)
    .option('--manifest <file>', 'a .yaml, .yml or .json manifest install.sh puts into the server\'s manifests folder (applied at start), repeatable', collect)
    .option('--output <file>', 'the archive to write (default ./edgeos-bundle-<version>-linux-<arch>.tar.gz)')
    .option('--binary <file>', 'the edgeos executable to ship (default: edgeos-linux-<arch> beside this executable, or dist/ of the source checkout)')
    .option('--debs <dir>', "take containerd, runc and containernetworking-plugins from the .deb files in this directory (default: this machine's installed packages for its own arch, apt-get download for the other)")
    .action(async (flags: RawBundleFlags) => {
      const [{ createBundle }, { resolveBundleOptions }, { createLogger }, { buildInfo }] = await Promise.all([
        import('./bundle/create.ts'),
        import('./bundle/options.ts'),
        import('../common/log.ts'),
        import('./build-info.ts'),
      ]);
      const opts = resolveBundleOptions(flags, buildInfo.version);
      // A person at a terminal gets a progress line; anything else gets structured log lines.
      const tty = process.stderr.isTTY ? process.stderr : undefined;
      const log = createLogger({ level: process.env.EDGEOS_LOG_LEVEL ?? (tty ? 'warn' : 'info') });
      const r = await createBundle(opts, log, tty);
      process.stdout.write(`wrote ${r.output} (${(r.size / 1e6).toFixed(1)} MB, ${r.files.length} files)\n`
        + `install on the target: tar -xzf ${r.output.split('/').pop()} && ./${r.output.split('/').pop()!.replace(/\.(tar\.gz|tgz)$/, '')}/install.sh\n`);
    });
  return bundle;
}
