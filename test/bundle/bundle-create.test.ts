// `edgeos bundle create` from source: what the archive holds and what its manifest says, and that
// every refusal names its cause and leaves nothing behind (no archive, no temporary file).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pauseImageArchive } from '../../src/runtime/images/pause-image.ts';
import { tarArchive } from '../../src/runtime/images/tar-writer.ts';
import { busyboxArchive } from '../fixtures/images/busybox-image.ts';
import { cleanEnv, root, sharedSea } from '../build/sea-harness.ts';

const main = join(root, 'src/cli/main.ts');
const APT_CACHE = '/var/cache/apt/archives';
const PACKAGES = ['containerd', 'runc', 'containernetworking-plugins'];
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const dpkgVersion = (pkg: string) => spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' }).stdout;
const TOOL_PACKAGES = ['nftables', 'conntrack', 'ethtool'];
const hasDpkgRuntime = process.arch === 'x64' && [...PACKAGES, ...TOOL_PACKAGES].every((p) => spawnSync('dpkg-query', ['-W', p]).status === 0);
/**
 * The shared libraries nft, conntrack, ethtool and runc load, as the system's loader resolves them
 * (ldd: an independent reading of what the bundle's DT_NEEDED walk finds), without glibc's own.
 */
function toolLibraries(): string[] {
  const names = new Set<string>();
  for (const exe of ['/usr/sbin/nft', '/usr/sbin/conntrack', '/usr/sbin/ethtool', '/usr/sbin/runc']) {
    for (const line of spawnSync('ldd', [exe], { encoding: 'utf8' }).stdout.split('\n')) {
      const name = line.trim().split(' ')[0];
      if (name && !/^(linux-vdso|\/lib64\/ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so)/.test(name)) names.add(name);
    }
  }
  return [...names].sort();
}

interface Run { status: number | null; stdout: string; stderr: string }

