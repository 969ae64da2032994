import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@temporalio/client';
import { DescribePhoneNumbersCommand, PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, DeleteMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { localAwsClientConfig, startLocalStack, type LocalStack } from '../../src/local-stack/local-stack';
import { listSentSms, publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';

const ROOT = path.resolve(__dirname, '..', '..');

function portOf(hostPortOrUrl: string): number {
  return Number(/:(\d+)\/?$/.exec(hostPortOrUrl)?.[1]);
}

/** true when something accepts TCP connections on 127.0.0.1:port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return condition();
}

/** The two-way SMS payload inside an SNS envelope received from SQS. */
function payloadOf(message: Message): Record<string, unknown> {
  const envelope = JSON.parse(message.Body ?? '{}') as { Message?: string };
  return JSON.parse(envelope.Message ?? '{}') as Record<string, unknown>;
}

describe('local stack', () => {
  let stack: LocalStack;
  let sns: SNSClient;
  let sqs: SQSClient;

  beforeAll(async () => {
    stack = await startLocalStack({ visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    sns = new SNSClient(localAwsClientConfig(stack));
    sqs = new SQSClient(localAwsClientConfig(stack));
  });

  afterAll(async () => {
    sns?.destroy();
    sqs?.destroy();
    await stack?.stop();
  });

  it('starts a Temporal server whose namespace a client can reach', async () => {
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.capabilities).toBeTruthy();
      const ns = await connection.workflowService.describeNamespace({ namespace: stack.namespace });
      expect(ns.namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
    expect(stack.env).toMatchObject({
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: stack.awsEndpoint,
      AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: stack.smsVoiceEndpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SMS_ASK_QUEUE_URL: stack.queueUrl,
      SMS_ASK_INBOUND_TOPIC_ARN: stack.topicArn,
    });
  });

  it('runs the End User Messaging SMS stand-in with the origination number two-way to the inbound topic', async () => {
    const smsVoice = new PinpointSMSVoiceV2Client({
      ...localAwsClientConfig(stack),
      endpoint: stack.env.AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2,
    });
    try {
      const { PhoneNumbers } = await smsVoice.send(
        new DescribePhoneNumbersCommand({ PhoneNumberIds: [stack.originationNumber] }),
      );
      expect(PhoneNumbers).toEqual([
        expect.objectContaining({
          PhoneNumber: '+18885550100',
          Status: 'ACTIVE',
          TwoWayEnabled: true,
          TwoWayChannelArn: stack.topicArn,
        }),
      ]);
    } finally {
      smsVoice.destroy();
    }
  });

  it('delivers a phone reply published to the inbound topic to the queue inside the SNS envelope', async () => {
    const inboundMessageId = await publishPhoneReply(sns, stack.topicArn, { from: '+15551230001', body: 'YES 42' });

    let found: Message | undefined;
    const deadline = Date.now() + 10_000;
    while (!found && Date.now() < deadline) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      found = Messages.find((m) => payloadOf(m).inboundMessageId === inboundMessageId);
    }
    expect(found, 'the reply never reached the queue').toBeDefined();
    await sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrl, ReceiptHandle: found!.ReceiptHandle }));

    const envelope = JSON.parse(found!.Body!) as Record<string, unknown>;
    expect(envelope).toMatchObject({ Type: 'Notification', TopicArn: stack.topicArn });
    expect(envelope.MessageId).toEqual(expect.any(String));
    expect(payloadOf(found!)).toEqual({
      originationNumber: '+15551230001',
      destinationNumber: '+18885550100',
      messageKeyword: 'KEYWORD_123456789012',
      messageBody: 'YES 42',
      inboundMessageId,
      previousPublishedMessageId: expect.any(String),
    });
  });

  it('moves a message received more than maxReceiveCount times without being deleted to the DLQ', async () => {
    const inboundMessageId = randomUUID();
    await publishPhoneReply(sns, stack.topicArn, { from: '+15551230002', body: 'never handled', inboundMessageId });

    let receivesFromQueue = 0;
    let inDlq: Message | undefined;
    const deadline = Date.now() + 20_000;
    while (!inDlq && Date.now() < deadline) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      receivesFromQueue += Messages.filter((m) => payloadOf(m).inboundMessageId === inboundMessageId).length;
      const dlq = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.dlqUrl, MaxNumberOfMessages: 10 }));
      inDlq = dlq.Messages?.find((m) => payloadOf(m).inboundMessageId === inboundMessageId);
    }
    expect(inDlq, 'the message never reached the DLQ').toBeDefined();
    expect(receivesFromQueue).toBe(2);
    expect(payloadOf(inDlq!).messageBody).toBe('never handled');
  });

  it('lists an SMS sent with SNS Publish(PhoneNumber), in send order', async () => {
    const before = await listSentSms(stack.awsEndpoint);
    const text = `Question ${randomUUID()}: reply YES or NO`;
    const first = await sns.send(new PublishCommand({ PhoneNumber: '+15550001111', Message: text }));
    const second = await sns.send(new PublishCommand({ PhoneNumber: '+15550002222', Message: 'second' }));

    const after = await listSentSms(stack.awsEndpoint);
    expect(after.slice(before.length)).toEqual([
      { messageId: first.MessageId, phoneNumber: '+15550001111', message: text },
      { messageId: second.MessageId, phoneNumber: '+15550002222', message: 'second' },
    ]);
    await expect(waitForSms(stack.awsEndpoint, (sms) => sms.message === text)).resolves.toMatchObject({
      phoneNumber: '+15550001111',
    });
  });

  it('waitForSms fails with the list of SMS seen when none matches in time', async () => {
    await expect(waitForSms(stack.awsEndpoint, (sms) => sms.phoneNumber === '+10000000000', 300)).rejects.toThrow(
      /no matching SMS was sent within 300 ms; SMS sent so far \(\d+\):\n {2}\+15550001111: "Question/,
    );
  });

  // Last: it stops the shared stack.
  it('stop() leaves no moto, Temporal server or stand-in listening', async () => {
    const ports = [portOf(stack.temporalAddress), portOf(stack.awsEndpoint), portOf(stack.smsVoiceEndpoint)];
    expect(await Promise.all(ports.map(isListening))).toEqual([true, true, true]);
    await stack.stop();
    await stack.stop(); // idempotent
    expect(await Promise.all(ports.map(isListening))).toEqual([false, false, false]);
  });
});

