// What an edgeos on the host itself leaves on its file system: README's first line (`npm start --
// server` writes /etc/edgeos and /var/lib/edgeos) or a real install.sh run. Tests that build a
// "fresh machine" as an overlay over the host's / must not see any of it, or the edgeos under test
// would find the host's kubeconfig, PKI and database (and its uninstall would leave whiteouts).
// The fresh roots hide these paths with a mask layer: whiteouts in a layer above the host's /.

/** Host paths an edgeos installation or a README line-1 run may have written. */
export const HOST_EDGEOS_PATHS: readonly string[] = [
  '/etc/edgeos',
  '/var/lib/edgeos',
  '/var/log/edgeos.log',
  '/usr/local/bin/edgeos',
  '/usr/local/bin/edgeos-killall.sh',
  '/usr/local/bin/edgeos-uninstall.sh',
  '/etc/systemd/system/edgeos.service',
  '/etc/systemd/system/multi-user.target.wants/edgeos.service',
  '/etc/init.d/edgeos',
];

/**
 * Shell lines that fill `maskDir` (an empty tmpfs) with an overlayfs whiteout (a 0/0 character
 * device) for each path, so `lowerdir=<maskDir>:/` shows the host's root without them. A whiteout
 * in a lower layer hides the path below it; what the test's machine then creates there lives in
 * its upper layer only, and removing it leaves no whiteout behind.
 */
export function maskLayerScript(maskDir: string): string[] {
  return HOST_EDGEOS_PATHS.flatMap((p) => {
    const parent = p.slice(0, p.lastIndexOf('/'));
    return [`mkdir -p "${maskDir}${parent}"`, `mknod "${maskDir}${p}" c 0 0`];
  });
}
