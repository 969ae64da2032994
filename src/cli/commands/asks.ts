/** The commands that start asks and read them: ask, send, pending, status. */
import { Option } from 'commander';
import type { Command } from 'commander';
import { readPolicyFile } from '../../client/policy-file';
import type { AskRequest } from '../../domain/ask-request';
import { ASK_PRIORITIES } from '../../domain/ask-priority';
import type { AskPriority } from '../../domain/ask-priority';
import { normalizeRecipientPhone } from '../../domain/phone';
import { mergePolicies } from '../../domain/policy';
import { action, collect, jsonObjectOption, positiveInteger, withClient } from '../action';
import { formatPending, formatStatus } from '../format';

/** `--policy` names a preset, or a file holding one policy; `--policy-json` overrides either, field by field. */
function policyOf(
  policy: string | undefined,
  policyJson: Record<string, unknown> | undefined,
): Pick<AskRequest, 'preset' | 'policy' | 'policyName'> {
  const fromFile = policy !== undefined && /\.(ya?ml|json)$/i.test(policy);
  const filePolicy = fromFile ? readPolicyFile(policy) : undefined;
  const inline = filePolicy && policyJson ? mergePolicies(filePolicy, policyJson) : (filePolicy ?? policyJson);
  return {
    ...(policy !== undefined && !fromFile && { preset: policy }),
    ...(inline && { policy: inline }),
    ...(fromFile && { policyName: policy.replace(/^.*\/|\.(ya?ml|json)$/gi, '') }),
  };
}

/** ask, send, pending and status. */
export function addAskCommands(program: Command): void {
  program
    .command('ask')
    .description('send a question and (with --wait) wait for the answer')
    .argument('<question>', 'the question text')
    .requiredOption('--to <phone>', 'recipient phone number (repeat for several)', collect)
    .option('--option <label>', 'an answer option, 2 to 9 (repeat; default Yes and No)', collect)
    .option('--timeout <duration>', "how long to wait, e.g. 90s, 15m, 4h, 2d (default 24h, or the policy's)")
    .option('--default <label>', 'answer to use when the timeout fires')
    .option('--policy <preset|file>', 'a preset from SMS_ASK_POLICY_FILE, or a JSON/YAML file holding one policy')
    .option(
      '--policy-json <json>',
      'policy fields that override the preset\'s, e.g. \'{"responders":{"quorum":2}}\'',
      jsonObjectOption('--policy-json', '{"timeout":"2h"}'),
    )
    .option('--entitlement <id>', 'your own ask identity, e.g. XSOAR GUID@incident|task')
    .option(
      '--context <json>',
      'JSON object returned with the result',
      jsonObjectOption('--context', '{"incident":"1042"}'),
    )
    .addOption(
      new Option(
        '--priority <priority>',
        'how the ask is ordered when the worker is behind; bulk for a campaign of many asks (default normal)',
      ).choices(ASK_PRIORITIES),
    )
    .option('--wait', 'wait for the ask to end and print the result')
    .action(
      action(
        async (
          settings,
          question: string,
          opts: {
            to: string[];
            option?: string[];
            timeout?: string;
            default?: string;
            policy?: string;
            policyJson?: Record<string, unknown>;
            entitlement?: string;
            context?: Record<string, unknown>;
            priority?: AskPriority;
            wait?: boolean;
          },
        ) =>
          withClient(settings, async (client) => {
            const started = await client.start({
              to: opts.to,
              question,
              options: opts.option,
              timeout: opts.timeout,
              defaultAnswer: opts.default,
              ...policyOf(opts.policy, opts.policyJson),
              entitlement: opts.entitlement,
              context: opts.context,
              priority: opts.priority,
            });
            if (!opts.wait) return { json: started, text: `Ask started: ${started.askId}` };
            const result = await client.result(started.askId);
            return { json: result, text: formatStatus(result) };
          }),
      ),
    );

  program
    .command('send')
    .description('send a one-way SMS (no reply expected)')
    .requiredOption('--to <phone>', 'recipient phone number')
    .argument('<message...>', 'the text to send')
    .action(
      action(async (settings, words: string[], opts: { to: string }) =>
        withClient(settings, async (client) => {
          const { to, smsId, ...sent } = await client.sendSms({
            to: opts.to,
            message: words.join(' '),
            by: `cli:${process.env.USER ?? 'unknown'}`,
          });
          return {
            json: { to, ...sent },
            text: `Sent to ${to}: SNS message ${sent.messageId} (${sent.segments} segment(s), ${sent.encoding}); recorded as ${smsId}`,
          };
        }),
      ),
    );

  program
    .command('pending')
    .description('list the asks still waiting for an answer, soonest deadline first')
    .option('--to <phone>', 'only asks sent to this phone (in any tier)')
    .option('--entitlement <id>', 'only the ask with this entitlement')
    .option('--incident <id>', 'only asks of this incident')
    .option('--overdue', 'only asks past their deadline (the worker is behind or down)')
    .option('--escalated', 'only asks that escalated at least one tier')
    .option('--policy <name>', 'only asks with this policy: a preset, custom or default')
    .option(
      '--codes',
      "show each recipient's reply codes (one status query per ask; the listing itself never holds them)",
    )
    .option('--limit <n>', 'only the first n, soonest deadline first', (value) => positiveInteger(value, '--limit'))
    .action(
      action(
        async (
          settings,
          {
            to,
            codes,
            limit,
            ...filter
          }: {
            to?: string;
            codes?: boolean;
            limit?: number;
            entitlement?: string;
            incident?: string;
            overdue?: boolean;
            escalated?: boolean;
            policy?: string;
          },
        ) =>
          withClient(settings, async (client) => {
            const recipient = to ? normalizeRecipientPhone(to, settings.defaultCountry) : undefined;
            if (limit === undefined) {
              const rows = await client.listPending({ ...filter, recipient }, { withCodes: codes });
              return { json: rows, text: formatPending(rows) };
            }
            const page = await client.listPendingPage({ ...filter, recipient }, { withCodes: codes, limit });
            const more = page.next
              ? `\n(the first ${limit}; more are pending: raise --limit or narrow the filters)`
              : '';
            return { json: page.asks, text: `${formatPending(page.asks)}${more}` };
          }),
      ),
    );

  program
    .command('status')
    .description("show an ask's live state and event log")
    .argument('<id>', 'ask id or entitlement')
    .action(
      action(async (settings, id: string) =>
        withClient(settings, async (client) => {
          const state = await client.status(id);
          return { json: state, text: formatStatus(state) };
        }),
      ),
    );
}
