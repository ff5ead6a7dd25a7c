/**
 * The environment variables the kubelet gives every container for Services (pkg/kubelet/envvars
 * and kubelet_pods.go getServiceEnvVarMap upstream): the `kubernetes` Service of `default` always
 * (KUBERNETES_SERVICE_HOST/PORT are how client-go's in-cluster config finds the API), and with
 * `enableServiceLinks` (the default) every Service of the pod's own namespace, each as
 * <NAME>_SERVICE_HOST, <NAME>_SERVICE_PORT(_<PORT NAME>) and Docker-links-style
 * <NAME>_PORT(_<port>_<PROTO>(_PROTO|_PORT|_ADDR)). Services without a ClusterIP (headless,
 * ExternalName) give none.
 */

/** The part of a core/v1 Service these variables come from. */
export interface ServiceForEnv {
  readonly metadata?: { readonly namespace?: string; readonly name?: string };
  readonly spec?: { readonly clusterIP?: string; readonly ports?: readonly { readonly name?: string; readonly port?: number; readonly protocol?: string }[] };
}

const varName = (s: string) => s.replace(/-/g, '_').toUpperCase();

function addService(env: Map<string, string>, svc: ServiceForEnv): void {
  const ip = svc.spec?.clusterIP;
  const ports = svc.spec?.ports ?? [];
  if (!ip || ip === 'None' || ports.length === 0) return;
  const prefix = varName(svc.metadata?.name ?? '');
  const hostPort = (port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  env.set(`${prefix}_SERVICE_HOST`, ip);
  env.set(`${prefix}_SERVICE_PORT`, String(ports[0]!.port ?? 0));
  for (const p of ports) if (p.name) env.set(`${prefix}_SERVICE_PORT_${varName(p.name)}`, String(p.port ?? 0));
  ports.forEach((p, i) => {
    const proto = (p.protocol || 'TCP').toLowerCase();
    const port = p.port ?? 0;
    if (i === 0) env.set(`${prefix}_PORT`, `${proto}://${hostPort(port)}`);
    const pp = `${prefix}_PORT_${port}_${proto.toUpperCase()}`;
    env.set(pp, `${proto}://${hostPort(port)}`);
    env.set(`${pp}_PROTO`, proto);
    env.set(`${pp}_PORT`, String(port));
    env.set(`${pp}_ADDR`, ip);
  });
}

export function serviceEnvironment(services: Iterable<ServiceForEnv>, namespace: string, enableServiceLinks: boolean): Map<string, string> {
  const chosen = new Map<string, ServiceForEnv>();
  for (const s of services) {
    const ns = s.metadata?.namespace;
    const name = s.metadata?.name ?? '';
    if (ns === 'default' && name === 'kubernetes') {
      if (!chosen.has(name)) chosen.set(name, s);
    } else if (ns === namespace && enableServiceLinks) chosen.set(name, s);
  }
  const env = new Map<string, string>();
  for (const s of chosen.values()) addService(env, s);
  return env;
}
