/** What edgeos reports on /version, in apimachinery's version.Info shape. */
export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
}

// The preinstalled kubectl dispatcher picks the kubectl build from `minor` (kubectl-wire.md §0),
// and kubectl warns about version skew beyond ±1 minor: report the Kubernetes API level we serve.
export const KUBERNETES_MAJOR = '1';
export const KUBERNETES_MINOR = '32';

export function versionInfo(build: BuildInfo): Record<string, string> {
  return {
    major: KUBERNETES_MAJOR,
    minor: KUBERNETES_MINOR,
    gitVersion: `v${KUBERNETES_MAJOR}.${KUBERNETES_MINOR}.0-edgeos+${build.commit}`,
    gitCommit: build.commit,
    gitTreeState: 'clean',
    goVersion: `node${process.versions.node}`,
    compiler: 'node',
    platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
    edgeosVersion: build.version,
  };
}
