import { Command, InvalidArgumentError, Option } from 'commander';
import { SNSClient } from '@aws-sdk/client-sns';
import { createAwsClients } from '../aws/clients';
import { readPolicyFile } from '../client/policy-file';
import { SmsAskClient } from '../client/sms-ask-client';
import type { AskRequest } from '../domain/ask-request';
import { ASK_PRIORITIES } from '../domain/ask-priority';
import type { AskPriority } from '../domain/ask-priority';
import { mergePolicies } from '../domain/policy';
import { loadSettings, spendLimits } from '../config';
import type { Settings } from '../config';
import { normalizeRecipientPhone } from '../domain/phone';
import { LOCAL_QUEUE_NAME, provisionInboundResources } from '../local-stack/local-stack';
import { publishPhoneReply } from '../local-stack/phone-simulator';
import { codecServerHosts, createCodecServer, listen } from '../temporal/codec-server';
import { AesGcmPayloadCodec } from '../temporal/payload-codec';
import { parsePayloadKeys } from '../temporal/payload-keys';
import { connectClient } from '../temporal/connection';
import { addDiagnosticCommands } from './diagnostics';
import { describeError } from './errors';
import { formatPending, formatStatus } from './format';
import { endQuietlyOnClosedPipe, exitWith, secretsOf } from './output';

