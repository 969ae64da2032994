/**
 * Delivery receipts on real parts where they exist: the worker sends through the AWS SDK's End User
 * Messaging client to the loopback stand-in (moto has no pinpoint-sms-voice-v2), which publishes
 * each message's delivery events to the configuration set's SNS destination on moto: the inbound
 * topic, so they reach the worker's poller through moto's SQS exactly as AWS delivers them.
 */
import { randomUUID } from 'node:crypto';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEndUserMessagingStandIn } from '../../src/local-stack/end-user-messaging-stand-in';
import type { EndUserMessagingStandIn, SentTextMessage } from '../../src/local-stack/end-user-messaging-stand-in';
import { createAwsClients } from '../../src/aws/clients';
import { SmsAskClient } from '../../src/client/sms-ask-client';
import { createDoctorContext } from '../../src/doctor/context';
import { eumEventsCheck } from '../../src/doctor/end-user-messaging-checks';
import { runChecks } from '../../src/doctor/run-checks';
import {
  createDeliveryEventDestination,
  localAwsClientConfig,
  provisionInboundResources,
} from '../../src/local-stack/local-stack';
import type { AskState } from '../../src/workflows/definitions';
import { ensureInboundPoller } from '../../src/worker/worker';
import { eventually, localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';
import { BIN, WorkerProcess, workerEnv } from '../support/worker-process';

const aws = localAws();
const ORIGIN = '+18885550123';
let standIn: EndUserMessagingStandIn;
type Inbound = Awaited<ReturnType<typeof provisionInboundResources>>;
let inbound: Inbound;
let worker: TestWorker;
let configurationSet: string;

async function startWorker(taskQueue?: string): Promise<TestWorker> {
  const started = await startTestWorker(
    {
      ...(taskQueue && { taskQueue }),
      queueUrl: inbound.queueUrl,
      inboundTopicArn: inbound.topicArn,
      pollWaitSeconds: 1,
      smsSender: 'end-user-messaging',
      originationIdentity: ORIGIN,
      configurationSet,
    },
    { smsVoiceEndpoint: standIn.endpoint },
  );
  await ensureInboundPoller(started.client, started.settings);
  return started;
}

/** A fresh inbound topic and queue, and a configuration set whose events go to that topic. */
async function inboundWithEvents(): Promise<{ inbound: Inbound; configurationSet: string }> {
  const name = `receipts-${randomUUID().slice(0, 8)}`;
  const made = await provisionInboundResources({
    ...aws,
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 2,
  });
  await createDeliveryEventDestination(
    { ...localAwsClientConfig(sharedStack()), endpoint: standIn.endpoint },
    made.topicArn,
    name,
  );
  return { inbound: made, configurationSet: name };
}

beforeAll(async () => {
  standIn = await startEndUserMessagingStandIn({
    sns: aws.sns,
    region: sharedStack().region,
    phoneNumbers: [{ phoneNumber: ORIGIN }],
    eventDelayMs: 50,
  });
  ({ inbound, configurationSet } = await inboundWithEvents());
  worker = await startWorker();
});

afterAll(async () => {
  await worker?.stop();
  await standIn?.stop();
});

const sentTo = (phone: string, timeoutMs = 10_000): Promise<SentTextMessage> =>
  standIn.waitForSent((m) => m.destinationPhoneNumber === phone, timeoutMs);

async function stateWhen(askId: string, what: string, done: (s: AskState) => boolean, timeoutMs = 10_000) {
  return eventually(
    async () => {
      const state = await worker.asks.status(askId);
      return done(state) ? state : undefined;
    },
    what,
    timeoutMs,
  );
}

/** Messages on the queue, visible or in flight. */
async function queueDepth(queueUrl: string): Promise<number> {
  const { Attributes } = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

describe('delivery receipts through End User Messaging', () => {
  it('sends with the ask in its Context and a time to live within the deadline, and records the delivery and its price', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Isolate WS-042?', timeout: '10m' });
    const sent = await sentTo(phone);
    expect(sent.input).toMatchObject({
      OriginationIdentity: ORIGIN,
      ConfigurationSetName: configurationSet,
      MessageType: 'TRANSACTIONAL',
      Context: { smsAskAskId: askId, smsAskKind: 'question' },
    });
    expect(sent.input.TimeToLive).toBeGreaterThan(590);
    expect(sent.input.TimeToLive).toBeLessThanOrEqual(600);
    const state = await stateWhen(
      askId,
      'the delivered event',
      (s) => s.recipients[0]?.delivery?.status === 'delivered',
    );
    expect(state.recipients[0]).toMatchObject({
      messageId: sent.messageId,
      delivery: { status: 'delivered', eventType: 'TEXT_DELIVERED' },
      costUsd: sent.price,
    });
    expect(state.events.map((e) => e.type)).toEqual(['sent', 'delivered']);
    expect(state.events[0]?.detail).toMatch(/^End User Messaging message /);
    await worker.asks.cancel(askId, { by: 'test' });

    // doctor sees them arrive, from the poller's heartbeat (every 5 s).
    Object.assign(process.env, {
      AWS_REGION: sharedStack().region,
      AWS_ENDPOINT_URL: sharedStack().awsEndpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    const clients = {
      ...createAwsClients(worker.settings),
      smsVoice: new PinpointSMSVoiceV2Client({ ...localAwsClientConfig(sharedStack()), endpoint: standIn.endpoint }),
    };
    const saw = await eventually(
      async () => {
        const report = await runChecks(
          [eumEventsCheck],
          createDoctorContext(worker.settings, clients, async () => worker.client),
        );
        const check = report.checks[0]!;
        return check.status === 'pass' && /^events arrive/.test(check.saw) ? check.saw : undefined;
      },
      "doctor's events check",
      15_000,
    );
    expect(saw).toMatch(/routed [1-9]\d* delivery event\(s\) in its current lease/);
  });

  it('starts the next tier within seconds of a blocked event, not at its timer', async () => {
    const [oncall, lead] = [newPhone(), newPhone()];
    standIn.setOutcome(oncall, ['TEXT_BLOCKED']);
    const { askId } = await worker.asks.start({
      to: oncall,
      question: 'Wipe laptop-9?',
      policy: { timeout: '1h', escalation: [{ after: '30m', to: lead }] },
    });
    const first = await sentTo(oncall);
    const second = await sentTo(lead);
    // The blocked event is published eventDelayMs after the first send.
    expect(second.timestamp - first.timestamp).toBeLessThan(5_000);
    const state = await stateWhen(askId, 'the escalation', (s) => s.events.some((e) => e.type === 'escalated'));
    expect(state.events.find((e) => e.type === 'undelivered')?.detail).toMatch(
      /^question not delivered: TEXT_BLOCKED .*the next tier starts now$/,
    );
    expect(state.recipients.find((r) => r.phone === oncall)?.delivery?.status).toBe('undelivered');
    await worker.asks.cancel(askId, { by: 'test' });
  });

  it('takes the default answer when the only question expires undelivered', async () => {
    const phone = newPhone();
    standIn.setOutcome(phone, ['TEXT_SUCCESSFUL', 'TEXT_TTL_EXPIRED']);
    const { askId } = await worker.asks.start({ to: phone, question: 'Block IP?', timeout: '1h', defaultAnswer: 'No' });
    const result = await worker.asks.result(askId);
    expect(result).toMatchObject({ status: 'answered', answer: { option: 'No', via: 'default' } });
    expect(result.events.find((e) => e.type === 'undelivered')?.detail).toMatch(/TEXT_TTL_EXPIRED/);
  });

  it('changes nothing for events that come twice, out of order, or after the ask ended; a malformed one goes to the DLQ', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Reset MFA?', timeout: '10m' });
    const sent = await sentTo(phone);
    await stateWhen(askId, 'the delivered event', (s) => s.recipients[0]?.delivery?.status === 'delivered');
    standIn.eventFor(sent.messageId, 'TEXT_DELIVERED');
    standIn.eventFor(sent.messageId, 'TEXT_SUCCESSFUL');
    standIn.eventFor(sent.messageId, 'TEXT_CARRIER_BLOCKED');
    const dlqBefore = await queueDepth(inbound.dlqUrl);
    const bad = { ...standIn.eventFor(sent.messageId, 'TEXT_BLOCKED', { publish: false }), isFinal: 'yes' };
    await aws.sns.send(new PublishCommand({ TopicArn: inbound.topicArn, Message: JSON.stringify(bad) }));
    await eventually(
      async () => ((await queueDepth(inbound.dlqUrl)) > dlqBefore ? true : undefined),
      'the malformed event in the DLQ',
      20_000,
    );
    const state = await worker.asks.status(askId);
    expect(state.status).toBe('waiting');
    expect(state.recipients[0]?.delivery).toMatchObject({ status: 'delivered' });
    expect(state.events.map((e) => e.type)).toEqual(['sent', 'delivered']);
    expect(state.costUsd).toBe(sent.price);

    await worker.asks.answer(askId, 'Yes', 'test');
    standIn.eventFor(sent.messageId, 'TEXT_BLOCKED');
    // The late event is routed and deleted (its ask has ended), not left for the DLQ.
    await eventually(async () => ((await queueDepth(inbound.queueUrl)) === 0 ? true : undefined), 'an empty queue');
    expect(await queueDepth(inbound.dlqUrl)).toBe(dlqBefore + 1);
    expect((await worker.asks.result(askId)).status).toBe('answered');
  });

  it('acts on an undelivered event that waited on the queue while the only worker was killed', async () => {
    // A built worker of its own (a child process), on an inbound queue and configuration set of its own,
    // so that no other poller takes the event while it is down.
    const own = await inboundWithEvents();
    const taskQueue = `receipts-kill-${randomUUID().slice(0, 8)}`;
    const env = workerEnv(
      sharedStack(),
      { taskQueue, queueUrl: own.inbound.queueUrl },
      {
        SMS_ASK_INBOUND_TOPIC_ARN: own.inbound.topicArn,
        SMS_ASK_SMS_SENDER: 'end-user-messaging',
        SMS_ASK_ORIGINATION_IDENTITY: ORIGIN,
        SMS_ASK_CONFIGURATION_SET: own.configurationSet,
        AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: standIn.endpoint,
      },
    );
    let killable = await WorkerProcess.start([BIN, 'worker'], env);
    const asks = new SmsAskClient(worker.client, { taskQueue });
    try {
      const [oncall, lead] = [newPhone(), newPhone()];
      standIn.setOutcome(oncall, []);
      const { askId } = await asks.start({
        to: oncall,
        question: 'Revoke token-3?',
        policy: { timeout: '1h', escalation: [{ after: '30m', to: lead }] },
      });
      const first = await sentTo(oncall);
      await eventually(
        async () => ((await asks.status(askId)).recipients[0]?.messageId === first.messageId ? true : undefined),
        'the send recorded',
      );
      expect(await killable.kill('SIGKILL')).toBeNull();
      standIn.eventFor(first.messageId, 'TEXT_CARRIER_UNREACHABLE', { isFinal: true });
      killable = await WorkerProcess.start([BIN, 'worker'], env);
      // The dead worker's poll is retried once its heartbeat times out (30 s).
      await sentTo(lead, 60_000);
      const state = await eventually(async () => {
        const now = await asks.status(askId);
        return now.events.some((e) => e.type === 'escalated') ? now : undefined;
      }, 'the escalation');
      expect(state.events.filter((e) => e.type === 'undelivered')).toHaveLength(1);
      await asks.cancel(askId, { by: 'test' });
      expect(await queueDepth(own.inbound.dlqUrl)).toBe(0);
    } finally {
      await killable.stop();
    }
  }, 120_000);
});
