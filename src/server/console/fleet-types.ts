/**
 * What GET /console/api/fleet answers (types.ts CONSOLE_FLEET_PATH): shared by the server
 * (fleet-view.ts, routes.ts) and the browser application (app/fleet-rows.ts), so no Node.js types here.
 */

export interface FleetQuery {
  readonly offset: number;
  readonly limit: number;
  readonly show: 'all' | 'online' | 'offline';
  /** Substring of name, pool, version or architecture ('' for all). */
  readonly q: string;
  /** Only this pool's nodes (counts too); '' is the nodes in no pool. */
  readonly pool?: string;
}

/** One node as the fleet and pool pages list it. */
export interface FleetRow {
  readonly name: string;
  readonly pool: string;
  readonly online: boolean;
  /** The Lease's renewTime, else the kubelet's Ready heartbeat. */
  readonly lastSeen?: string;
  readonly version: string;
  readonly arch: string;
  /** Pods bound to it and not finished; null when the caller may not list Pods. */
  readonly pods: number | null;
  /** Link payload bytes over the last hour, when its agent linked to this server. */
  readonly bytesLastHour?: number;
}

export interface FleetAnswer {
  /** The store revision the answer reflects. */
  readonly revision: string;
  readonly summary: {
    readonly total: number;
    readonly online: number;
    readonly offline: number;
    readonly pools: readonly { readonly pool: string; readonly total: number; readonly online: number }[];
  };
  /** Nodes matching show/q (rows are offset…offset+limit of them). */
  readonly matched: number;
  readonly offset: number;
  readonly rows: readonly FleetRow[];
}

