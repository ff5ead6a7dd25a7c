/**
 * PodExecOptions, PodAttachOptions and PodPortForwardOptions from the query of an upgrade request.
 * kubectl sends `command` once per argument and booleans as "true"; with a TTY stderr is merged
 * into stdout (kubelet's remotecommand NewOptions drops it), and at least one stream is required.
 */
import type { PodRef, TunnelRequest } from '../../../common/tunnel.ts';
import { badRequest } from '../../storage/status.ts';
import { queryBool } from '../query-params.ts';

type StreamKind = 'exec' | 'attach' | 'portforward';

function streams(q: URLSearchParams): { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } {
  const flag = (name: string): boolean => queryBool(q, name) ?? false;
  const tty = flag('tty');
  const s = { stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr') && !tty, tty };
  if (!s.stdin && !s.stdout && !s.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return s;
}

/** apiserver's PodPortForwardOptions: `ports` repeated or comma-separated, each 1–65535. */
function ports(q: URLSearchParams): number[] {
  const out: number[] = [];
  for (const v of q.getAll('ports').flatMap((p) => p.split(','))) {
    const n = /^\d{1,5}$/.test(v.trim()) ? Number(v.trim()) : NaN;
    if (!(n >= 1 && n <= 65535)) throw badRequest(`invalid port ${JSON.stringify(v)}: must be a number between 1 and 65535`);
    out.push(n);
  }
  return out;
}

export function streamRequest(kind: StreamKind, ref: PodRef, container: string, q: URLSearchParams): TunnelRequest {
  switch (kind) {
    case 'exec': {
      const command = q.getAll('command');
      // kubectl's own wording for the same mistake (ExecOptions.Validate).
      if (command.length === 0) throw badRequest('you must specify at least one command for the container');
      return { kind, ...ref, container, command, ...streams(q) };
    }
    case 'attach':
      return { kind, ...ref, container, ...streams(q) };
    case 'portforward':
      return { kind, ...ref, ports: ports(q) };
  }
}
