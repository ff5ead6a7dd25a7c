import { describe, expect, it } from 'vitest';
import { agentArgvAfterJoin } from '../../src/cli/agent-command.ts';

describe('the command line a joined process continues with', () => {
  const head = ['/usr/local/bin/edgeos', '/usr/local/bin/edgeos'];

  it('turns `join <token> …` into `agent …` with every flag but the token', () => {
    expect(agentArgvAfterJoin([...head, 'join', 'K10tok', '--data-dir', '/d', '--node-label', 'a=b', '--disable-runtime'], 'K10tok'))
      .toEqual([...head, 'agent', '--data-dir', '/d', '--node-label', 'a=b', '--disable-runtime']);
    // The token may come after the flags too.
    expect(agentArgvAfterJoin([...head, 'join', '--node-name', 'n1', 'K10tok'], 'K10tok')).toEqual([...head, 'agent', '--node-name', 'n1']);
  });

  it('drops --token from `agent --token …`, in both spellings', () => {
    expect(agentArgvAfterJoin([...head, 'agent', '--token', 'K10tok', '--data-dir', '/d'], 'K10tok')).toEqual([...head, 'agent', '--data-dir', '/d']);
    expect(agentArgvAfterJoin([...head, 'agent', '--data-dir', '/d', '--token=K10tok'], 'K10tok')).toEqual([...head, 'agent', '--data-dir', '/d']);
    // A token from EDGEOS_TOKEN is not on the command line: nothing to drop.
    expect(agentArgvAfterJoin([...head, 'agent', '--data-dir', '/d'], 'K10tok')).toEqual([...head, 'agent', '--data-dir', '/d']);
  });
});
