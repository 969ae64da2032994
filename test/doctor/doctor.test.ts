/** `doctor` on a healthy setup, then on setups broken on purpose: it must name each fault. */
import { randomUUID } from 'node:crypto';
import {
  CreateTopicCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SendMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients';
import { loadSettings } from '../../src/config';
import type { SettingsInput } from '../../src/config';
import { DOCTOR_CHECKS } from '../../src/doctor/checks';
import { createDoctorContext } from '../../src/doctor/context';
import { runChecks } from '../../src/doctor/run-checks';
import type { CheckReport } from '../../src/doctor/run-checks';
import { runSetup } from '../../src/setup/setup';
import type { InboundResources } from '../../src/setup/reconcile';
import { ensureInboundPoller } from '../../src/worker/worker';
import { eventually, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

let worker: TestWorker;
let healthy: Required<InboundResources>;
const aws = () => createAwsClients(loadSettings({}));

async function freshInbound(): Promise<Required<InboundResources>> {
  const name = `doctor-${randomUUID().slice(0, 8)}`;
  const target = {
    queueName: name,
    topicName: name,
    dlqName: `${name}-dlq`,
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 3,
  };
  const report = await runSetup(
    aws(),
    target,
    { originationNumber: undefined, senderId: undefined, roleExternalId: undefined },
    { dryRun: false },
  );
  return report.resources as Required<InboundResources>;
}

async function doctor(
  inbound: Pick<InboundResources, 'queueUrl' | 'topicArn'>,
  overrides: SettingsInput = {},
): Promise<CheckReport & { byName: Record<string, { status: string; saw: string; fix?: string }> }> {
  const settings = loadSettings(
    {},
    {
      queueUrl: inbound.queueUrl,
      inboundTopicArn: inbound.topicArn,
      taskQueue: worker.taskQueue,
      originationNumber: '+12065550100',
      ...overrides,
    },
  );
  const report = await runChecks(
    DOCTOR_CHECKS,
    createDoctorContext(settings, createAwsClients(settings), async () => worker.client),
  );
  return { ...report, byName: Object.fromEntries(report.checks.map(({ name, ...rest }) => [name, rest])) };
}

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: sharedStack().region,
    AWS_ENDPOINT_URL: sharedStack().awsEndpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  healthy = await freshInbound();
  worker = await startTestWorker({ queueUrl: healthy.queueUrl, pollWaitSeconds: 1 });
  await ensureInboundPoller(worker.client, worker.settings);
});
afterAll(async () => {
  await worker?.stop();
});

