/**
 * Accept-header negotiation for the representations kubectl asks for: Table (§3), aggregated
 * discovery (§1) and PartialObjectMetadata (garbage collector, metadata informers).
 */
interface MediaRange {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept.split(',').map((part) => {
    const [type = '', ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
    }
    return { type: type.toLowerCase(), params };
  });
}

export type ObjectView = 'object' | 'table' | 'partial';

/** Which representation of objects the client asked for, by the first range we can serve. */
export function objectView(accept: string | undefined): ObjectView {
  for (const m of parseAccept(accept)) {
    if (m.params.as === undefined) {
      if (m.type === 'application/json' || m.type === '*/*' || m.type === 'application/*' || m.type === 'application/yaml' || m.type === 'application/vnd.kubernetes.protobuf') {
        return 'object';
      }
      continue;
    }
    if (m.params.g !== 'meta.k8s.io') continue;
    if (m.params.as === 'Table' && (m.params.v === 'v1' || m.params.v === 'v1beta1')) return 'table';
    if ((m.params.as === 'PartialObjectMetadata' || m.params.as === 'PartialObjectMetadataList') && (m.params.v === 'v1' || m.params.v === 'v1beta1')) {
      return 'partial';
    }
  }
  return 'object';
}

/**
 * The exact aggregated-discovery media type to answer with, or undefined for the plain
 * APIVersions/APIGroupList. The Content-Type must echo it exactly (kubectl-wire.md §1).
 */
export function aggregatedDiscoveryType(accept: string | undefined): { type: string; version: 'v2' | 'v2beta1' } | undefined {
  for (const m of parseAccept(accept)) {
    if (m.type === 'application/json' && m.params.as === undefined) return undefined;
    if (m.type !== 'application/json' || m.params.as !== 'APIGroupDiscoveryList' || m.params.g !== 'apidiscovery.k8s.io') continue;
    if (m.params.v === 'v2' || m.params.v === 'v2beta1') {
      return { type: `application/json;g=apidiscovery.k8s.io;v=${m.params.v};as=APIGroupDiscoveryList`, version: m.params.v };
    }
  }
  return undefined;
}
