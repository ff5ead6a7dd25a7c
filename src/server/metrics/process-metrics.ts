/**
 * process_* and nodejs_* (prom-client's default metrics: CPU, memory, file descriptors, event-loop
 * lag, GC, heap spaces). They describe the process, not one server, and prom-client's collectors
 * install process-wide observers that cannot be removed, so they are registered once per process
 * in their own Registry, which every server's scrape prepends to its own.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

let registry: Registry | undefined;

export function processRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
