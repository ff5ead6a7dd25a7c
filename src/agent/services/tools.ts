/**
 * The host tools the datapath drives: `nft` (Debian's nftables package) for the table, `ip`
 * (iproute2) for the node-local DNS address, `conntrack` (Debian's conntrack package) for stale
 * UDP flows. Each runs as a child process with its input on stdin; a missing tool is an error
 * that says which package to install.
 */
import { spawn } from 'node:child_process';
import { ServicesError } from './errors.ts';
import type { NftRunner } from './types.ts';

const PACKAGES: Record<string, string> = { nft: 'nftables', conntrack: 'conntrack', ip: 'iproute2' };

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `argv` (the first element found on PATH), feeding `input`. `prefix` runs it through another
 * command first (tests: `ip netns exec <ns>`).
 */
export function runTool(argv: readonly string[], input?: string, prefix: readonly string[] = []): Promise<ToolResult> {
  const [file, ...args] = [...prefix, ...argv];
  const tool = argv[0]!;
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new ServicesError('SERVICES_TOOL_MISSING', `${tool} is not installed: Services and cluster DNS need it (install the Debian/Ubuntu package ${PACKAGES[tool] ?? tool}, e.g. apt-get install ${PACKAGES[tool] ?? tool}; edgeos's install.sh installs it from a package mirror or from the air-gapped bundle)`));
      } else reject(err);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the close handler reports
    child.stdin.end(input ?? '');
  });
}

/** `nft -f -` (or `--check`, which the kernel validates and applies nothing). */
export function nftRunner(prefix: readonly string[] = []): NftRunner {
  return async (script, opts) => {
    const r = await runTool(['nft', ...(opts?.check ? ['--check'] : []), '-f', '-'], script, prefix);
    if (r.code !== 0) throw new ServicesError('SERVICES_NFT_REFUSED', r.stderr.trim() || `nft exited with ${r.code}`);
  };
}

/** Fails with SERVICES_TOOL_MISSING when nft is not installed, before anything is programmed. */
export async function checkNft(prefix: readonly string[] = []): Promise<string> {
  const r = await runTool(['nft', '--version'], undefined, prefix);
  if (r.code !== 0) throw new ServicesError('SERVICES_TOOL_MISSING', `nft --version failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** `ip …`, failing with its message. */
export async function ip(args: readonly string[], prefix: readonly string[] = []): Promise<void> {
  const r = await runTool(['ip', ...args], undefined, prefix);
  if (r.code !== 0) throw new ServicesError('SERVICES_HOST_NETWORK', `ip ${args.join(' ')}: ${r.stderr.trim()}`);
}
