// kube-scheduler's FitError text: the per-reason node counts sorted as strings, then the
// preemption post-filter's summary. edgeos has no preemption, so every node reports
// "Preemption is not helpful for scheduling", as upstream does when no victim could help.
export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

/** `preFilter`: a PreFilter plugin's message (VolumeBinding's missing claim), which replaces the per-node reasons. */
export function fitErrorMessage(numNodes: number, reasons: ReadonlyMap<string, number>, preFilter?: string): string {
  if (numNodes === 0) return NO_NODES_MESSAGE;
  const parts = preFilter ?? [...reasons].map(([reason, count]) => `${count} ${reason}`).sort().join(', ');
  return `0/${numNodes} nodes are available: ${parts}. preemption: 0/${numNodes} nodes are available: ${numNodes} Preemption is not helpful for scheduling.`;
}
