/** `setup` on End User Messaging: the plan from described state, then the real SDK client against the stand-in on moto. */
import { randomUUID } from 'node:crypto';
import {
  DescribeConfigurationSetsCommand,
  DescribePhoneNumbersCommand,
  DescribePoolsCommand,
  PinpointSMSVoiceV2Client,
  UpdateEventDestinationCommand,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEndUserMessagingStandIn } from '../../src/local-stack/end-user-messaging-stand-in';
import type { EndUserMessagingStandIn } from '../../src/local-stack/end-user-messaging-stand-in';
import { localAwsClientConfig } from '../../src/local-stack/local-stack';
import {
  EVENT_DESTINATION_NAME,
  WANTED_EVENT_TYPES,
  identityKindOf,
  planEndUserMessaging,
} from '../../src/setup/end-user-messaging';
import type { EndUserMessagingState, OriginationIdentity } from '../../src/setup/end-user-messaging';
import type { SetupTarget } from '../../src/setup/resources';
import { runSetup } from '../../src/setup/setup';
import { localAws, sharedStack } from '../support/harness';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:sms-ask-inbound';
const SET_ARN = 'arn:aws:sms-voice:us-east-1:123456789012:configuration-set/sms-ask';
const phone = (over: Partial<OriginationIdentity> = {}): OriginationIdentity => ({
  kind: 'phone-number',
  id: 'phone-1',
  arn: 'arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-1',
  status: 'ACTIVE',
  twoWayEnabled: false,
  ...over,
});
const target = { originationIdentity: 'phone-1', configurationSet: 'sms-ask' };

describe('planEndUserMessaging', () => {
  it('creates the configuration set and its event destination and turns two-way on, from nothing', () => {
    const plan = planEndUserMessaging({ identity: phone(), configurationSetName: 'sms-ask' }, target, TOPIC, SET_ARN);
    expect(plan.steps.map((s) => [s.resource, s.action])).toEqual([
      ['configuration-set', 'create'],
      ['event-destination', 'create'],
      ['two-way', 'update'],
    ]);
    expect(plan.steps[2]!.changes).toEqual(['TwoWayEnabled false → true', `TwoWayChannelArn (none) → ${TOPIC}`]);
    expect(plan.matchingEventTypes).toEqual(WANTED_EVENT_TYPES);
    expect(WANTED_EVENT_TYPES).not.toContain('TEXT_QUEUED');
  });

  it('changes nothing when all matches, and takes TEXT_ALL as covering every type', () => {
    const state: EndUserMessagingState = {
      identity: phone({ twoWayEnabled: true, twoWayChannelArn: TOPIC }),
      configurationSetName: 'sms-ask',
      configurationSet: {
        ConfigurationSetArn: SET_ARN,
        ConfigurationSetName: 'sms-ask',
        CreatedTimestamp: new Date(),
        EventDestinations: [
          {
            EventDestinationName: EVENT_DESTINATION_NAME,
            Enabled: true,
            MatchingEventTypes: ['TEXT_ALL'],
            SnsDestination: { TopicArn: TOPIC },
          },
        ],
      },
    };
    const plan = planEndUserMessaging(state, target, TOPIC, SET_ARN);
    expect(plan.steps.every((s) => s.action === 'none')).toBe(true);
    expect(plan.matchingEventTypes).toEqual(['TEXT_ALL']);
  });

  it('updates a disabled destination on another topic with too few types, and sets a given channel role', () => {
    const state: EndUserMessagingState = {
      identity: phone({ kind: 'pool', id: 'pool-1', twoWayEnabled: true, twoWayChannelArn: TOPIC }),
      configurationSetName: 'sms-ask',
      configurationSet: {
        ConfigurationSetArn: SET_ARN,
        ConfigurationSetName: 'sms-ask',
        CreatedTimestamp: new Date(),
        EventDestinations: [
          {
            EventDestinationName: EVENT_DESTINATION_NAME,
            Enabled: false,
            MatchingEventTypes: ['TEXT_DELIVERED'],
            SnsDestination: { TopicArn: `${TOPIC}-old` },
          },
        ],
      },
    };
    const role = 'arn:aws:iam::123456789012:role/sms-two-way';
    const plan = planEndUserMessaging(state, { ...target, twoWayChannelRoleArn: role }, TOPIC, SET_ARN);
    const destination = plan.steps.find((s) => s.resource === 'event-destination')!;
    expect(destination.action).toBe('update');
    expect(destination.changes).toEqual([
      `SnsDestination ${TOPIC}-old → ${TOPIC}`,
      'Enabled false → true',
      expect.stringMatching(/^MatchingEventTypes: add TEXT_SUCCESSFUL, TEXT_BLOCKED/),
    ]);
    expect(plan.steps.find((s) => s.resource === 'two-way')).toMatchObject({
      action: 'update',
      changes: [`TwoWayChannelRole (none) → ${role}`],
    });
  });

  it('tells pools, phone numbers and sender IDs apart by their shape', () => {
    expect(identityKindOf('pool-0123abcd')).toBe('pool');
    expect(identityKindOf('arn:aws:sms-voice:us-east-1:123456789012:pool/pool-0123abcd')).toBe('pool');
    expect(identityKindOf('phone-0123abcd')).toBe('phone-number');
    expect(identityKindOf('+18885550100')).toBe('phone-number');
    expect(identityKindOf('MyBrand')).toBeUndefined();
  });
});

