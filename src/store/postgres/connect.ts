/**
 * From a parsed endpoint to node-postgres connection settings, and from a failed connection to a
 * message that names the flag, the host and what to do — never the password.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { ClientConfig, CustomTypesConfig } from 'pg';
import pg from 'pg';
import { DatabaseError } from '../errors.ts';
import { describeEndpoint } from './endpoint.ts';
import type { PostgresEndpoint, SslMode } from './endpoint.ts';

/** A file the user named, and the flag (or URL parameter) it was named with. */
export interface SourcedPath {
  readonly path: string;
  readonly from: string;
}

export interface EndpointFiles {
  /** --datastore-cafile: the CA that signed the server's certificate. */
  readonly caFile?: SourcedPath;
  /** --datastore-certfile / --datastore-keyfile: a client certificate. */
  readonly certFile?: SourcedPath;
  readonly keyFile?: SourcedPath;
  /** --datastore-password-file: the password, instead of in the URL. */
  readonly passwordFile?: SourcedPath;
}

export interface Connection {
  readonly endpoint: PostgresEndpoint;
  /** What logs and errors call it. */
  readonly description: string;
  readonly sslmode: SslMode;
  readonly config: ClientConfig;
}

/** bigint columns (revisions, ms timestamps) as numbers: they stay far below 2^53. */
const types: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as CustomTypesConfig['getTypeParser'],
};

