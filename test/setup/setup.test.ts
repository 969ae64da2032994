/** `setup` against moto and the shared Temporal dev server: from nothing, then again with nothing to do. */
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SetTopicAttributesCommand,
} from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsClientConfig } from '../../src/local-stack/local-stack';
import { runSetup } from '../../src/setup/setup';
import type { SetupTarget } from '../../src/setup/resources';
import { localAws, sharedStack, sharedStackClient } from '../support/harness';

const aws = { ...localAws(), sts: new STSClient(localAwsClientConfig(sharedStack())) };
let temporal: Client;
beforeAll(async () => {
  temporal = await sharedStackClient();
});
afterAll(async () => {
  await temporal?.connection.close();
});

const noPhone = { originationNumber: undefined, senderId: undefined, roleExternalId: undefined };

function newTarget(): SetupTarget {
  const name = `setup-${randomUUID().slice(0, 8)}`;
  return {
    queueName: name,
    topicName: `${name}-topic`,
    dlqName: `${name}-dlq`,
    visibilityTimeoutSeconds: 45,
    maxReceiveCount: 4,
  };
}

describe('sms-ask setup', () => {
  it('creates the DLQ, queue, topic and subscription from nothing, then finds nothing to change', async () => {
    const target = newTarget();
    const first = await runSetup({ ...aws, temporal }, target, noPhone, { dryRun: false });
    expect(first.changed).toBe(true);
    expect(first.steps.filter((s) => s.action === 'create').map((s) => s.resource)).toEqual([
      'dlq',
      'queue',
      'topic',
      'subscription',
    ]);

    const { Attributes = {} } = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: first.resources.queueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes.VisibilityTimeout).toBe('45');
    expect(JSON.parse(Attributes.RedrivePolicy!)).toMatchObject({
      deadLetterTargetArn: first.resources.dlqArn,
      maxReceiveCount: 4,
    });
    expect(JSON.parse(Attributes.Policy!).Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': first.resources.topicArn } },
      }),
      // Every other writer is denied (moto does not enforce queue policies; the document is what is checked).
      expect.objectContaining({
        Sid: 'DenySendButInboundTopic',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:SendMessage',
        Condition: { ArnNotEquals: { 'aws:SourceArn': first.resources.topicArn } },
      }),
    ]);
    const subs = await aws.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: first.resources.topicArn }));
    expect(subs.Subscriptions?.map((s) => s.Endpoint)).toEqual([first.resources.queueArn]);
    // Only AWS's SMS service may publish replies: everyone else is denied explicitly.
    const topicPolicy = JSON.parse(
      (await aws.sns.send(new GetTopicAttributesCommand({ TopicArn: first.resources.topicArn }))).Attributes!.Policy!,
    );
    expect(topicPolicy.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'AllowTwoWaySmsToPublish',
          Effect: 'Allow',
          Principal: { Service: 'sms-voice.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: first.resources.topicArn,
        }),
        expect.objectContaining({
          Sid: 'DenyPublishButTwoWaySms',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sns:Publish',
          Condition: { StringNotEquals: { 'aws:PrincipalServiceName': 'sms-voice.amazonaws.com' } },
        }),
      ]),
    );

    const second = await runSetup({ ...aws, temporal }, target, noPhone, { dryRun: false });
    expect(second.changed).toBe(false);
    expect(second.steps.every((s) => s.action === 'none')).toBe(true);
    expect(second.resources).toEqual(first.resources);
  });

  it('registers the search attributes in the namespace, and reports them as there on the next run', async () => {
    const report = await runSetup({ ...aws, temporal }, newTarget(), noPhone, { dryRun: true });
    // The shared dev server starts with them registered, so setup finds nothing to add there.
    expect(report.steps.find((s) => s.resource === 'search-attributes')).toMatchObject({
      action: 'none',
      target: `namespace ${sharedStack().namespace}`,
    });
  });

  it('changes nothing on a dry run, and says what it would do', async () => {
    const target = newTarget();
    const dry = await runSetup(aws, target, noPhone, { dryRun: true });
    expect(dry.changed).toBe(true);
    expect(dry.steps.map((s) => s.action)).toEqual(['create', 'create', 'create', 'create']);
    const again = await runSetup(aws, target, noPhone, { dryRun: true });
    expect(again.steps.map((s) => s.action)).toEqual(['create', 'create', 'create', 'create']);
  });

  it("repairs a queue whose policy and visibility timeout drifted, keeping the owner's own policy statements", async () => {
    const target = newTarget();
    const made = (await runSetup(aws, target, noPhone, { dryRun: false })).resources;
    const ownersStatement = {
      Sid: 'OwnersOwn',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::123456789012:root' },
      Action: 'sqs:ReceiveMessage',
      Resource: made.queueArn,
    };
    await aws.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: made.queueUrl,
        Attributes: {
          VisibilityTimeout: '5',
          Policy: JSON.stringify({ Version: '2012-10-17', Statement: [ownersStatement] }),
        },
      }),
    );

    const repair = await runSetup(aws, target, noPhone, { dryRun: false });
    expect(repair.steps.filter((s) => s.action !== 'none')).toEqual([
      expect.objectContaining({
        resource: 'queue',
        action: 'update',
        changes: [
          expect.stringMatching(/VisibilityTimeout 5 → 45/),
          expect.stringMatching(/^Policy: allow sqs:SendMessage/),
        ],
      }),
    ]);
    const { Attributes = {} } = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: made.queueUrl, AttributeNames: ['Policy', 'VisibilityTimeout'] }),
    );
    expect(Attributes.VisibilityTimeout).toBe('45');
    expect(JSON.parse(Attributes.Policy!).Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      'OwnersOwn',
      'AllowInboundSmsTopic',
      'DenySendButInboundTopic',
    ]);
    expect((await runSetup(aws, target, noPhone, { dryRun: false })).changed).toBe(false);
  });

  it("closes an open topic policy, keeping the owner's statements, and lets a configured bridge role publish too", async () => {
    const target = newTarget();
    const made = (await runSetup(aws, target, noPhone, { dryRun: false })).resources;
    const open = { Sid: 'Anyone', Effect: 'Allow', Principal: '*', Action: 'sns:Publish', Resource: made.topicArn };
    await aws.sns.send(
      new SetTopicAttributesCommand({
        TopicArn: made.topicArn,
        AttributeName: 'Policy',
        AttributeValue: JSON.stringify({ Version: '2012-10-17', Statement: [open] }),
      }),
    );

    const bridgeRoleArn = 'arn:aws:iam::123456789012:role/sms-bridge';
    const repair = await runSetup(aws, { ...target, bridgeRoleArn }, noPhone, { dryRun: false });
    expect(repair.steps.filter((s) => s.action !== 'none')).toEqual([
      expect.objectContaining({
        resource: 'queue',
        action: 'update',
        changes: [expect.stringContaining(`deny it to every other writer but ${bridgeRoleArn}`)],
      }),
      expect.objectContaining({
        resource: 'topic',
        action: 'update',
        changes: [`Policy: only sms-voice.amazonaws.com and ${bridgeRoleArn} may publish replies`],
      }),
    ]);
    const policy = JSON.parse(
      (await aws.sns.send(new GetTopicAttributesCommand({ TopicArn: made.topicArn }))).Attributes!.Policy!,
    );
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      'Anyone',
      'AllowTwoWaySmsToPublish',
      'AllowReplyBridgeToPublish',
      'DenyPublishButTwoWaySms',
    ]);
    expect(policy.Statement[3].Condition).toEqual({
      StringNotEquals: { 'aws:PrincipalServiceName': 'sms-voice.amazonaws.com' },
      ArnNotEquals: { 'aws:PrincipalArn': bridgeRoleArn },
    });
    expect((await runSetup(aws, { ...target, bridgeRoleArn }, noPhone, { dryRun: false })).changed).toBe(false);
  });

  it('prints a worker policy scoped to the real ARNs with the exact actions, and the role trust policy with the external ID', async () => {
    const report = await runSetup(aws, newTarget(), { ...noPhone, roleExternalId: 'soc-1042' }, { dryRun: true });
    const { queueArn, dlqArn, topicArn } = report.resources;
    const statements = report.workerPolicy.Statement as {
      Sid: string;
      Effect: string;
      Action: string[];
      Resource: string | string[];
    }[];
    expect(statements.find((s) => s.Sid === 'NeverPublishReplies')?.Effect).toBe('Deny');
    expect(Object.fromEntries(statements.map((s) => [s.Sid, [s.Action, s.Resource]]))).toEqual({
      NeverPublishReplies: ['sns:Publish', topicArn],
      SendSms: [['sns:Publish', 'sns:CheckIfPhoneNumberIsOptedOut'], '*'],
      ReadSmsAccountSettings: [
        ['sns:GetSMSAttributes', 'sns:GetSMSSandboxAccountStatus', 'sns:ListOriginationNumbers'],
        '*',
      ],
      PollInboundQueue: [['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], queueArn],
      InspectDeadLetterQueue: [['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'], dlqArn],
      InspectInboundTopic: [
        ['sns:GetTopicAttributes', 'sns:ListSubscriptionsByTopic', 'sns:GetSubscriptionAttributes'],
        [topicArn, `${topicArn}:*`],
      ],
    });
    expect(report.trustPolicy.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::123456789012:root' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': 'soc-1042' } },
      },
    ]);
    expect(report.manualSteps.join('\n')).toContain(
      `update-phone-number --region us-east-1 --phone-number-id <PhoneNumberId from above> --two-way-enabled --two-way-channel-arn ${topicArn}`,
    );
    expect(report.manualSteps.join('\n')).toMatch(/Never with a sender ID/);
  });
});
