import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import { podLogDirectory } from '../../runtime/logs/pod-log-dir.ts';
import type { DnsConfig, PodSandboxConfig, PortMapping, Protocol } from '../../runtime/types.ts';
import { podNameLabel, podNamespaceLabel, podUidLabel } from './labels.ts';
import { hasPrivilegedContainer, podSupplementalGroups } from './security-context.ts';
import { podDir } from './volumes.ts';

/** Labels that identify the pod's sandboxes and containers. */
export function podLabels(pod: Pod): Record<string, string> {
  const m = pod.metadata ?? {};
  return { [podNameLabel]: m.name ?? '', [podNamespaceLabel]: m.namespace ?? '', [podUidLabel]: m.uid ?? '' };
}

/** The pod's hostname: spec.hostname or its name, cut to 63 characters (kubelet's GeneratePodHostNameAndDomain). */
export function podHostname(pod: Pod): string {
  return (pod.spec?.hostname || pod.metadata?.name || '').slice(0, 63).replace(/[-.]+$/, '');
}

/** hostPort mappings of all containers (kubelet's makePortMappings). */
export function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  const seen = new Set<string>();
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      const protocol = (p.protocol ?? 'TCP') as Protocol;
      const key = `${p.hostPort}/${protocol}/${p.hostIP ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ protocol, containerPort: p.containerPort, hostPort: p.hostPort, ...(p.hostIP ? { hostIp: p.hostIP } : {}) });
    }
  }
  return out;
}

export function sandboxLogDirectory(podLogDir: string | undefined, pod: Pod): string | undefined {
  return podLogDir ? podLogDirectory(podLogDir, pod.metadata ?? {}) : undefined;
}

/**
 * kubelet's generatePodSandboxConfig: metadata (attempt counts sandbox re-creations), hostname, log
 * directory, DNS, hostPort mappings, labels (the pod's plus io.kubernetes.pod.*), annotations, the
 * pod's cgroup parent.
 */
export function sandboxConfig(pod: Pod, attempt: number, dns: DnsConfig, podLogDir: string | undefined, cgroupParent?: string): PodSandboxConfig {
  const m = pod.metadata ?? {};
  const spec = pod.spec ?? { containers: [] };
  const logDirectory = sandboxLogDirectory(podLogDir, pod);
  const sysctls = Object.fromEntries((spec.securityContext?.sysctls ?? []).map((s) => [s.name, s.value]));
  const psc = spec.securityContext ?? {};
  const groups = podSupplementalGroups(pod);
  return {
    metadata: { name: m.name ?? '', namespace: m.namespace ?? '', uid: m.uid ?? '', attempt },
    hostname: spec.hostNetwork ? '' : podHostname(pod),
    ...(logDirectory ? { logDirectory } : {}),
    dnsConfig: dns,
    portMappings: portMappings(pod),
    labels: { ...(m.labels ?? {}), ...podLabels(pod) },
    annotations: { ...(m.annotations ?? {}) },
    hostNetwork: spec.hostNetwork ?? false,
    hostPid: spec.hostPID ?? false,
    hostIpc: spec.hostIPC ?? false,
    ...(Object.keys(sysctls).length ? { sysctls } : {}),
    ...(psc.runAsUser !== undefined ? { runAsUser: psc.runAsUser } : {}),
    ...(psc.runAsGroup !== undefined ? { runAsGroup: psc.runAsGroup } : {}),
    ...(groups.length ? { supplementalGroups: groups } : {}),
    ...(hasPrivilegedContainer(pod) ? { privileged: true } : {}),
    // The pod's QoS cgroup (qos-cgroups.ts): containerd puts the sandbox and, from the copy sent
    // with each CreateContainer, every container below it.
    ...(cgroupParent ? { cgroupParent } : {}),
  };
}

/**
 * kubelet's managed /etc/hosts (pkg/kubelet/kubelet_pods.go managedHostsFileContent): localhost
 * entries, the pod's IP with its hostname, then spec.hostAliases. Returned path is mounted into
 * every container that does not mount /etc/hosts itself.
 */
export async function writeHostsFile(rootDir: string, pod: Pod, podIP: string): Promise<string> {
  const dir = podDir(rootDir, pod.metadata?.uid ?? '');
  await mkdir(dir, { recursive: true });
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  if (podIP) lines.push(`${podIP}\t${podHostname(pod)}`);
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) lines.push('', '# Entries added by HostAliases.');
  for (const a of aliases) lines.push(`${a.ip}\t${(a.hostnames ?? []).join('\t')}`);
  const file = join(dir, 'etc-hosts');
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}
