/**
 * The PostgreSQL datastore endpoint as K3s spells it (`--datastore-endpoint postgres://…`), parsed
 * and validated without touching the network or the file system (config resolution is pure; files
 * are read when the store opens). The password never appears in an error, a log line or a
 * serialized config: it is a non-enumerable property, and `describeEndpoint` leaves it out.
 */
import { isIP } from 'node:net';

/** libpq's sslmode values that a Node TLS client can honour ("allow" would need a plaintext first try). */
export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface PostgresEndpoint {
  /** What the user typed it as (the flag or variable), for error messages. */
  readonly from: string;
  /** A host name or address, or the directory of a unix socket (starts with "/"). */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** From the URL; non-enumerable, so JSON, pino and util.inspect never show it. */
  readonly password?: string;
  /** As given; undefined means libpq's default, prefer (verify-full when a CA file is given). */
  readonly sslmode?: SslMode;
  /** sslrootcert / sslcert / sslkey from the URL; the --datastore-*file flags take precedence. */
  readonly sslrootcert?: string;
  readonly sslcert?: string;
  readonly sslkey?: string;
  /** Seconds to wait for a connection (libpq's connect_timeout); default 10. */
  readonly connectTimeoutSeconds: number;
  readonly applicationName: string;
}

/** Thrown for an unusable endpoint; the message never contains the URL or the password. */
export class EndpointError extends Error {}

const DEFAULT_DATABASE = 'edgeos';
const KNOWN_PARAMS = new Set(['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'connect_timeout', 'application_name', 'host', 'port', 'user', 'password', 'dbname']);

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new EndpointError(`the ${what} in the URL is not valid percent-encoding`);
  }
}

/**
 * Parses `postgres://[user[:password]@]host[:port][/database][?param=value…]` (or `postgresql://`).
 * A unix socket is given as `?host=/run/postgresql`. Unknown parameters are errors, as in libpq:
 * a typo such as `sslmod=disable` must not silently leave TLS unverified.
 */
export function parseEndpoint(value: string, from: string): PostgresEndpoint {
  const text = value.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (!scheme) throw new EndpointError('expected a URL such as postgres://user:password@host:5432/database');
  if (scheme !== 'postgres' && scheme !== 'postgresql') {
    throw new EndpointError(`${scheme}:// is not supported: edgeos stores in SQLite (no endpoint) or in PostgreSQL (postgres://…)`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EndpointError('is not a valid URL (special characters in the password must be percent-encoded, e.g. %40 for @)');
  }
  const params = new Map<string, string>();
  for (const [k, v] of url.searchParams) {
    if (!KNOWN_PARAMS.has(k)) {
      throw new EndpointError(`unknown parameter ${JSON.stringify(k)} (known: ${[...KNOWN_PARAMS].filter((p) => p !== 'password').join(', ')})`);
    }
    params.set(k, v);
  }
  const host = params.get('host') ?? decode(url.hostname, 'host').replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new EndpointError('has no host (postgres://user@host:5432/database, or ?host=/run/postgresql for a unix socket)');
  if (!host.startsWith('/') && isIP(host) === 0 && !/^[a-z0-9]([-a-z0-9_]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9_]*[a-z0-9])?)*$/i.test(host)) {
    throw new EndpointError(`host ${JSON.stringify(host)} is neither an address nor a DNS name`);
  }
  const portText = params.get('port') ?? (url.port || '5432');
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new EndpointError(`port ${JSON.stringify(portText)} is not a TCP port (1-65535)`);
  const path = decode(url.pathname.replace(/^\//, ''), 'database name');
  const database = params.get('dbname') ?? (path || DEFAULT_DATABASE);
  if (database.includes('/')) throw new EndpointError(`database name ${JSON.stringify(database)} contains "/"`);
  const user = params.get('user') ?? decode(url.username, 'user name');
  if (user === '') throw new EndpointError('has no user name (postgres://user:password@host/database)');
  const password = params.get('password') ?? (url.password ? decode(url.password, 'password') : undefined);
  const sslmode = params.get('sslmode') as SslMode | undefined;
  if (sslmode !== undefined && !SSL_MODES.includes(sslmode)) {
    throw new EndpointError(`sslmode ${JSON.stringify(params.get('sslmode'))} is not one of ${SSL_MODES.join(', ')}`);
  }
  const timeoutText = params.get('connect_timeout') ?? '10';
  const connectTimeoutSeconds = Number(timeoutText);
  if (!Number.isInteger(connectTimeoutSeconds) || connectTimeoutSeconds < 1 || connectTimeoutSeconds > 600) {
    throw new EndpointError(`connect_timeout ${JSON.stringify(timeoutText)} is not a whole number of seconds between 1 and 600`);
  }
  const endpoint: PostgresEndpoint = {
    from,
    host,
    port,
    database,
    user,
    connectTimeoutSeconds,
    applicationName: params.get('application_name') ?? 'edgeos',
    ...(sslmode ? { sslmode } : {}),
    ...(params.has('sslrootcert') ? { sslrootcert: params.get('sslrootcert') } : {}),
    ...(params.has('sslcert') ? { sslcert: params.get('sslcert') } : {}),
    ...(params.has('sslkey') ? { sslkey: params.get('sslkey') } : {}),
  };
  if (password !== undefined) Object.defineProperty(endpoint, 'password', { value: password, enumerable: false });
  return Object.freeze(endpoint);
}

/** The endpoint without its password, as logs and error messages show it. */
export function describeEndpoint(e: PostgresEndpoint): string {
  const host = e.host.startsWith('/') ? `unix socket ${e.host}/.s.PGSQL.${e.port}` : `${isIP(e.host) === 6 ? `[${e.host}]` : e.host}:${e.port}`;
  return `PostgreSQL at ${host} (database ${e.database}, user ${e.user})`;
}
