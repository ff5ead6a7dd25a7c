// The pods/status patch a node's status report becomes, applied by the API's own strategic merge
// engine to a stored pod: the kubelet's conditions replace theirs by type (fields they dropped
// removed), every other condition stays as stored, the pod's addresses are the kubelet's list.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/server/kinds/types.ts';
import { podStatusPatch } from '../../src/server/link/pod-status-patch.ts';
import { applyPatch } from '../../src/server/patch/index.ts';

const pod = { group: '', version: 'v1', kind: 'Pod' };

describe('pod status patch', () => {
  it('names only the kubelet\'s conditions, so the others survive, and replaces the addresses', () => {
    const stored = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'target-health.example.com/ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:02Z' },
          { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: 'corresponding condition of pod readiness gate "target-health.example.com/ready" does not exist.', lastTransitionTime: '2026-01-01T00:00:01Z' },
          { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' },
        ],
        podIP: '10.42.0.5', podIPs: [{ ip: '10.42.0.5' }, { ip: 'fd00::5' }],
      },
    } as unknown as KubeObject;
    // The kubelet's status, computed before it saw the gate turn True.
    const status = {
      phase: 'Running',
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:03Z' },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' },
        { type: 'target-health.example.com/ready', status: 'False' },
      ],
      podIP: '10.42.0.9', podIPs: [{ ip: '10.42.0.9' }],
    };
    const patch = podStatusPatch('u1', status);
    expect(patch.metadata).toEqual({ uid: 'u1' });
    const out = applyPatch('strategic', stored, Buffer.from(JSON.stringify(patch)), pod) as unknown as { status: { conditions: { type: string }[]; podIPs: unknown[] } };
    const byType = [...out.status.conditions].sort((a, b) => a.type.localeCompare(b.type));
    expect(byType).toEqual([
      { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:03Z' },
      { type: 'target-health.example.com/ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:02Z' },
    ]);
    expect(out.status.podIPs).toEqual([{ ip: '10.42.0.9' }]);
  });
});
