import { Command } from 'commander';
import { addAskCommands } from './commands/asks';
import { addDeployCommands } from './commands/deploy';
import { addReplyCommand, addStackCommands } from './commands/local-stack';
import { addOperatorCommands } from './commands/operators';
import { addCodecServerCommand, addProcessCommands } from './commands/processes';
import { addDiagnosticCommands } from './diagnostics';
import { describeError } from './errors';
import { endQuietlyOnClosedPipe, exitWith } from './output';

export { endQuietlyOnClosedPipe };

export function buildProgram(): Command {
  const program = new Command('sms-ask')
    .description('Ask people questions by SMS and wait, durably, for their answers.')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError();
  addProcessCommands(program);
  addAskCommands(program);
  addOperatorCommands(program);
  addReplyCommand(program);
  addCodecServerCommand(program);
  addDiagnosticCommands(program);
  addDeployCommands(program);
  addStackCommands(program);
  return program;
}

if (require.main === module) {
  endQuietlyOnClosedPipe();
  buildProgram()
    .parseAsync(process.argv)
    .catch((err) => exitWith(1, { stderr: `error: ${describeError(err)}` }));
}