function readSourced(f: SourcedPath, what: string, description: string): string {
  try {
    return readFileSync(f.path, 'utf8');
  } catch (err) {
    throw new DatabaseError('STORE_OPEN_FAILED', description, `${f.from}: cannot read the ${what} ${f.path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * libpq's sslmode in Node TLS terms. `require` without a CA encrypts but trusts any certificate,
 * with a CA it verifies the chain (libpq does the same when a root certificate is present);
 * `verify-full` also checks the host name. Without sslmode, a CA file means verify-full.
 */
function tlsFor(mode: SslMode, ca: string | undefined, cert: string | undefined, key: string | undefined): false | ConnectionOptions {
  if (mode === 'disable') return false;
  const client = { ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  if (mode === 'prefer' || (mode === 'require' && !ca)) return { ...client, rejectUnauthorized: false };
  const verified = { ...client, ...(ca ? { ca } : {}), rejectUnauthorized: true };
  if (mode === 'verify-full') return verified;
  return { ...verified, checkServerIdentity: () => undefined }; // verify-ca, or require with a CA
}

/** Reads the files the endpoint needs and returns the settings every connection uses. */
export function connectionFor(endpoint: PostgresEndpoint, files: EndpointFiles = {}): Connection {
  const description = describeEndpoint(endpoint);
  const url = (param: 'sslrootcert' | 'sslcert' | 'sslkey') => {
    const path = endpoint[param];
    return path === undefined ? undefined : { path, from: `${endpoint.from} ${param}` };
  };
  const caFile = files.caFile ?? url('sslrootcert');
  const certFile = files.certFile ?? url('sslcert');
  const keyFile = files.keyFile ?? url('sslkey');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const given = certFile ?? keyFile!;
    throw new DatabaseError('STORE_OPEN_FAILED', description, `${given.from}: a client certificate needs both a certificate and a key file`);
  }
  const sslmode: SslMode = endpoint.sslmode ?? (caFile ? 'verify-full' : 'prefer');
  if (sslmode === 'disable' && (caFile || certFile)) {
    throw new DatabaseError('STORE_OPEN_FAILED', description, `${(caFile ?? certFile)!.from}: TLS files are given but sslmode=disable turns TLS off`);
  }
  const ca = caFile && readSourced(caFile, 'CA file', description);
  const cert = certFile && readSourced(certFile, 'client certificate', description);
  const key = keyFile && readSourced(keyFile, 'client key', description);
  let password = endpoint.password;
  if (files.passwordFile) {
    password = readSourced(files.passwordFile, 'password file', description).replace(/\r?\n$/, '');
    if (password === '') throw new DatabaseError('STORE_OPEN_FAILED', description, `${files.passwordFile.from}: ${files.passwordFile.path} is empty`);
  }
  const config: ClientConfig = {
    host: endpoint.host,
    port: endpoint.port,
    database: endpoint.database,
    user: endpoint.user,
    ssl: tlsFor(sslmode, ca, cert, key),
    application_name: endpoint.applicationName,
    connectionTimeoutMillis: endpoint.connectTimeoutSeconds * 1000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // A database that stops answering must not hang a request (or the write lock) forever.
    query_timeout: 30_000,
    statement_timeout: 30_000,
    // The write path relies on READ COMMITTED (each statement of edgeos_write sees the commits
    // made before it took the revision lock), whatever the database's default is.
    options: '-c default_transaction_isolation=read\\ committed -c jit=off',
    types,
  };
  // node-postgres keeps the password out of stack traces and logs the same way.
  if (password !== undefined) Object.defineProperty(config, 'password', { value: password, enumerable: false });
  return { endpoint, description, sslmode, config };
}

/** A copy of `config` with more settings; the password stays non-enumerable (a spread would drop it). */
export function withSettings(config: ClientConfig, more: Record<string, unknown>): ClientConfig {
  const out = { ...config, ...more };
  if (config.password !== undefined) Object.defineProperty(out, 'password', { value: config.password, enumerable: false });
  return out;
}

const reasons: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is PostgreSQL running and listening there?)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS did not answer)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
  ENOENT: 'no such unix socket (is PostgreSQL running, and is this its socket directory?)',
  EACCES: 'permission denied on the unix socket',
  // PostgreSQL SQLSTATEs
  '28P01': 'password authentication failed (check the password in the endpoint, EDGEOS_DATASTORE_ENDPOINT or --datastore-password-file)',
  '3D000': 'the database does not exist: create it (createdb -O <user> <database>)',
  '53300': 'the server has too many connections',
  '57P03': 'the server is starting up or shutting down',
  '42501': 'permission denied (the user needs to create tables and functions in the database, or own it)',
};

const tlsCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE',
]);

/** Why a connection failed, in words a user can act on. Contains no secret. */
export function connectFailure(err: unknown, c: Connection): string {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const msg = e.message ?? String(err);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS: the server's certificate does not name ${c.endpoint.host} (sslmode=${c.sslmode}; connect by a name the certificate has, or use sslmode=verify-ca)`;
  }
  if (tlsCodes.has(code)) return `TLS: the server's certificate is not trusted (${code}): give its CA with --datastore-cafile or sslrootcert`;
  if (/does not support SSL/i.test(msg)) return `the server does not accept TLS, which sslmode=${c.sslmode} requires (turn ssl on in postgresql.conf, or use sslmode=disable)`;
  if (/client password must be a string|no password supplied/i.test(msg)) {
    return 'the server asks for a password and none was given (in the URL, EDGEOS_DATASTORE_ENDPOINT or --datastore-password-file)';
  }
  if (/connection timeout|timeout expired/i.test(msg)) return `no answer within ${c.endpoint.connectTimeoutSeconds} s (connect_timeout)`;
  if (/query read timeout/i.test(msg)) return 'the database stopped answering (no reply within the query timeout)';
  if (code === '28000') return `not allowed to connect: ${msg}`; // pg_hba.conf: names the client address, user and database
  return reasons[code] ?? msg;
}

/** The error `open` throws when the database cannot be used at all. */
export function unavailableAtStart(err: unknown, c: Connection): DatabaseError {
  return new DatabaseError('STORE_UNAVAILABLE', c.description, `${c.endpoint.from}: cannot use ${c.description}: ${connectFailure(err, c)}`, { cause: err });
}

/**
 * Opens one connection to check the endpoint, applying sslmode=prefer's fallback: a server that
 * refuses TLS is then used without it (libpq does the same). Returns the settings that worked.
 */
export async function probe(c: Connection): Promise<Connection> {
  const attempt = async (config: ClientConfig) => {
    const client = new pg.Client(config);
    client.on('error', () => {}); // reported through connect()'s rejection
    try {
      await client.connect();
      await client.query('SELECT 1');
    } finally {
      await client.end().catch(() => {});
    }
  };
  try {
    await attempt(c.config);
    return c;
  } catch (err) {
    if (c.sslmode === 'prefer' && /does not support SSL/i.test((err as Error).message ?? '')) {
      const plain = withSettings(c.config, { ssl: false });
      await attempt(plain).catch((e: unknown) => {
        throw unavailableAtStart(e, c);
      });
      return { ...c, config: plain };
    }
    throw unavailableAtStart(err, c);
  }
}
