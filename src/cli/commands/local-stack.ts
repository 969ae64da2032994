/** The embedded local stack, and playing the phone on it. */
import { SNSClient } from '@aws-sdk/client-sns';
import { Option } from 'commander';
import type { Command } from 'commander';
import { createAwsClients } from '../../aws/clients';
import { normalizeRecipientPhone } from '../../domain/phone';
import { LOCAL_QUEUE_NAME, provisionInboundResources } from '../../local-stack/local-stack';
import { publishPhoneReply } from '../../local-stack/phone-simulator';
import { action } from '../action';

/** reply: play the phone on the local stack. */
export function addReplyCommand(program: Command): void {
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
}

/** stack up, provision and down. */
export function addStackCommands(program: Command): void {
  const stack = program.command('stack').description('the embedded local stack: Temporal dev server and AWS emulator');
  stack
    .command('up')
    .description('start the local stack (and a worker) until Ctrl-C; writes its settings to an env file')
    // Not --env-file: Node 20 claims that flag anywhere on the command line.
    .option('--env-path <path>', 'where to write the settings', '.stack/env')
    .addOption(new Option('--no-worker', 'do not run a worker in the stack process'))
    .action(
      action(async (_settings, opts: { envPath: string; worker: boolean }) =>
        (await import('../stack.js')).runStack({ envFile: opts.envPath, worker: opts.worker }),
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
        const { stopBackgroundStack } = await import('../stack.js');
        const pid = await stopBackgroundStack(opts.envPath);
        return { json: { stopped: pid }, text: `Local stack (pid ${pid}) stopped.` };
      }),
    );
}