describe('sms-ask setup with End User Messaging (stand-in)', () => {
  const number = '+18885550177';
  const poolNumber = '+18885550178';
  let standIn: EndUserMessagingStandIn;
  let smsVoice: PinpointSMSVoiceV2Client;
  const aws = { ...localAws(), sts: new STSClient(localAwsClientConfig(sharedStack())) };
  const noPhone = { originationNumber: undefined, senderId: undefined, roleExternalId: undefined };

  beforeAll(async () => {
    standIn = await startEndUserMessagingStandIn({
      sns: aws.sns,
      region: sharedStack().region,
      phoneNumbers: [{ phoneNumber: number }, { phoneNumber: poolNumber, numberType: 'TEN_DLC' }],
      pools: [{ poolId: 'pool-setup', phoneNumbers: [poolNumber] }],
    });
    smsVoice = new PinpointSMSVoiceV2Client({ ...localAwsClientConfig(sharedStack()), endpoint: standIn.endpoint });
  });
  afterAll(async () => {
    smsVoice?.destroy();
    await standIn?.stop();
  });

  function newTarget(originationIdentity: string): SetupTarget {
    const name = `eum-${randomUUID().slice(0, 8)}`;
    return {
      queueName: name,
      topicName: name,
      dlqName: `${name}-dlq`,
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 4,
      endUserMessaging: { originationIdentity, configurationSet: name },
    };
  }

  it('creates the configuration set and destination, turns two-way on for the number, then finds nothing to change', async () => {
    const target = newTarget(number);
    const first = await runSetup({ ...aws, smsVoice }, target, noPhone, { dryRun: false });
    expect(first.steps.filter((s) => s.action !== 'none').map((s) => `${s.action} ${s.resource}`)).toEqual([
      'create dlq',
      'create queue',
      'create topic',
      'create subscription',
      'create configuration-set',
      'create event-destination',
      'update two-way',
    ]);
    const { topicArn } = first.resources;
    const [described] =
      (await smsVoice.send(new DescribePhoneNumbersCommand({}))).PhoneNumbers?.filter(
        (n) => n.PhoneNumber === number,
      ) ?? [];
    expect(described).toMatchObject({ TwoWayEnabled: true, TwoWayChannelArn: topicArn });
    expect(described?.TwoWayChannelRole).toBeUndefined();
    const set = (
      await smsVoice.send(new DescribeConfigurationSetsCommand({ ConfigurationSetNames: [target.queueName] }))
    ).ConfigurationSets?.[0];
    expect(set?.EventDestinations).toEqual([
      {
        EventDestinationName: EVENT_DESTINATION_NAME,
        Enabled: true,
        MatchingEventTypes: WANTED_EVENT_TYPES,
        SnsDestination: { TopicArn: topicArn },
      },
    ]);
    // The topic policy lets the SMS service publish the events and replies.
    const policy = JSON.parse(
      (await aws.sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }))).Attributes!.Policy!,
    );
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'sms-voice.amazonaws.com' },
        Action: 'sns:Publish',
      }),
    );

    // The worker may send through exactly this number and configuration set.
    const statements = first.workerPolicy.Statement as { Sid: string; Action: unknown; Resource: unknown }[];
    expect(statements.find((s) => s.Sid === 'SendTextMessages')).toMatchObject({
      Action: 'sms-voice:SendTextMessage',
      Resource: [described!.PhoneNumberArn, set!.ConfigurationSetArn],
    });
    expect(statements.find((s) => s.Sid === 'ReadEndUserMessaging')?.Action).toEqual([
      'sms-voice:DescribePhoneNumbers',
      'sms-voice:DescribePools',
      'sms-voice:DescribeConfigurationSets',
      'sms-voice:DescribeAccountAttributes',
      'sms-voice:DescribeSpendLimits',
    ]);
    expect(first.manualSteps.join('\n')).not.toContain('update-phone-number');
    expect(first.workerSettings).toMatchObject({
      SMS_ASK_SMS_SENDER: 'end-user-messaging',
      SMS_ASK_ORIGINATION_IDENTITY: number,
      SMS_ASK_CONFIGURATION_SET: target.queueName,
    });

    const second = await runSetup({ ...aws, smsVoice }, target, noPhone, { dryRun: false });
    expect(second.changed).toBe(false);
    expect(second.resources).toEqual(first.resources);
  });

  it('turns two-way on for a pool, repairs a disabled destination, and changes nothing on a dry run', async () => {
    const target = newTarget('pool-setup');
    const dry = await runSetup({ ...aws, smsVoice }, target, noPhone, { dryRun: true });
    expect(dry.changed).toBe(true);
    expect(
      (await smsVoice.send(new DescribeConfigurationSetsCommand({}))).ConfigurationSets?.some(
        (s) => s.ConfigurationSetName === target.queueName,
      ),
    ).toBe(false);

    const made = await runSetup({ ...aws, smsVoice }, target, noPhone, { dryRun: false });
    const pool = (await smsVoice.send(new DescribePoolsCommand({ PoolIds: ['pool-setup'] }))).Pools?.[0];
    expect(pool).toMatchObject({ TwoWayEnabled: true, TwoWayChannelArn: made.resources.topicArn });

    await smsVoice.send(
      new UpdateEventDestinationCommand({
        ConfigurationSetName: target.queueName,
        EventDestinationName: EVENT_DESTINATION_NAME,
        Enabled: false,
      }),
    );
    const repair = await runSetup({ ...aws, smsVoice }, target, noPhone, { dryRun: false });
    expect(repair.steps.filter((s) => s.action !== 'none')).toEqual([
      expect.objectContaining({ resource: 'event-destination', action: 'update', changes: ['Enabled false → true'] }),
    ]);
    expect((await runSetup({ ...aws, smsVoice }, target, noPhone, { dryRun: false })).changed).toBe(false);
  });

  it('says what to set when the origination identity does not exist', async () => {
    await expect(runSetup({ ...aws, smsVoice }, newTarget('+18885550999'), noPhone, { dryRun: true })).rejects.toThrow(
      /\+18885550999 is not a phone-number of this account in us-east-1: .*SMS_ASK_ORIGINATION_IDENTITY/,
    );
  });
});
