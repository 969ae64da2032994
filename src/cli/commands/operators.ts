/** An operator's actions on one ask, each recorded with who and why: answer, cancel, extend, resend. */
import type { Command } from 'commander';
import { action, operator, withClient } from '../action';

/** answer, cancel, extend and resend. */
export function addOperatorCommands(program: Command): void {
  program
    .command('answer')
    .description('answer an ask by hand, as an operator')
    .argument('<id>', 'ask id or entitlement')
    .argument('<option>', 'option label or its number')
    .option('--by <name>', 'who is answering', operator)
    .option('--reason <text>', 'why, for the event log')
    .action(
      action(async (settings, id: string, option: string, opts: { by: string; reason?: string }) =>
        withClient(settings, async (client) => {
          const state = await client.answer(id, option, opts.by, opts.reason);
          return { json: state, text: `Answered ${state.askId}: ${state.answer?.option}` };
        }),
      ),
    );

  program
    .command('cancel')
    .description('cancel an ask; its recipients are told')
    .argument('<id>', 'ask id or entitlement')
    .option('--reason <text>', 'why, for the event log and the recipients')
    .option('--by <name>', 'who is cancelling', operator)
    .action(
      action(async (settings, id: string, opts: { reason?: string; by: string }) =>
        withClient(settings, async (client) => {
          const state = await client.cancel(id, { by: opts.by, reason: opts.reason });
          return { json: state, text: `Cancelled ${state.askId}` };
        }),
      ),
    );

  program
    .command('extend')
    .description("move an ask's deadline later")
    .argument('<id>', 'ask id or entitlement')
    .option('--by <duration>', 'add this to the current deadline, e.g. 2h')
    .option('--until <time>', 'the new deadline, ISO 8601')
    .option('--reason <text>', 'why, for the event log')
    .option('--as <name>', 'who is extending', operator)
    .action(
      action(async (settings, id: string, opts: { by?: string; until?: string; reason?: string; as: string }) =>
        withClient(settings, async (client) => {
          if ((opts.by === undefined) === (opts.until === undefined))
            throw new Error('give either --by <duration> or --until <time>');
          const state = await client.extend(id, {
            extendBy: opts.by,
            until: opts.until,
            by: opts.as,
            reason: opts.reason,
          });
          return { json: state, text: `Extended ${state.askId}: deadline ${state.deadline}` };
        }),
      ),
    );

  program
    .command('resend')
    .description('send the question again now, with the same codes, to everyone who has not answered')
    .argument('<id>', 'ask id or entitlement')
    .option('--reason <text>', 'why, for the event log')
    .option('--by <name>', 'who is asking for it', operator)
    .action(
      action(async (settings, id: string, opts: { reason?: string; by: string }) =>
        withClient(settings, async (client) => {
          const state = await client.resend(id, { by: opts.by, reason: opts.reason });
          return {
            json: state,
            text: `Re-sending ${state.askId} to ${state.recipients.filter((r) => !r.answer && !r.optedOut).length} recipient(s)`,
          };
        }),
      ),
    );
}
