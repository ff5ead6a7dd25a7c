// --cgroup-root (kubelet's flag), taken by `edgeos join`/`edgeos agent` and by `edgeos server` for
// its local agent: the cgroup whose `kubepods` child holds the pods (docs/kubelet.md, "QoS cgroups").
// One check for both commands, so both refuse the same values with the same words.

/** Why `value` is not a usable cgroup root, or undefined when it is one. */
export function cgroupRootProblem(value: string): string | undefined {
  if (!/^\/[A-Za-z0-9_./-]*$/.test(value)) return `${JSON.stringify(value)} is not an absolute cgroup path (/ or /a/b of [A-Za-z0-9_.-])`;
  if (value.split('/').some((p) => p === '.' || p === '..')) return `${JSON.stringify(value)} must not contain . or .. segments`;
  return undefined;
}