describe('local stack owned by a process that is killed', () => {
  it('does not outlive its process, even one killed with SIGKILL', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-ask-stack-'));
    const script = path.join(dir, 'start-stack.ts');
    const modulePath = path.join(ROOT, 'src', 'local-stack', 'local-stack');
    fs.writeFileSync(
      script,
      `import { startLocalStack } from ${JSON.stringify(modulePath)};\n` +
        `startLocalStack().then((s) => console.log('STACK ' + JSON.stringify(s.env)));\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const env = await new Promise<Record<string, string>>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const line = /^STACK (.*)$/m.exec(out);
          if (line?.[1]) resolve(JSON.parse(line[1]) as Record<string, string>);
        });
        child.on('exit', (code) =>
          reject(new Error(`stack process exited (${code}) before the stack was up:\n${out}`)),
        );
      });
      const ports = [portOf(env.TEMPORAL_ADDRESS!), portOf(env.AWS_ENDPOINT_URL!)];
      expect(await Promise.all(ports.map(isListening))).toEqual([true, true]);

      child.kill('SIGKILL');
      const noneListening = async () => (await Promise.all(ports.map(isListening))).every((up) => !up);
      expect(await waitUntil(noneListening, 10_000), 'servers still listening 10 s after their owner was killed').toBe(
        true,
      );
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
