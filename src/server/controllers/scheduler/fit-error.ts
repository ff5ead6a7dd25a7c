// kube-scheduler's FitError text: the per-reason node counts sorted as strings, then the
// preemption post-filter's summary. edgeos has no preemption, so every node reports
// "Preemption is not helpful for scheduling", as upstream does when no victim could help.
export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

export function fitErrorMessage(numNodes: number, reasons: ReadonlyMap<string, number>): string {
  if (numNodes === 0) return NO_NODES_MESSAGE;
  const parts = [...reasons].map(([reason, count]) => `${count} ${reason}`).sort();
  return `0/${numNodes} nodes are available: ${parts.join(', ')}. preemption: 0/${numNodes} nodes are available: ${numNodes} Preemption is not helpful for scheduling.`;
}
