/**
 * The whole job on the embedded local stack: start Temporal and the AWS emulator, run a worker,
 * ask a question by SMS, read the SMS the emulator got, reply from the "phone" through the
 * inbound SNS topic as AWS does, print the answer the workflow received, and shut down.
 * `--undelivered`: send through End User Messaging (its local stand-in), have the carrier block the
 * question, and show the next tier asked within seconds of the delivery event.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { SmsAskClient } from '../client/sms-ask-client';
import { loadSettings } from '../config';
import { startLocalStack } from '../local-stack/local-stack';
import type { LocalStack } from '../local-stack/local-stack';
import { publishPhoneReply, waitForSms } from '../local-stack/phone-simulator';
import { runWorker } from '../worker/run-worker';
import { installQuietRuntime } from '../worker/runtime';

const PHONE = '+12065550142';
const LEAD = '+12065550188';
const UNDELIVERED = process.argv.includes('--undelivered');
// The AWS SDK's notice that it will drop Node 20 in 2027 is noise in a demo; the CLI still shows it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const started = Date.now();
const say = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);

async function run(): Promise<void> {
  installQuietRuntime();
  say('starting the local stack: Temporal dev server + moto (AWS emulator)…');
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({ log: (line) => say(`  ${line}`) });
    const running = stack;
    // Temporal's runtime takes over SIGINT; make Ctrl-C still stop the servers and exit.
    process.once('SIGINT', () => void running.stop().finally(() => process.exit(130)));
    Object.assign(process.env, stack.env);
    say(`stack up: Temporal ${stack.temporalAddress}, AWS ${stack.awsEndpoint}`);
    say(`  inbound: topic ${stack.topicArn} -> queue ${stack.queueUrl} (DLQ ${stack.dlqUrl})`);
    await (UNDELIVERED ? undeliveredDemo(stack) : demo(stack));
  } finally {
    say('shutting down…');
    await stack?.stop();
    say('done.');
  }
}

async function demo(stack: LocalStack): Promise<void> {
  const settings = loadSettings({ ...process.env, SMS_ASK_LOG_LEVEL: process.env.SMS_ASK_LOG_LEVEL ?? 'warn' });
  // The same worker as `sms-ask worker`, run until the story below is told.
  await runWorker(settings, async (client) => {
    const asks = new SmsAskClient(client, { taskQueue: settings.taskQueue });
    say(`worker running on task queue "${settings.taskQueue}", inbound poller started`);

    const { askId } = await asks.start({
      to: PHONE,
      question: 'Isolate host WS-042 from the network? (incident 1042)',
      options: ['Yes', 'No'],
      timeout: '10m',
      defaultAnswer: 'No',
      context: { incident: '1042', playbook: 'ransomware-containment' },
    });
    say(`ask started: ${askId}`);

    const sms = await waitForSms(stack.awsEndpoint, (m) => m.phoneNumber === PHONE);
    say(`SMS received by ${sms.phoneNumber} (seen in the emulator):`);
    for (const line of sms.message.split('\n')) say(`    │ ${line}`);

    const yes = /Yes \((\d+)\)/.exec(sms.message)?.[1];
    if (!yes) throw new Error(`The SMS has no code for "Yes": ${sms.message}`);
    const sentAt = Date.now();
    await publishPhoneReply(new SNSClient({}), stack.topicArn, { from: PHONE, body: `${yes} thanks` });
    say(`the phone replies "${yes} thanks" (published to the inbound SNS topic, as AWS two-way SMS does)`);

    const result = await asks.result(askId);
    say(`answer reached the workflow ${Date.now() - sentAt} ms after the reply was published:`);
    say(
      `    status ${result.status}: ${result.answer?.option} (via ${result.answer?.via}, by ${result.answer?.by}, at ${result.answer?.at})`,
    );
    say(`    context returned: ${JSON.stringify(result.context)}`);

    const feedback = await waitForSms(
      stack.awsEndpoint,
      (m) => m.phoneNumber === PHONE && m.messageId !== sms.messageId,
    );
    say(`feedback SMS to the phone: "${feedback.message}"`);
    say('event log:');
    for (const e of result.events) say(`    ${e.at}  ${e.type.padEnd(14)} ${e.detail ?? ''}`);
    if (result.answer?.option !== 'Yes')
      throw new Error(`Expected the answer Yes, got ${JSON.stringify(result.answer)}`);
  });
}

/** A blocked question: End User Messaging's delivery event starts the next tier at once. */
async function undeliveredDemo(stack: LocalStack): Promise<void> {
  const settings = loadSettings({
    ...process.env,
    SMS_ASK_LOG_LEVEL: process.env.SMS_ASK_LOG_LEVEL ?? 'warn',
    SMS_ASK_SMS_SENDER: 'end-user-messaging',
    SMS_ASK_ORIGINATION_IDENTITY: stack.originationNumber,
  });
  say(`sending through End User Messaging SMS (the local stand-in at ${stack.smsVoiceEndpoint}, not AWS)`);
  stack.endUserMessaging.setOutcome(PHONE, ['TEXT_BLOCKED']);
  say(`the stand-in's carrier will block every SMS to ${PHONE}`);
  await runWorker(settings, async (client) => {
    const asks = new SmsAskClient(client, { taskQueue: settings.taskQueue });
    const { askId } = await asks.start({
      to: PHONE,
      question: 'Isolate host WS-042 from the network? (incident 1042)',
      policy: { timeout: '1h', escalation: [{ after: '30m', to: LEAD, message: 'Escalated: on-call unreachable.' }] },
    });
    say(`ask started: ${askId}; the lead ${LEAD} is due at 30m`);
    const first = await stack.endUserMessaging.waitForSent((m) => m.destinationPhoneNumber === PHONE);
    say(`question sent to ${PHONE} (message ${first.messageId}, context ${JSON.stringify(first.input.Context)})`);
    const lead = await stack.endUserMessaging.waitForSent((m) => m.destinationPhoneNumber === LEAD, 30_000);
    say(`question sent to the lead ${LEAD}, ${lead.timestamp - first.timestamp} ms after the first: not at 30m`);
    // The lead's question goes out with its registration, a moment before the log records the escalation.
    let state = await asks.status(askId);
    for (let i = 0; i < 50 && !state.events.some((e) => e.type === 'escalated'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = await asks.status(askId);
    }
    say('event log:');
    for (const e of state.events) say(`    ${e.at}  ${e.type.padEnd(14)} ${e.detail ?? ''}`);
    if (!state.events.some((e) => e.type === 'escalated')) throw new Error('The ask did not escalate');
    await asks.cancel(askId, { by: 'demo', reason: 'demo over' });
  });
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
