/**
 * End to end on real parts: Temporal dev server, moto's SNS and SQS, the real worker with its
 * inbound poller. Replies travel phone → SNS topic → SQS (envelope) → poller → recipient → ask.
 */
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { listSentSms, publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';
import { inboundPollerWorkflowId, recipientWorkflowId } from '../../src/workflows/definitions';
import type { AskState } from '../../src/workflows/definitions';
import { ensureInboundPoller } from '../../src/worker/worker';
import { eventually, localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

const aws = localAws();
let worker: TestWorker;
let inbound: Awaited<ReturnType<typeof provisionInboundResources>>;

beforeAll(async () => {
  const name = `e2e-${randomUUID().slice(0, 8)}`;
  inbound = await provisionInboundResources({
    ...aws,
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 2,
  });
  worker = await startTestWorker({ queueUrl: inbound.queueUrl, pollWaitSeconds: 1 });
  await ensureInboundPoller(worker.client, worker.settings);
});
afterAll(async () => {
  await worker?.stop();
});

async function askAndReadSms(phone: string, question: string): Promise<{ askId: string; sms: string }> {
  const { askId } = await worker.asks.start({ to: phone, question, options: ['Yes', 'No'], timeout: '10m' });
  const sms = await waitForSms(
    sharedStack().awsEndpoint,
    (m) => m.phoneNumber === phone && m.message.startsWith(question),
  );
  return { askId, sms: sms.message };
}

function codeIn(sms: string, option: string): string {
  const code = new RegExp(`${option} \\((\\d+)\\)`).exec(sms)?.[1];
  if (!code) throw new Error(`no code for ${option} in: ${sms}`);
  return code;
}

async function queueDrained(queueUrl: string): Promise<true | undefined> {
  const { Attributes } = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Attributes?.ApproximateNumberOfMessages === '0' && Attributes.ApproximateNumberOfMessagesNotVisible === '0'
    ? true
    : undefined;
}

function twoWayPayload(from: string, body: string, inboundMessageId: string): string {
  return JSON.stringify({
    originationNumber: from,
    destinationNumber: '+18885550100',
    messageKeyword: 'KEYWORD_123456789012',
    messageBody: body,
    inboundMessageId,
    previousPublishedMessageId: randomUUID(),
  });
}

describe('SMS round trip on the local stack', () => {
  it("sends the question with one code per option, and routes the phone's reply to the ask", async () => {
    const phone = newPhone();
    const { askId, sms } = await askAndReadSms(phone, 'Isolate host WS-042?');
    expect(sms).toMatch(/^Isolate host WS-042\?\nYes \(\d{7}\) or No \(\d{7}\)$/);

    await publishPhoneReply(aws.sns, inbound.topicArn, { from: phone, body: `ok, ${codeIn(sms, 'No')}.` });
    const result = await worker.asks.result(askId);
    expect(result.answer).toMatchObject({ option: 'No', via: 'sms', by: phone, code: codeIn(sms, 'No') });
    await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === phone && m.message === 'Got it: No for Isolate host WS-042?',
    );
  });

  it('routes the reply to a bulk ask; the poller goes ahead of every ask, the recipient workflow at normal', async () => {
    const phone = newPhone();
    const question = 'Campaign: did you click the payroll link?';
    const { askId } = await worker.asks.start({
      to: phone,
      question,
      options: ['Yes', 'No'],
      timeout: '10m',
      priority: 'bulk',
    });
    const sms = await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === phone && m.message.startsWith(question),
    );

    await publishPhoneReply(aws.sns, inbound.topicArn, { from: phone, body: codeIn(sms.message, 'Yes') });
    expect((await worker.asks.result(askId)).answer).toMatchObject({ option: 'Yes', via: 'sms', by: phone });
    const priorityOf = async (workflowId: string) =>
      (await worker.client.workflow.getHandle(workflowId).describe()).priority?.priorityKey;
    expect(await priorityOf(askId)).toBe(5);
    expect(await priorityOf(recipientWorkflowId(worker.settings.taskQueue, phone))).toBe(1);
    expect(await priorityOf(inboundPollerWorkflowId(worker.settings.taskQueue, inbound.queueUrl))).toBe(1);
  });

  it('never lets a valid code from another phone answer the ask', async () => {
    const phone = newPhone();
    const stranger = newPhone();
    const { askId, sms } = await askAndReadSms(phone, 'Disable VPN for jdoe?');

    await publishPhoneReply(aws.sns, inbound.topicArn, { from: stranger, body: codeIn(sms, 'Yes') });
    await eventually(() => queueDrained(inbound.queueUrl), "the stranger's reply to be consumed");
    const state: AskState = await worker.asks.status(askId);
    expect(state.status).toBe('waiting');
    expect(state.events.map((e) => e.type)).toEqual(['sent']);

    await publishPhoneReply(aws.sns, inbound.topicArn, { from: phone, body: codeIn(sms, 'Yes') });
    expect((await worker.asks.result(askId)).answer).toMatchObject({ option: 'Yes', by: phone });
  });

  it('answers once, and sends one feedback, when SQS delivers the same reply twice', async () => {
    const phone = newPhone();
    const { askId, sms } = await askAndReadSms(phone, 'Revoke token tk-77?');
    // As SNS delivers it: the only format this deployment declares.
    const body = JSON.stringify({
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: inbound.topicArn,
      Message: twoWayPayload(phone, codeIn(sms, 'Yes'), randomUUID()),
    });
    // The same two-way message arriving twice, as at-least-once delivery allows.
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: inbound.queueUrl, MessageBody: body }));
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: inbound.queueUrl, MessageBody: body }));

    const result = await worker.asks.result(askId);
    expect(result.events.filter((e) => e.type === 'reply_received')).toHaveLength(1);
    await eventually(() => queueDrained(inbound.queueUrl), 'both copies to be consumed');
    await new Promise((r) => setTimeout(r, 500));
    const toPhone = (await listSentSms(sharedStack().awsEndpoint)).filter((m) => m.phoneNumber === phone);
    expect(toPhone.map((m) => m.message.split('\n')[0])).toEqual([
      'Revoke token tk-77?',
      'Got it: Yes for Revoke token tk-77?',
    ]);
  });

  it('leaves an unparseable message on the queue until redrive moves it to the DLQ, and keeps polling', async () => {
    const marker = `not json ${randomUUID()}`;
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: inbound.queueUrl, MessageBody: marker }));

    const inDlq = await eventually(
      async () => {
        const { Messages } = await aws.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: inbound.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        return Messages?.find((m) => m.Body === marker);
      },
      'the bad message in the DLQ',
      20_000,
    );
    expect(inDlq.Body).toBe(marker);

    const phone = newPhone();
    const { askId, sms } = await askAndReadSms(phone, 'Still listening?');
    await publishPhoneReply(aws.sns, inbound.topicArn, { from: phone, body: codeIn(sms, 'Yes') });
    expect((await worker.asks.result(askId)).answer?.option).toBe('Yes');
  });

  it('starts the poller only once however often the worker starts', async () => {
    const first = await ensureInboundPoller(worker.client, worker.settings);
    const again = await ensureInboundPoller(worker.client, worker.settings);
    expect(again).toBe(first);
    const running = [];
    for await (const wf of worker.client.workflow.list({
      query: `WorkflowType = 'inboundPollerWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${worker.taskQueue}'`,
    })) {
      running.push(wf.workflowId);
    }
    expect(running).toEqual([first]);
  });
});

describe('inbound poller on a queue that does not exist', () => {
  it('backs off between failed receives instead of spinning, and says which queue failed', async () => {
    const warnings: { msg: string; queueUrl?: string; retryInMs?: number }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const missing = `${sharedStack().awsEndpoint}/123456789012/no-such-queue-${randomUUID().slice(0, 8)}`;
    // One long poll, so the count below is one loop's (each loop backs off on its own).
    const lonely = await startTestWorker(
      { queueUrl: missing, pollWaitSeconds: 1, pollers: 1, pollConcurrency: 1 },
      { logger },
    );
    try {
      await ensureInboundPoller(lonely.client, lonely.settings);
      await new Promise((r) => setTimeout(r, 4_000));
    } finally {
      await lonely.stop();
    }
    const failures = warnings.filter((w) => w.msg === 'SQS receive failed; retrying');
    expect(failures[0]?.queueUrl).toBe(missing);
    // 1 s, 2 s, 4 s … between tries: at most 3 in 4 s (a tight loop makes hundreds).
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.length).toBeLessThanOrEqual(3);
    expect(failures.map((f) => f.retryInMs)).toEqual([1_000, 2_000, 4_000].slice(0, failures.length));
  }, 30_000);
});
