/** The `setup`, `test` and `doctor` commands: thin wrappers over src/setup and src/doctor. */
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { createAwsClients } from '../aws/clients';
import { loadSettings } from '../config';
import type { Settings } from '../config';
import { CONNECTIVITY_CHECKS } from '../doctor/checks';
import type { Check } from '../doctor/checks';
import { createDoctorContext } from '../doctor/context';
import { runChecks } from '../doctor/run-checks';
import { doctorChecksFor } from '../doctor/select-checks';
import type { CheckReport } from '../doctor/run-checks';
import { runSetup } from '../setup/setup';
import type { SetupReport } from '../setup/setup';
import { setupTargetFrom } from '../setup/resources';
import { connectClient } from '../temporal/connection';
import { describeError } from './errors';
import { exitWith, secretsOf } from './output';

/** Secret values that must never be printed, even inside an AWS error message. */
/** Prints the report (JSON or text, secrets removed) and exits: 1 when `failed`. */
function finish(
  json: boolean,
  settings: Settings | undefined,
  report: unknown,
  text: string,
  failed: boolean,
): Promise<never> {
  return exitWith(failed ? 1 : 0, { stdout: json ? JSON.stringify(report, null, 2) : text }, secretsOf(settings));
}

function fail(json: boolean, settings: Settings | undefined, err: unknown): Promise<never> {
  const message = describeError(err);
  return exitWith(
    1,
    json ? { stdout: JSON.stringify({ error: message }, null, 2) } : { stderr: `error: ${message}` },
    secretsOf(settings),
  );
}

const LABELS = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' } as const;

export function formatCheckReport(report: CheckReport): string {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = report.checks.flatMap((c) => [
    `${LABELS[c.status]}  ${c.name.padEnd(width)}  ${c.saw}`,
    ...(c.fix && c.status !== 'pass'
      ? [`${' '.repeat(width + 8)}${c.status === 'skip' ? 'why' : 'fix'}: ${c.fix}`]
      : []),
  ]);
  const count = (status: keyof typeof LABELS) => report.checks.filter((c) => c.status === status).length;
  lines.push(
    `${count('pass')} passed, ${count('warn')} warning(s), ${count('fail')} failed, ${count('skip')} skipped (${(report.durationMs / 1000).toFixed(1)} s)`,
  );
  return lines.join('\n');
}

export function formatSetupReport(report: SetupReport): string {
  const { resources: r } = report;
  const changes = report.steps.filter((s) => s.action !== 'none').length;
  const verdict = !report.changed
    ? 'Nothing to change: everything already matches.'
    : report.dryRun
      ? `Dry run: ${changes} change(s) planned, none made. Run without --dry-run to make them.`
      : `Done: ${changes} change(s) made.`;
  return [
    `sms-ask setup: account ${r.accountId}, region ${r.region}`,
    ...report.steps.map(
      (s) =>
        `  ${s.action.padEnd(6)}  ${s.resource.padEnd(17)}  ${s.target}${s.action === 'none' ? '' : `\n${s.changes.map((c) => `${' '.repeat(29)}- ${c}`).join('\n')}`}`,
    ),
    verdict,
    '',
    'Settings for the worker:',
    ...Object.entries(report.workerSettings).map(([k, v]) => `  ${k}=${v}`),
    '',
    'Least-privilege IAM policy for the worker (its identity, or the role it assumes):',
    JSON.stringify(report.workerPolicy, null, 2),
    '',
    "Trust policy for the role, if the worker assumes one (SMS_ASK_ROLE_ARN); narrow the principal to the worker's own identity:",
    JSON.stringify(report.trustPolicy, null, 2),
    '',
    report.resources.endUserMessaging ? 'What setup cannot do for you:' : 'The step setup cannot do for you:',
    ...report.manualSteps,
  ].join('\n');
}

/** Runs checks with a lazily connected Temporal client, and closes it. */
async function runWithContext(settings: Settings, checks: Check[]): Promise<CheckReport> {
  const aws = createAwsClients(settings);
  let temporal: Client | undefined;
  const ctx = createDoctorContext(settings, aws, async () => (temporal = await connectClient(settings)));
  try {
    return await runChecks(checks, ctx);
  } finally {
    aws.destroy();
    await temporal?.connection.close();
  }
}

async function setupWith(
  settings: Settings,
  opts: { dryRun: boolean; queueName?: string; topicName?: string; twoWayChannelRole?: string; temporal: boolean },
): Promise<SetupReport> {
  const aws = createAwsClients(settings);
  let temporal: Client | undefined;
  try {
    if (opts.temporal) temporal = await connectClient(settings);
    const target = setupTargetFrom(settings, {
      queueName: opts.queueName,
      topicName: opts.topicName,
      twoWayChannelRoleArn: opts.twoWayChannelRole,
    });
    return await runSetup(
      { sns: aws.sns, sqs: aws.sqs, sts: aws.sts, smsVoice: aws.smsVoice, temporal },
      target,
      settings,
      { dryRun: opts.dryRun },
    );
  } finally {
    aws.destroy();
    await temporal?.connection.close();
  }
}

export function addDiagnosticCommands(program: Command): void {
  const jsonOf = (command: Command) => Boolean((command.optsWithGlobals() as { json?: boolean }).json);

  program
    .command('setup')
    .description(
      'create or reconcile the inbound queue, DLQ, topic, subscription, queue policy and search attributes (with End User Messaging, also the configuration set, its event destination and two-way SMS); prints the IAM policies',
    )
    .option('--dry-run', 'print the plan and change nothing')
    .option('--queue-name <name>', 'the inbound queue (default: from SMS_ASK_QUEUE_URL, else sms-ask-inbound)')
    .option('--topic-name <name>', 'the inbound topic (default: from SMS_ASK_INBOUND_TOPIC_ARN, else sms-ask-inbound)')
    .option(
      '--two-way-channel-role <arn>',
      'End User Messaging: an IAM role it assumes to publish replies to the topic (default: none; the topic policy lets it)',
    )
    .option('--no-temporal', 'do not register the search attributes in Temporal')
    .action(
      async (
        opts: {
          dryRun?: boolean;
          queueName?: string;
          topicName?: string;
          twoWayChannelRole?: string;
          temporal: boolean;
        },
        command: Command,
      ) => {
        const json = jsonOf(command);
        let settings: Settings | undefined;
        try {
          settings = loadSettings();
          const report = await setupWith(settings, { ...opts, dryRun: Boolean(opts.dryRun) });
          await finish(json, settings, report, formatSetupReport(report), false);
        } catch (err) {
          await fail(json, settings, err);
        }
      },
    );

  const checkCommand = (name: string, description: string, checksFor: (settings: Settings) => Check[]) =>
    program
      .command(name)
      .description(description)
      .action(async (_opts: unknown, command: Command) => {
        const json = jsonOf(command);
        let settings: Settings | undefined;
        try {
          settings = loadSettings();
          const report = await runWithContext(settings, checksFor(settings));
          await finish(json, settings, report, formatCheckReport(report), !report.ok);
        } catch (err) {
          await fail(json, settings, err);
        }
      });

  checkCommand(
    'test',
    'check that AWS (STS, SNS, SQS) and Temporal can be reached with these settings; exits 1 if not',
    () => CONNECTIVITY_CHECKS,
  );
  checkCommand(
    'doctor',
    'check every known cause of replies that never arrive (with End User Messaging, also two-way, registration, configuration set, sandbox and spend limit); says what it saw and the fix; exits 1 on a failure',
    doctorChecksFor,
  );
}
