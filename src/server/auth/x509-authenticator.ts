// Client-certificate authentication as apiserver's x509 authenticator does it: the TLS layer
// verified the chain against the cluster CA (the server runs with requestCert and
// rejectUnauthorized:false, so a bad certificate reaches us and becomes a 401 instead of a failed
// handshake); the certificate must be valid now (a resumed TLS session is not verified again),
// allow clientAuth; CN is the user name, O entries the groups.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket, PeerCertificate } from 'node:tls';
import type { AuthenticationResult } from './types.ts';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * The verdict per connection. The peer certificate can only change with a new handshake, and
 * reading it (getPeerCertificate turns the whole X.509 structure into a JS object) was a third of
 * the server's CPU for GET /version and an eighth for a pod GET. The TLS Finished message differs
 * for every handshake, a TLS 1.2 renegotiation included, so a verdict is reused only while it is
 * the same.
 */
const verdicts = new WeakMap<object, { readonly finished: Buffer; readonly result: AuthenticationResult }>();

export function authenticateClientCertificate(req: IncomingMessage): AuthenticationResult {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return { kind: 'anonymous' };
  const finished = socket.getFinished?.();
  const cached = verdicts.get(req.socket);
  if (cached && finished && cached.finished.equals(finished)) return cached.result;
  const result = verify(socket);
  if (finished) verdicts.set(req.socket, { finished, result });
  return result;
}

function verify(socket: Partial<TLSSocket>): AuthenticationResult {
  const cert: PeerCertificate | undefined = socket.getPeerCertificate?.();
  if (!cert || Object.keys(cert).length === 0) return { kind: 'anonymous' };
  if (!socket.authorized) {
    return { kind: 'rejected', reason: `client certificate not accepted: ${String(socket.authorizationError ?? 'unknown error')}` };
  }
  // A resumed TLS session (docs/link.md, "TLS session resumption") carries the certificate of its
  // first handshake, which OpenSSL does not verify again: its validity period is checked here.
  const now = Date.now();
  if (now > Date.parse(cert.valid_to) || now < Date.parse(cert.valid_from)) {
    return { kind: 'rejected', reason: `client certificate not accepted: not valid now (valid from ${cert.valid_from} to ${cert.valid_to})` };
  }
  const usages = (cert as PeerCertificate & { ext_key_usage?: string[] }).ext_key_usage;
  if (usages && !usages.includes(CLIENT_AUTH_OID)) {
    return { kind: 'rejected', reason: 'client certificate does not allow client authentication (extended key usage)' };
  }
  const name = asList(cert.subject?.CN)[0];
  if (!name) return { kind: 'rejected', reason: 'client certificate has no common name' };
  return { kind: 'user', user: { name, groups: asList(cert.subject?.O) } };
}