/** A whole number of 1 or more, for an option such as --limit; commander reports the error with the option's name. */
function positiveInteger(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${option} takes a whole number of 1 or more, not ${JSON.stringify(value)}.`);
  return n;
}

export { endQuietlyOnClosedPipe };

interface GlobalOptions {
  json?: boolean;
}

/** Prints a result as JSON or as text, then exits; errors exit non-zero with what to do. */
function action<A extends unknown[]>(
  body: (settings: Settings, ...args: A) => Promise<{ json: unknown; text: string } | void>,
) {
  return async (...args: A) => {
    const command = args[args.length - 1] as Command;
    const json = Boolean((command.optsWithGlobals() as GlobalOptions).json);
    let settings: Settings | undefined;
    try {
      settings = loadSettings();
      const out = await body(settings, ...args);
      await exitWith(
        0,
        out ? { stdout: json ? JSON.stringify(out.json, null, 2) : out.text } : {},
        secretsOf(settings),
      );
    } catch (err) {
      const message = describeError(err);
      await exitWith(
        1,
        json ? { stdout: JSON.stringify({ error: message }, null, 2) } : { stderr: `error: ${message}` },
        secretsOf(settings),
      );
    }
  };
}

async function withClient<T>(settings: Settings, body: (client: SmsAskClient) => Promise<T>): Promise<T> {
  const temporal = await connectClient(settings);
  try {
    return await body(
      new SmsAskClient(temporal, {
        taskQueue: settings.taskQueue,
        defaultCountry: settings.defaultCountry,
        maxCodeLength: settings.codeLength,
        codeMode: settings.codeMode,
        policyFile: settings.policyFile,
        spend: spendLimits(settings),
      }),
    );
  } finally {
    await temporal.connection.close();
  }
}

function jsonObjectOption(option: string, example: string) {
  return (value: string): Record<string, unknown> => {
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // fall through to the error below
    }
    throw new Error(`${option} must be a JSON object, e.g. '${example}'; got ${value}`);
  };
}

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

const collect = (value: string, previous: string[] = []) => [...previous, value];
/** Operator actions are logged with who did them; by default, the logged-in user. */
const operator = process.env.USER ?? 'operator';

export function buildProgram(): Command {
  const program = new Command('sms-ask')
    .description('Ask people questions by SMS and wait, durably, for their answers.')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError();

  program
    .command('worker')
    .description('run the worker: workflows, activities and the inbound SQS poller')
    .action(action(async (settings) => (await import('../worker/run-worker.js')).runWorker(settings)));

  program
    .command('serve')
    .description('serve the HTTP API (a Temporal client: run a worker beside it, or use --worker)')
    .option('--host <address>', 'listen on this address (SMS_ASK_HTTP_HOST; default 127.0.0.1)')
    .option('--port <port>', 'listen on this port (SMS_ASK_HTTP_PORT; default 8080)')
    .option('--worker', 'run the worker in this process too (SMS_ASK_SERVE_WORKER)')
    .option('--keyless', 'no API keys: loopback only, as the local operator (SMS_ASK_HTTP_KEYLESS)')
    .action(
      action(async (_settings, opts: { host?: string; port?: string; worker?: boolean; keyless?: boolean }) => {
        const settings = loadSettings(process.env, {
          ...(opts.keyless && { httpKeyless: true }),
          ...(opts.host !== undefined && { httpHost: opts.host }),
          ...(opts.port !== undefined && { httpPort: opts.port as unknown as number }),
          ...(opts.worker && { serveWorker: true }),
        });
        const { runServe } = await import('../http/serve.js');
        await runServe(settings, (url: string) =>
          console.log(`sms-ask HTTP API on ${url} (OpenAPI: ${url}/openapi.json)`),
        );
      }),
    );

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

  program
    .command('reply')
    .description('local stack only: play the phone, publishing a reply to the inbound topic as AWS does')
    .requiredOption('--from <phone>', 'the phone that replies')
    .argument('<text...>', 'the reply text')
    .action(
      action(async (settings, words: string[], opts: { from: string }) => {
        if (!process.env.AWS_ENDPOINT_URL && !process.env.AWS_ENDPOINT_URL_SNS) {
          throw new Error(
            'reply only runs against the local stack (AWS_ENDPOINT_URL is not set). Start it with `sms-ask stack up` and load .stack/env.',
          );
        }
        if (!settings.inboundTopicArn)
          throw new Error('SMS_ASK_INBOUND_TOPIC_ARN is not set; load the local stack settings from .stack/env.');
        const from = normalizeRecipientPhone(opts.from, settings.defaultCountry);
        const inboundMessageId = await publishPhoneReply(new SNSClient({}), settings.inboundTopicArn, {
          from,
          body: words.join(' '),
        });
        return {
          json: { from, inboundMessageId },
          text: `Reply from ${from} published (inboundMessageId ${inboundMessageId})`,
        };
      }),
    );

  program
    .command('codec-server')
    .description('serve the payload codec (SMS_ASK_PAYLOAD_KEYS) for the Temporal UI and CLI: POST /encode and /decode')
    .option(
      '--host <host>',
      'address to listen on; keep it on loopback unless something in front authenticates',
      '127.0.0.1',
    )
    .option('--port <port>', 'port to listen on', '8888')
    .option(
      '--cors-origin <origin...>',
      "browser origins allowed to call it: the Temporal UI's, e.g. http://localhost:8233",
    )
    .option(
      '--allowed-host <name...>',
      'host names it answers to besides loopback names and --host (others are refused: DNS rebinding)',
    )
    .action(async (opts: { host: string; port: string; corsOrigin?: string[]; allowedHost?: string[] }) => {
      try {
        const settings = loadSettings();
        if (!settings.payloadKeys) throw new Error('SMS_ASK_PAYLOAD_KEYS is not set: there is nothing to decode with.');
        const url = await listen(
          createCodecServer(new AesGcmPayloadCodec(parsePayloadKeys(settings.payloadKeys)), {
            corsOrigins: opts.corsOrigin,
            hosts: codecServerHosts(opts.host, opts.allowedHost),
          }),
          opts.host,
          Number(opts.port),
        );
        console.log(
          `codec server at ${url}; point the Temporal UI (Data Encoder) or \`temporal --codec-endpoint ${url}\` at it`,
        );
      } catch (err) {
        console.error(`error: ${describeError(err)}`);
        process.exit(1);
      }
    });

  addDiagnosticCommands(program);

  const stack = program.command('stack').description('the embedded local stack: Temporal dev server and AWS emulator');
  stack
    .command('up')
    .description('start the local stack (and a worker) until Ctrl-C; writes its settings to an env file')
    // Not --env-file: Node 20 claims that flag anywhere on the command line.
    .option('--env-path <path>', 'where to write the settings', '.stack/env')
    .addOption(new Option('--no-worker', 'do not run a worker in the stack process'))
    .action(
      action(async (_settings, opts: { envPath: string; worker: boolean }) =>
        (await import('./stack.js')).runStack({ envFile: opts.envPath, worker: opts.worker }),
      ),
    );
  stack
    .command('provision')
    .description('create the inbound topic, queue, DLQ and subscription on an AWS emulator (AWS_ENDPOINT_URL)')
    .option('--name <name>', 'name of the topic and queue', LOCAL_QUEUE_NAME)
    .action(
      action(async (settings, opts: { name: string }) => {
        if (!process.env.AWS_ENDPOINT_URL)
          throw new Error('stack provision only runs against an AWS emulator: set AWS_ENDPOINT_URL.');
        const { sns, sqs } = createAwsClients(settings);
        const made = await provisionInboundResources({
          sns,
          sqs,
          queueName: opts.name,
          topicName: opts.name,
          visibilityTimeoutSeconds: 30,
          maxReceiveCount: 5,
        });
        return {
          json: made,
          text: Object.entries(made)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n'),
        };
      }),
    );
  stack
    .command('down')
    .description('stop a local stack started in the background')
    .option('--env-path <path>', 'the settings file the stack wrote', '.stack/env')
    .action(
      action(async (_settings, opts: { envPath: string }) => {
        const { stopBackgroundStack } = await import('./stack.js');
        const pid = await stopBackgroundStack(opts.envPath);
        return { json: { stopped: pid }, text: `Local stack (pid ${pid}) stopped.` };
      }),
    );

  return program;
}

if (require.main === module) {
  endQuietlyOnClosedPipe();
  buildProgram()
    .parseAsync(process.argv)
    .catch((err) => exitWith(1, { stderr: `error: ${describeError(err)}` }));
}
