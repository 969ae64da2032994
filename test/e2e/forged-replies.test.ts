/**
 * An attacker's replies, end to end on real parts (Temporal dev server, moto's SNS and SQS, the
 * real worker and poller): each is published to the inbound topic as AWS two-way SMS publishes a
 * reply, from the number of a person who has an ask pending.
 */
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';
import type { AskState } from '../../src/workflows/definitions';
import { ensureInboundPoller } from '../../src/worker/worker';
import { eventually, localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

const aws = localAws();
let worker: TestWorker;
let topicArn: string;
let queueUrl: string;

beforeAll(async () => {
  const name = `forged-${randomUUID().slice(0, 8)}`;
  const inbound = await provisionInboundResources({
    ...aws,
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 2,
  });
  ({ topicArn, queueUrl } = inbound);
  // A short STOP confirmation window keeps the spoofed-STOP case quick; the rest are the defaults.
  worker = await startTestWorker({ queueUrl, pollWaitSeconds: 1, optOutConfirmSeconds: 2 });
  await ensureInboundPoller(worker.client, worker.settings);
});
afterAll(async () => {
  await worker?.stop();
});

async function ask(
  to: string | string[],
  question: string,
  policy: Record<string, unknown> = {},
): Promise<{ askId: string; sms: string }> {
  const { askId } = await worker.asks.start({ to, question, options: ['Yes', 'No'], timeout: '10m', policy });
  const first = Array.isArray(to) ? to[0]! : to;
  const sms = await waitForSms(
    sharedStack().awsEndpoint,
    (m) => m.phoneNumber === first && m.message.startsWith(question),
  );
  return { askId, sms: sms.message };
}

function codeIn(sms: string, option: string): string {
  const code = new RegExp(`${option} \\((\\d+)\\)`).exec(sms)?.[1];
  if (!code) throw new Error(`no code for ${option} in: ${sms}`);
  return code;
}

const reply = (from: string, body: string) => publishPhoneReply(aws.sns, topicArn, { from, body });

async function queueDrained(): Promise<true | undefined> {
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

async function eventOf(askId: string, type: string): Promise<AskState> {
  return eventually(
    async () => {
      const state = await worker.asks.status(askId);
      return state.events.some((e) => e.type === type) ? state : undefined;
    },
    `a ${type} event in ${askId}`,
    20_000,
  );
}

describe('forged and guessed replies on the local stack', () => {
  it('does not answer a spray of numbers with the right code among them, and says so; the code alone then answers', async () => {
    const phone = newPhone();
    const { askId, sms } = await ask(phone, 'Isolate host WS-042?');
    const yes = codeIn(sms, 'Yes');
    const spray = Array.from({ length: 300 }, (_, i) => String(1000 + i * 29)).filter((n) => n !== yes);
    await reply(phone, [...spray.slice(0, 150), yes, ...spray.slice(150)].join(' '));
    const failure = await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === phone && m.message.startsWith('Sorry'),
      20_000,
    );
    expect(failure.message).toContain(`${yes} (Yes)`);
    let state = await worker.asks.status(askId);
    expect(state.status).toBe('waiting');
    expect(state.events.map((e) => e.type)).not.toContain('reply_received');

    await reply(phone, yes);
    state = await worker.asks.result(askId);
    expect(state.answer).toMatchObject({ option: 'Yes', via: 'sms', by: phone, code: yes });
  });

  it('does not take a bare "Yes" as the answer by default', async () => {
    const phone = newPhone();
    const { askId } = await ask(phone, 'Disable VPN for jdoe?');
    await reply(phone, 'Yes');
    await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === phone && m.message.startsWith('Sorry'),
      20_000,
    );
    const state = await worker.asks.status(askId);
    expect(state.status).toBe('waiting');
    expect(state.events.map((e) => e.type)).not.toContain('reply_received');
    await worker.asks.cancel(askId, { by: 'test', reason: 'done' });
  });

  it('logs a STOP that SNS does not list as opted out, and lets it decide nothing', async () => {
    const phone = newPhone(); // moto lists only numbers ending in 99 as opted out
    const { askId, sms } = await ask(phone, 'Wipe laptop-7?', { onTimeout: { answer: 'No' } });
    await reply(phone, 'STOP');
    const state = await eventOf(askId, 'opt_out_unconfirmed');
    expect(state.status).toBe('waiting');
    expect(state.recipients[0]!.optedOut).toBeUndefined();
    expect(state.events.find((e) => e.type === 'opt_out_unconfirmed')).toMatchObject({
      phone,
      detail: expect.stringMatching(/STOP.*not list.*not counted/),
    });
    // The person can still answer.
    await reply(phone, codeIn(sms, 'Yes'));
    expect((await worker.asks.result(askId)).answer).toMatchObject({ option: 'Yes', via: 'sms' });
  });

  it('lets a STOP that SNS confirms start the next tier', async () => {
    // moto lists numbers ending in 99 as opted out. Its question cannot be sent (sms-ask checks the
    // list first), yet its STOP is confirmed through the same SNS call as any other. `undelivered:
    // wait`: the refused send alone would start the next tier; here the STOP must.
    const [oncall, stopped, lead] = [
      newPhone(),
      `+1206555${String(Math.floor(Math.random() * 100)).padStart(2, '0')}99`,
      newPhone(),
    ];
    const { askId } = await ask([oncall, stopped], 'Rotate the root key?', {
      escalation: [{ after: '9m', to: lead }],
      undelivered: 'wait',
    });
    await reply(stopped, 'STOP');
    const state = await eventOf(askId, 'escalated');
    expect(state.events.find((e) => e.type === 'opted_out')).toMatchObject({
      phone: stopped,
      detail: expect.stringMatching(/SNS lists the number as opted out/),
    });
    await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === lead && m.message.startsWith('Rotate the root key?'),
      20_000,
    );
    await worker.asks.cancel(askId, { by: 'test', reason: 'done' });
  });

  it("throttles guessing: after 5 wrong codes the phone's asks log it, and even the right code is refused", async () => {
    const phone = newPhone();
    const { askId, sms } = await ask(phone, 'Approve wire transfer 77?');
    for (const guess of ['0001', '0002', '0003', '0004', '0005']) await reply(phone, guess);
    const state = await eventOf(askId, 'guessing_throttled');
    expect(state.events.find((e) => e.type === 'guessing_throttled')).toMatchObject({
      phone,
      detail: expect.stringMatching(/sent 5 wrong codes within 15 min; its SMS answers are refused until/),
    });
    expect(state.events.find((e) => e.type === 'guessing_throttled')?.detail).not.toContain(phone);

    await reply(phone, codeIn(sms, 'Yes'));
    await eventually(queueDrained, 'the queue to drain', 20_000);
    // HELP is still answered; once its SMS is out, the code before it has been handled too.
    await reply(phone, 'HELP');
    await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === phone && m.message.startsWith('Reply with the number'),
      20_000,
    );
    const after = await worker.asks.status(askId);
    expect(after.status).toBe('waiting');
    expect(after.events.map((e) => e.type)).not.toContain('reply_received');
    await worker.asks.cancel(askId, { by: 'test', reason: 'done' });
  });
});
