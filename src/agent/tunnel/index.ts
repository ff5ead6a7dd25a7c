/** The agent end of the tunnel (docs/tunnel.md): kubectl logs/exec/attach/port-forward on this node. */
export { createTunnelHandler } from './handler.ts';
export type { TunnelHandlerDeps } from './handler.ts';
export * from './errors.ts';