function bundleCreate(args: string[], cwd: string): Run {
  const r = spawnSync(process.execPath, [main, 'bundle', 'create', ...args], { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 180_000, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.runIf(hasDpkgRuntime)('edgeos bundle create', () => {
  let tmp: string;
  let exe: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'edgeos-bundle-create-'));
    exe = sharedSea(join(tmp, 'out'), 'amd64');
    writeFileSync(join(tmp, 'busybox.tar'), busyboxArchive('edgeos.test/busybox:one'));
    writeFileSync(join(tmp, 'busybox2.tar.gz'), gzipSync(busyboxArchive('edgeos.test/busybox:two')));
    writeFileSync(join(tmp, 'app.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: b }\n');
  });

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh, empty output directory per case: "leaves nothing" means it stays empty. */
  const outDir = (name: string) => {
    const d = join(tmp, name);
    mkdirSync(d);
    return d;
  };

  it('writes the binary, install.sh, the host packages\' runtime, the pause image, the images and the manifests, with bundle.json', () => {
    const dir = outDir('ok');
    const installer = readFileSync(join(root, 'installer/install.sh'));
    const r = bundleCreate(['--arch', 'amd64', '--binary', exe, '--image', join(tmp, 'busybox.tar'), '--image', join(tmp, 'busybox2.tar.gz'),
      '--manifest', join(tmp, 'app.yaml'), '--output', join(dir, 'edgeos-air.tar.gz')], tmp);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(dir, 'edgeos-air.tar.gz')}`);
    expect(readdirSync(dir)).toEqual(['edgeos-air.tar.gz']);
    // Not a terminal: progress comes as log lines, per file and at the end.
    const progress = r.stderr.split('\n').filter((l) => l.includes('"writing bundle"')).map((l) => JSON.parse(l) as { file: string; percent: number });
    expect(progress.map((p) => p.file)).toEqual(expect.arrayContaining(['edgeos-linux-amd64', 'runtime/bin/containerd', 'done']));
    expect(progress.at(-1)!.percent).toBe(100);

    const libs = toolLibraries();
    expect(libs).toEqual(expect.arrayContaining(['libnftables.so.1', 'libnetfilter_conntrack.so.3', 'libmnl.so.0', 'libseccomp.so.2']));
    const listing = spawnSync('tar', ['-tzf', join(dir, 'edgeos-air.tar.gz')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort();
    expect(listing).toEqual([
      'edgeos-air/', 'edgeos-air/SHA256SUMS', 'edgeos-air/bundle.json', 'edgeos-air/edgeos-linux-amd64', 'edgeos-air/edgeos-linux-amd64.sha256',
      'edgeos-air/images/', 'edgeos-air/images/busybox.tar', 'edgeos-air/images/busybox2.tar.gz', 'edgeos-air/images/edgeos-pause.tar',
      'edgeos-air/install.sh', 'edgeos-air/manifests/', 'edgeos-air/manifests/app.yaml', 'edgeos-air/runtime/', 'edgeos-air/runtime/bin/', 'edgeos-air/runtime/bin/containerd',
      'edgeos-air/runtime/bin/containerd-shim-runc-v2', 'edgeos-air/runtime/bin/ctr', 'edgeos-air/runtime/bin/runc', 'edgeos-air/runtime/cni/',
      'edgeos-air/runtime/cni/bridge', 'edgeos-air/runtime/cni/host-local', 'edgeos-air/runtime/cni/loopback', 'edgeos-air/runtime/cni/portmap',
      'edgeos-air/runtime/tools/', 'edgeos-air/runtime/tools/bin/', 'edgeos-air/runtime/tools/bin/conntrack', 'edgeos-air/runtime/tools/bin/ethtool', 'edgeos-air/runtime/tools/bin/nft',
      'edgeos-air/runtime/tools/lib/', ...libs.map((l) => `edgeos-air/runtime/tools/lib/${l}`),
    ].sort());
    const unpacked = outDir('unpacked');
    expect(spawnSync('tar', ['-xzf', join(dir, 'edgeos-air.tar.gz'), '-C', unpacked]).status).toBe(0);
    const b = join(unpacked, 'edgeos-air');
    const file = (p: string) => readFileSync(join(b, p));

    // The bytes are the sources' bytes; sha256sum -c agrees with the manifest.
    expect(file('install.sh').equals(installer)).toBe(true);
    expect(file('edgeos-linux-amd64').equals(readFileSync(exe))).toBe(true);
    expect(file('edgeos-linux-amd64.sha256').toString()).toBe(`${sha256(readFileSync(exe))}  edgeos-linux-amd64\n`);
    expect(file('runtime/bin/containerd').equals(readFileSync('/usr/bin/containerd'))).toBe(true);
    // runc is the package's, with a RUNPATH to where install.sh puts the bundle's libraries (its
    // libseccomp): runc re-executes itself without the caller's environment, so no wrapper would do.
    const runc = join(b, 'runtime/bin/runc');
    const dynamic = (f: string) => spawnSync('readelf', ['-d', f], { encoding: 'utf8' }).stdout;
    expect(dynamic(runc)).toMatch(/\(RUNPATH\)\s+Library runpath: \[\/usr\/local\/lib\/edgeos\/lib\]/);
    expect(dynamic('/usr/sbin/runc')).not.toMatch(/RUNPATH|RPATH/);
    const needed = (f: string) => dynamic(f).split('\n').filter((l) => l.includes('(NEEDED)'));
    expect(needed(runc)).toEqual(needed('/usr/sbin/runc'));
    expect(file('runtime/tools/lib/libseccomp.so.2').equals(readFileSync('/usr/lib/x86_64-linux-gnu/libseccomp.so.2'))).toBe(true);
    const runcVersion = spawnSync(runc, ['--version'], { encoding: 'utf8' });
    expect(runcVersion.status, runcVersion.stderr).toBe(0);
    expect(runcVersion.stdout).toBe(spawnSync('/usr/sbin/runc', ['--version'], { encoding: 'utf8' }).stdout);
    expect(file('runtime/cni/bridge').equals(readFileSync('/usr/lib/cni/bridge'))).toBe(true);
    expect(file('runtime/tools/bin/nft').equals(readFileSync('/usr/sbin/nft'))).toBe(true);
    expect(file('runtime/tools/lib/libnftables.so.1').equals(readFileSync('/usr/lib/x86_64-linux-gnu/libnftables.so.1'))).toBe(true);
    // The bundled nft runs on the bundled libraries alone (the loader looks nowhere else first).
    const nft = spawnSync(join(b, 'runtime/tools/bin/nft'), ['--version'], { encoding: 'utf8', env: { LD_LIBRARY_PATH: join(b, 'runtime/tools/lib') } });
    expect(nft.status, nft.stderr).toBe(0);
    expect(nft.stdout).toMatch(/^nftables v\d/);
    expect(file('images/edgeos-pause.tar').equals(pauseImageArchive('amd64'))).toBe(true);
    expect(file('images/busybox.tar').equals(readFileSync(join(tmp, 'busybox.tar')))).toBe(true);
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: b, encoding: 'utf8' });
    expect(check.status, check.stdout).toBe(0);
    expect(check.stdout.trim().split('\n')).toHaveLength(18 + libs.length);

    const manifest = JSON.parse(file('bundle.json').toString()) as {
      format: number; arch: string; edgeos: { file: string; version: string; checksumVerified: boolean };
      runtime: { package: string; version: string; from: string; files: string[] }[];
      images: { file: string; format: string; names: string[] }[];
      manifests: { file: string; objects: number }[];
      files: Record<string, { size: number; sha256: string }>;
    };
    expect(manifest.format).toBe(1);
    expect(manifest.arch).toBe('amd64');
    expect(manifest.edgeos).toMatchObject({ file: 'edgeos-linux-amd64', checksumVerified: true });
    expect(manifest.edgeos.version).toMatch(/^edgeos v\S+ \(commit \S+, node v24\.\S+, linux\/amd64\)$/);
    expect(manifest.runtime.slice(0, PACKAGES.length).map((c) => [c.package, c.version, c.from])).toEqual(PACKAGES.map((p) => [p, dpkgVersion(p), 'installed']));
    // nft and conntrack with the package of each library, at the installed versions.
    const tools = manifest.runtime.slice(PACKAGES.length);
    expect(tools.map((c) => c.package)).toEqual(expect.arrayContaining([...TOOL_PACKAGES, 'libnftables1', 'libnetfilter-conntrack3', 'libseccomp2']));
    for (const c of tools) expect([c.package, c.version, c.from]).toEqual([c.package, dpkgVersion(c.package), 'installed']);
    expect(tools.flatMap((c) => c.files).sort()).toEqual(['runtime/tools/bin/conntrack', 'runtime/tools/bin/ethtool', 'runtime/tools/bin/nft', ...libs.map((l) => `runtime/tools/lib/${l}`)].sort());
    expect(manifest.images).toEqual([
      { file: 'images/edgeos-pause.tar', format: 'docker-archive', names: ['edgeos.local/pause:1'] },
      { file: 'images/busybox.tar', format: 'docker-archive', names: ['edgeos.test/busybox:one'] },
      { file: 'images/busybox2.tar.gz', format: 'docker-archive', names: ['edgeos.test/busybox:two'] },
    ]);
    expect(manifest.manifests).toEqual([{ file: 'manifests/app.yaml', objects: 2 }]);
    expect(file('manifests/app.yaml').equals(readFileSync(join(tmp, 'app.yaml')))).toBe(true);
    for (const [p, f] of Object.entries(manifest.files)) expect([p, f.sha256, f.size]).toEqual([p, sha256(file(p)), file(p).length]);
    expect(Object.keys(manifest.files)).toHaveLength(18 + libs.length); // everything but bundle.json and SHA256SUMS
  }, 180_000);

  /** Every package the --debs case needs a .deb of: the runtime's, nft's, conntrack's and ethtool's, and their and runc's libraries'. */
  const debPackages = () => {
    const owners = toolLibraries().map((l) => spawnSync('sh', ['-c', `dpkg -S "$(readlink -f "$(ldconfig -p | grep -m1 '${l} ' | sed 's/.*=> //')")"`], { encoding: 'utf8' }).stdout.split(':')[0]!.trim());
    return [...new Set([...PACKAGES, ...TOOL_PACKAGES, ...owners])];
  };
  const cachedDeb = (p: string) => readdirSync(APT_CACHE).filter((n) => n.startsWith(`${p}_`) && n.endsWith('_amd64.deb')).sort().at(-1);

  it.runIf(hasDpkgRuntime && debPackages().every((p) => cachedDeb(p)))(
    'takes the runtime, nft, conntrack and their libraries from .deb files with --debs', () => {
      const debs = outDir('debs');
      // One .deb per package (the cache may hold several versions): the newest by name.
      for (const p of debPackages()) symlinkSync(join(APT_CACHE, cachedDeb(p)!), join(debs, cachedDeb(p)!));
      const dir = outDir('from-debs');
      const r = bundleCreate(['--binary', exe, '--debs', debs, '--output', join(dir, 'b.tar.gz')], tmp);
      expect(r.status, r.stderr).toBe(0);
      const manifest = JSON.parse(spawnSync('tar', ['-xzOf', join(dir, 'b.tar.gz'), 'b/bundle.json'], { encoding: 'utf8', maxBuffer: 1 << 20 }).stdout) as
        { runtime: { package: string; from: string; files: string[] }[] };
      expect(manifest.runtime.slice(0, PACKAGES.length).map((c) => [c.package, c.from.endsWith('_amd64.deb')])).toEqual(PACKAGES.map((p) => [p, true]));
      expect(manifest.runtime.every((c) => c.from.endsWith('_amd64.deb'))).toBe(true);
      expect(manifest.runtime.flatMap((c) => c.files)).toHaveLength(8 + 3 + toolLibraries().length);
    }, 180_000);

  it('refuses an unknown --arch', () => {
    const dir = outDir('bad-arch');
    const r = bundleCreate(['--arch', 'riscv64', '--binary', exe, '--output', join(dir, 'b.tar.gz')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--arch: "riscv64" is not one of amd64, arm64');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a missing binary, and one that does not match its .sha256', () => {
    const dir = outDir('bad-binary');
    let r = bundleCreate(['--binary', join(tmp, 'no-such-edgeos'), '--output', join(dir, 'b.tar.gz')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`--binary: ${join(tmp, 'no-such-edgeos')} is not a file`);
    // A binary whose checksum file belongs to another build.
    const other = join(tmp, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'edgeos-linux-amd64'), readFileSync(exe));
    writeFileSync(join(other, 'edgeos-linux-amd64.sha256'), `${'0'.repeat(64)}  edgeos-linux-amd64\n`);
    r = bundleCreate(['--binary', join(other, 'edgeos-linux-amd64'), '--output', join(dir, 'b.tar.gz')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(other, 'edgeos-linux-amd64')} does not match ${join(other, 'edgeos-linux-amd64.sha256')}`);
    // An arm64 bundle with the amd64 executable.
    r = bundleCreate(['--arch', 'arm64', '--binary', exe, '--output', join(dir, 'b.tar.gz')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`--binary: ${exe} is not a linux/arm64 executable`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses an --image that is not an image archive, naming the file', () => {
    const dir = outDir('bad-image');
    const notTar = join(tmp, 'notes.tar');
    writeFileSync(notTar, 'these are notes, not a tar archive\n'.repeat(40));
    let r = bundleCreate(['--binary', exe, '--image', join(tmp, 'busybox.tar'), '--image', notTar, '--output', join(dir, 'b.tar.gz')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`--image ${notTar}: is not a tar archive`);
    const plainTar = join(tmp, 'files.tar.gz');
    writeFileSync(plainTar, gzipSync(tarArchive([{ type: 'file', name: 'README', data: Buffer.from('hello\n') }])));
    r = bundleCreate(['--binary', exe, '--image', plainTar, '--output', join(dir, 'b.tar.gz')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`--image ${plainTar}: is a tar archive but no container image`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a --manifest the server would refuse, naming the file and document', () => {
    const bad = outDir('bad-manifest');
    writeFileSync(join(tmp, 'broken.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n  data: [1\n');
    const refused = bundleCreate(['--binary', exe, '--manifest', join(tmp, 'broken.yaml'), '--output', join(bad, 'm.tar.gz')], tmp);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`--manifest ${join(tmp, 'broken.yaml')}: document 1: Implicit keys need to be on a single line`);
    writeFileSync(join(tmp, 'notes.txt'), 'kind: ConfigMap\n');
    const other = bundleCreate(['--binary', exe, '--manifest', join(tmp, 'notes.txt'), '--output', join(bad, 'm.tar.gz')], tmp);
    expect(other.stderr).toContain(`--manifest ${join(tmp, 'notes.txt')}: the server applies .yaml, .yml and .json files only`);
    expect(readdirSync(bad)).toEqual([]);
  });

  it('leaves no partial archive when interrupted while writing', async () => {
    const dir = outDir('interrupted');
    const child = spawn(process.execPath, [main, 'bundle', 'create', '--binary', exe, '--output', join(dir, 'b.tar.gz')], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sawTemp = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no progress line:\n${stderr}`)); }, 120_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Mid-write: the executable is being streamed into the temporary file.
        if (stderr.includes('"file":"edgeos-linux-amd64"') && child.exitCode === null) {
          clearTimeout(timer);
          sawTemp = readdirSync(dir).some((n) => n.endsWith('.tmp'));
          child.kill('SIGTERM');
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));
    expect(child.signalCode).toBe('SIGTERM');
    expect(sawTemp).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(join(dir, 'b.tar.gz'))).toBe(false);
  }, 150_000);
});