describe('sms-ask doctor', () => {
  it('passes a healthy setup with a running poller, and says what it could not check on moto', async () => {
    const report = await eventually(async () => {
      const r = await doctor(healthy);
      return r.byName.poller?.saw.includes('the poller is running') ? r : undefined;
    }, 'the poller check to see the poll activity');
    expect(report.ok).toBe(true);
    expect(Object.fromEntries(report.checks.map((c) => [c.name, c.status]))).toEqual({
      credentials: 'pass',
      queue: 'pass',
      subscription: 'pass',
      'queue-policy': 'pass',
      'topic-policy': 'pass',
      regions: 'pass',
      'delivery-format': 'pass',
      temporal: 'pass',
      'worker-versioning': 'pass',
      poller: 'pass',
      recipients: 'pass',
      'dead-letter-queue': 'pass',
      'phone-numbers': 'pass',
      'sms-sandbox': 'skip',
      'spend-limit': 'warn',
    });
    expect(report.byName['sms-sandbox']?.fix).toMatch(/GetSMSSandboxAccountStatus is not implemented by this endpoint/);
    expect(report.byName['phone-numbers']?.saw).toMatch(/ListOriginationNumbers is not implemented by this endpoint/);
    expect(report.byName.poller?.saw).toMatch(/0 waiting, 0 in flight; the poller is running/);
  });

  it('fails a queue policy that lets the topic send but denies no other writer, and setup writes the deny (moto does not enforce it)', async () => {
    const inbound = await freshInbound();
    const { Attributes } = await aws().sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: inbound.queueUrl, AttributeNames: ['Policy'] }),
    );
    const written = JSON.parse(Attributes!.Policy!) as {
      Statement: { Sid?: string; Effect: string; Principal: unknown; Action: string; Condition?: unknown }[];
    };
    expect(written.Statement.find((s) => s.Sid === 'DenySendButInboundTopic')).toEqual({
      Sid: 'DenySendButInboundTopic',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sqs:SendMessage',
      Resource: inbound.queueArn,
      Condition: { ArnNotEquals: { 'aws:SourceArn': inbound.topicArn } },
    });
    expect((await doctor(inbound)).byName['queue-policy']).toMatchObject({ status: 'pass' });

    const allowOnly = { ...written, Statement: written.Statement.filter((s) => s.Effect === 'Allow') };
    await aws().sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: inbound.queueUrl, Attributes: { Policy: JSON.stringify(allowOnly) } }),
    );
    expect((await doctor(inbound)).byName['queue-policy']).toMatchObject({
      status: 'fail',
      saw: expect.stringContaining('does not deny sqs:SendMessage to writers other than'),
    });
    // A bridge role that the deny does not except is refused too.
    expect(
      (await doctor(inbound, { inboundBridgeRoleArn: 'arn:aws:iam::123456789012:role/sms-bridge' })).byName[
        'queue-policy'
      ]?.status,
    ).toBe('fail');
  });

  it('names a deleted subscription', async () => {
    const inbound = await freshInbound();
    await aws().sns.send(new UnsubscribeCommand({ SubscriptionArn: inbound.subscriptionArn }));
    const report = await doctor(inbound);
    expect(report.ok).toBe(false);
    expect(report.byName.subscription).toMatchObject({
      status: 'fail',
      saw: `${inbound.topicArn} has no subscription delivering to ${inbound.queueArn}: replies published to the topic reach no queue`,
    });
    expect(report.byName.subscription?.fix).toContain(
      `aws sns subscribe --region us-east-1 --topic-arn ${inbound.topicArn} --protocol sqs --notification-endpoint ${inbound.queueArn}`,
    );
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['subscription']);
  });

  it('names a queue policy that lets another topic in, but not this one', async () => {
    const inbound = await freshInbound();
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: inbound.queueArn,
          Condition: { ArnEquals: { 'aws:SourceArn': `${inbound.topicArn}-old` } },
        },
      ],
    };
    await aws().sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: inbound.queueUrl, Attributes: { Policy: JSON.stringify(policy) } }),
    );
    const report = await doctor(inbound);
    expect(report.byName['queue-policy']).toMatchObject({
      status: 'fail',
      saw: expect.stringContaining(
        `does not allow sqs:SendMessage from sns.amazonaws.com with aws:SourceArn ${inbound.topicArn}`,
      ),
    });
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['queue-policy']);
  });

  it("flags a topic policy that lets others than AWS's SMS service publish replies", async () => {
    const inbound = await freshInbound();
    const ownerOnly = {
      Sid: '__default_statement_ID',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['SNS:Publish', 'SNS:Subscribe'],
      Resource: inbound.topicArn,
      Condition: { StringEquals: { 'AWS:SourceOwner': '123456789012' } },
    };
    await aws().sns.send(
      new SetTopicAttributesCommand({
        TopicArn: inbound.topicArn,
        AttributeName: 'Policy',
        AttributeValue: JSON.stringify({ Version: '2012-10-17', Statement: [ownerOnly] }),
      }),
    );
    const report = await doctor(inbound);
    expect(report.byName['topic-policy']).toMatchObject({
      status: 'fail',
      saw: expect.stringMatching(
        /does not deny sns:Publish to callers other than sms-voice.amazonaws.com: any identity of the account allowed sns:Publish can forge replies/,
      ),
    });
    expect(report.byName['topic-policy']?.fix).toMatch(/sms-ask setup/);
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['topic-policy']);

    const anyone = {
      Sid: 'Anyone',
      Effect: 'Allow',
      Principal: '*',
      Action: 'sns:Publish',
      Resource: inbound.topicArn,
    };
    await aws().sns.send(
      new SetTopicAttributesCommand({
        TopicArn: inbound.topicArn,
        AttributeName: 'Policy',
        AttributeValue: JSON.stringify({ Statement: [anyone] }),
      }),
    );
    expect((await doctor(inbound)).byName['topic-policy']?.saw).toMatch(/lets anyone publish \(statement Anyone/);
  });

  it('names a topic in another region than the queue and the config', async () => {
    const inbound = await freshInbound();
    const clients = aws();
    const { TopicArn } = await clients
      .snsIn('eu-west-1')
      .send(new CreateTopicCommand({ Name: `doctor-eu-${randomUUID().slice(0, 8)}` }));
    await clients
      .snsIn('eu-west-1')
      .send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: inbound.queueArn }));
    const report = await doctor({ queueUrl: inbound.queueUrl, topicArn: TopicArn! });
    expect(report.byName.regions).toMatchObject({
      status: 'fail',
      saw: 'config us-east-1, queue us-east-1, topic eu-west-1',
    });
    expect(report.byName.subscription?.status).toBe('pass');
  });

  it('says when replies wait on the queue with no poller, without receiving them', async () => {
    const inbound = await freshInbound();
    const { sqs } = aws();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: inbound.queueUrl,
        MessageBody: JSON.stringify({ originationNumber: '+12065550142', messageBody: 'yes' }),
      }),
    );
    const report = await doctor(inbound);
    expect(report.byName.poller).toMatchObject({
      status: 'fail',
      saw: expect.stringMatching(/^1 waiting, 0 in flight; no poller workflow .* has ever run/),
      fix: expect.stringContaining('sms-ask worker'),
    });
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: inbound.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Attributes?.ApproximateNumberOfMessages).toBe('1');
  });

  it('reports a non-empty DLQ with the reason of a sample, and leaves it there', async () => {
    const inbound = await freshInbound();
    const { sqs } = aws();
    await sqs.send(
      new SendMessageCommand({ QueueUrl: inbound.dlqUrl, MessageBody: 'hello from a misconfigured bridge' }),
    );
    const report = await doctor(inbound);
    expect(report.byName['dead-letter-queue']).toMatchObject({
      status: 'fail',
      saw: expect.stringMatching(/^1 message\(s\) in .*cannot be parsed: body is not JSON\. Peeked 1 message/),
    });
    expect(report.byName['dead-letter-queue']?.fix).toContain(
      `aws sqs start-message-move-task --source-arn ${inbound.dlqArn}`,
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: inbound.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Attributes?.ApproximateNumberOfMessages).toBe('1');
  });

  it('skips what depends on the queue when the queue does not exist, and fails the queue check once', async () => {
    const report = await doctor({
      queueUrl: `${sharedStack().awsEndpoint}/123456789012/doctor-missing-${randomUUID().slice(0, 8)}`,
      topicArn: healthy.topicArn,
    });
    expect(report.byName.queue).toMatchObject({
      status: 'fail',
      saw: expect.stringMatching(/QueueDoesNotExist|NonExistentQueue/),
    });
    expect(['subscription', 'queue-policy', 'regions', 'poller'].map((name) => report.byName[name]?.status)).toEqual([
      'skip',
      'skip',
      'skip',
      'skip',
    ]);
  });
});
