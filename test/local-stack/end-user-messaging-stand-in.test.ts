import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictException,
  CreateConfigurationSetCommand,
  CreateEventDestinationCommand,
  DescribeAccountAttributesCommand,
  DescribeConfigurationSetsCommand,
  DescribePhoneNumbersCommand,
  DescribeSpendLimitsCommand,
  PinpointSMSVoiceV2Client,
  PinpointSMSVoiceV2ServiceException,
  ResourceNotFoundException,
  SendTextMessageCommand,
  SendVoiceMessageCommand,
  UpdatePhoneNumberCommand,
  ValidationException,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { CreateTopicCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  startEndUserMessagingStandIn,
  type DeliveryEventJson,
  type EndUserMessagingStandIn,
} from '../../src/local-stack/end-user-messaging-stand-in';
import { localAws, newPhone, sharedStack } from '../support/harness';

const ORIGINATION = '+18885550123';
const PRICE_PER_PART = 0.00581;

describe('End User Messaging stand-in, through the SDK client', () => {
  let standIn: EndUserMessagingStandIn;
  let client: PinpointSMSVoiceV2Client;
  let sns: SNSClient;
  let sqs: SQSClient;
  let queueUrl: string;
  let topicArn: string;
  const configurationSetName = `sms-ask-${randomUUID().slice(0, 8)}`;
  const received: DeliveryEventJson[] = [];

  /** Events that reached the queue (as SNS envelopes) so far, for one message. */
  async function eventsOf(messageId: string, count: number, timeoutMs = 5000): Promise<DeliveryEventJson[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mine = received.filter((e) => e.messageId === messageId);
      if (mine.length >= count || Date.now() > deadline) return mine;
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of Messages) {
        const envelope = JSON.parse(m.Body ?? '{}') as { Type?: string; TopicArn?: string; Message?: string };
        expect(envelope).toMatchObject({ Type: 'Notification', TopicArn: topicArn });
        received.push(JSON.parse(envelope.Message ?? '{}') as DeliveryEventJson);
      }
    }
  }

  beforeAll(async () => {
    const stack = sharedStack();
    ({ sns, sqs } = localAws());
    standIn = await startEndUserMessagingStandIn({
      sns,
      region: stack.region,
      phoneNumbers: [{ phoneNumber: ORIGINATION }],
      eventDelayMs: 20,
      pricePerPart: PRICE_PER_PART,
      accountTier: 'SANDBOX',
      monthlySpendLimit: 100,
    });
    client = new PinpointSMSVoiceV2Client({
      region: stack.region,
      endpoint: standIn.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });

    const name = `eum-events-${randomUUID().slice(0, 8)}`;
    ({ TopicArn: topicArn = '' } = await sns.send(new CreateTopicCommand({ Name: name })));
    ({ QueueUrl: queueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: name })));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn }));

    await client.send(new CreateConfigurationSetCommand({ ConfigurationSetName: configurationSetName }));
    await client.send(
      new CreateEventDestinationCommand({
        ConfigurationSetName: configurationSetName,
        EventDestinationName: 'sms-ask-deliveries',
        MatchingEventTypes: ['TEXT_ALL'],
        SnsDestination: { TopicArn: topicArn },
      }),
    );
  });

  afterAll(async () => {
    await standIn?.stop();
    client?.destroy();
    if (queueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    sns?.destroy();
    sqs?.destroy();
  });

  const send = (input: Partial<ConstructorParameters<typeof SendTextMessageCommand>[0]> = {}) =>
    client.send(
      new SendTextMessageCommand({
        DestinationPhoneNumber: newPhone(),
        OriginationIdentity: ORIGINATION,
        MessageBody: 'Isolate host WS-042? Reply 4821 for Yes, 7302 for No',
        ConfigurationSetName: configurationSetName,
        ...input,
      }),
    );

  it('describes the configuration set with its SNS event destination', async () => {
    const { ConfigurationSets } = await client.send(
      new DescribeConfigurationSetsCommand({ ConfigurationSetNames: [configurationSetName] }),
    );
    expect(ConfigurationSets).toEqual([
      {
        ConfigurationSetArn: `arn:aws:sms-voice:${sharedStack().region}:123456789012:configuration-set/${configurationSetName}`,
        ConfigurationSetName: configurationSetName,
        CreatedTimestamp: expect.any(Date),
        EventDestinations: [
          {
            EventDestinationName: 'sms-ask-deliveries',
            Enabled: true,
            MatchingEventTypes: ['TEXT_ALL'],
            SnsDestination: { TopicArn: topicArn },
          },
        ],
      },
    ]);
  });

  it('sends, then publishes TEXT_SUCCESSFUL and TEXT_DELIVERED as documented SMS events inside SNS envelopes', async () => {
    const destination = newPhone();
    const before = Date.now();
    const { MessageId } = await send({
      DestinationPhoneNumber: destination,
      MessageType: 'TRANSACTIONAL',
      Context: { askId: 'ask-1', entitlement: 'e-42' },
      TimeToLive: 300,
      MaxPrice: '0.05',
    });
    expect(MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(standIn.sent().at(-1)).toMatchObject({ messageId: MessageId, destinationPhoneNumber: destination });

    // A standard queue does not keep order: consumers order a message's events by eventTimestamp.
    const events = (await eventsOf(MessageId!, 2)).sort((a, b) => a.eventTimestamp - b.eventTimestamp);
    expect(events.map((e) => [e.eventType, e.isFinal])).toEqual([
      ['TEXT_SUCCESSFUL', false],
      ['TEXT_DELIVERED', true],
    ]);
    expect(events[0]).toEqual({
      eventType: 'TEXT_SUCCESSFUL',
      eventVersion: '1.0',
      eventTimestamp: expect.any(Number),
      isFinal: false,
      originationPhoneNumber: ORIGINATION,
      destinationPhoneNumber: destination,
      isoCountryCode: 'US',
      isInternationalSend: false,
      mcc: '310',
      mnc: '800',
      messageId: MessageId,
      messageRequestTimestamp: expect.any(Number),
      messageEncoding: 'GSM',
      messageType: 'TRANSACTIONAL',
      messageStatus: 'SUCCESSFUL',
      messageStatusDescription: 'Message has been accepted by phone carrier',
      context: { askId: 'ask-1', entitlement: 'e-42' },
      totalMessageParts: 1,
      totalMessagePrice: PRICE_PER_PART,
      totalCarrierFee: 0,
    });
    expect(events[1]).toMatchObject({ messageStatus: 'DELIVERED', totalMessagePrice: PRICE_PER_PART });
    expect(events[0]!.messageRequestTimestamp).toBeGreaterThanOrEqual(before);
    expect(events[1]!.eventTimestamp).toBeGreaterThanOrEqual(events[0]!.eventTimestamp);
  });

  it('prices a message by its parts: a UCS-2 body over 70 characters is two parts', async () => {
    const { MessageId } = await send({ MessageBody: `Répondez 4821 ✅ ${'x'.repeat(60)}` });
    const [event] = await eventsOf(MessageId!, 1);
    expect(event).toMatchObject({
      messageEncoding: 'UCS2',
      totalMessageParts: 2,
      totalMessagePrice: Number((2 * PRICE_PER_PART).toFixed(5)),
    });
  });

  it("follows setOutcome: a blocked destination's message gets one final TEXT_BLOCKED", async () => {
    const destination = newPhone();
    standIn.setOutcome(destination, ['TEXT_BLOCKED']);
    const { MessageId } = await send({ DestinationPhoneNumber: destination });
    const events = await eventsOf(MessageId!, 2, 1000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ eventType: 'TEXT_BLOCKED', messageStatus: 'BLOCKED', isFinal: true });
  });

  it('builds an event for a sent message with eventFor, and publishes a duplicate as often as asked', async () => {
    const destination = newPhone();
    standIn.setOutcome(destination, []);
    const { MessageId } = await send({ DestinationPhoneNumber: destination });
    const delivered = standIn.eventFor(MessageId!, 'TEXT_DELIVERED', { publish: false });
    expect(delivered).toMatchObject({ messageId: MessageId, eventType: 'TEXT_DELIVERED', isFinal: true });
    await standIn.publishEvent(delivered);
    await standIn.publishEvent(JSON.stringify(delivered));
    const events = await eventsOf(MessageId!, 2);
    expect(events).toEqual([delivered, delivered]);
  });

  it('refuses a TimeToLive out of range with a ValidationException the SDK parses, Reason and Fields', async () => {
    const err = await send({ TimeToLive: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect(err).toMatchObject({
      name: 'ValidationException',
      Reason: 'FIELD_VALIDATION_FAILED',
      Fields: [{ Name: 'TimeToLive', Message: expect.stringContaining('greater than or equal to 5') }],
      $metadata: { httpStatusCode: 400 },
    });
    expect((err as Error).message).toMatch(/Value '3' at 'timeToLive' failed to satisfy constraint/);
  });

  it('refuses a body over 1,600 characters', async () => {
    await expect(send({ MessageBody: 'x'.repeat(1601) })).rejects.toMatchObject({
      name: 'ValidationException',
      Fields: [{ Name: 'MessageBody' }],
    });
  });

  it('refuses an unknown origination identity and an unknown configuration set with ResourceNotFoundException', async () => {
    const unknownPhone = await send({ OriginationIdentity: 'phone-00000000000000000000000000000000' }).catch(
      (e: unknown) => e,
    );
    expect(unknownPhone).toBeInstanceOf(ResourceNotFoundException);
    expect(unknownPhone).toMatchObject({
      ResourceType: 'phone-number',
      ResourceId: 'phone-00000000000000000000000000000000',
    });

    const unknownSet = await send({ ConfigurationSetName: 'no-such-set' }).catch((e: unknown) => e);
    expect(unknownSet).toBeInstanceOf(ResourceNotFoundException);
    expect(unknownSet).toMatchObject({ ResourceType: 'configuration-set', ResourceId: 'no-such-set' });
  });

  it('refuses an opted-out destination with ConflictException DESTINATION_PHONE_NUMBER_OPTED_OUT', async () => {
    const err = await send({ DestinationPhoneNumber: '+12065550199' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictException);
    expect(err).toMatchObject({
      Reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT',
      ResourceType: 'opted-out-number',
      ResourceId: '+12065550199',
    });
  });

  it('validates a DryRun and returns a MessageId, but sends nothing and publishes no event', async () => {
    const destination = newPhone();
    const sentBefore = standIn.sent().length;
    const { MessageId } = await send({ DestinationPhoneNumber: destination, DryRun: true });
    expect(MessageId).toEqual(expect.any(String));
    expect(standIn.sent()).toHaveLength(sentBefore);
    expect(await eventsOf(MessageId!, 1, 1000)).toEqual([]);
    await expect(send({ DryRun: true, TimeToLive: 999_999 })).rejects.toBeInstanceOf(ValidationException);
  });

  it('turns two-way on with UpdatePhoneNumber, as DescribePhoneNumbers then shows', async () => {
    const { PhoneNumbers: [number] = [] } = await client.send(
      new DescribePhoneNumbersCommand({ PhoneNumberIds: [ORIGINATION] }),
    );
    expect(number).toMatchObject({
      PhoneNumber: ORIGINATION,
      PhoneNumberId: expect.stringMatching(/^phone-[0-9a-f]{32}$/),
      Status: 'ACTIVE',
      TwoWayEnabled: false,
      NumberCapabilities: ['SMS'],
      CreatedTimestamp: expect.any(Date),
    });

    const refused = await client
      .send(new UpdatePhoneNumberCommand({ PhoneNumberId: number!.PhoneNumberId!, TwoWayEnabled: true }))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'ValidationException', Reason: 'TWO_WAY_CHANNEL_NOT_PRESENT' });

    const updated = await client.send(
      new UpdatePhoneNumberCommand({
        PhoneNumberId: number!.PhoneNumberArn!,
        TwoWayEnabled: true,
        TwoWayChannelArn: topicArn,
      }),
    );
    expect(updated).toMatchObject({ TwoWayEnabled: true, TwoWayChannelArn: topicArn });
    const { PhoneNumbers } = await client.send(
      new DescribePhoneNumbersCommand({ PhoneNumberIds: [number!.PhoneNumberId!] }),
    );
    expect(PhoneNumbers?.[0]).toMatchObject({ TwoWayEnabled: true, TwoWayChannelArn: topicArn });

    await expect(
      client.send(new DescribePhoneNumbersCommand({ PhoneNumberIds: ['phone-ffffffffffffffffffffffffffffffff'] })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('reports the account tier and the text spend limit', async () => {
    const { AccountAttributes } = await client.send(new DescribeAccountAttributesCommand({}));
    expect(AccountAttributes).toEqual([{ Name: 'ACCOUNT_TIER', Value: 'SANDBOX' }]);
    const { SpendLimits } = await client.send(new DescribeSpendLimitsCommand({}));
    expect(SpendLimits).toEqual([
      { Name: 'TEXT_MESSAGE_MONTHLY_SPEND_LIMIT', EnforcedLimit: 100, MaxLimit: 100, Overridden: false },
    ]);
  });

  it('answers an operation it does not have with UnknownOperationException naming it', async () => {
    const err = await client
      .send(new SendVoiceMessageCommand({ DestinationPhoneNumber: newPhone(), OriginationIdentity: ORIGINATION }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PinpointSMSVoiceV2ServiceException);
    expect(err).toMatchObject({ name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
    expect((err as Error).message).toMatch(/^SendVoiceMessage is not an operation of the End User Messaging stand-in/);
  });

  it('refuses a request without a SigV4 Authorization header, and a body that is not JSON', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(standIn.endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': 'PinpointSMSVoiceV2.DescribeSpendLimits',
          ...headers,
        },
        body,
      });
    const unsigned = await post({}, '{}');
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });

    const auth = `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sms-voice/aws4_request, SignedHeaders=host, Signature=${'a'.repeat(64)}`;
    const notJson = await post({ Authorization: auth }, 'not json');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('gives the SDK an error it parses for every refusal (no generic service exception)', async () => {
    const err = await send({ MaxPrice: '0.001' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PinpointSMSVoiceV2ServiceException);
    expect(err).toMatchObject({ name: 'ValidationException', Reason: 'PRICE_OVER_THRESHOLD' });
  });
});
