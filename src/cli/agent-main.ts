// The entry point of the executable's agent script: `edgeos join` and `edgeos agent` only. The
// executable runs it instead of the whole program (src/cli/main.ts) for those two commands, so a
// device's long-running process holds none of the server's code: the source of every script a
// process loads stays in its heap, and the server's is 1.8 of the 3 MB (docs/build.md, "Two programs").
import { relaunchForRole } from '../common/v8-flags.ts';
import { agentCommand } from './agent-command.ts';
import { reportFatal } from './fatal.ts';
import { joinCommand } from './join-command.ts';
import { programWith } from './program-base.ts';

async function main(argv: string[]): Promise<void> {
  relaunchForRole(argv);
  await programWith([joinCommand(), agentCommand()]).parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.exitCode = reportFatal(err);
});
