import { describe, expect, it } from 'vitest';
import { classifyEndUserMessagingError, timeToLiveSeconds } from '../../src/aws/end-user-messaging';
import { deliveryStatusOf } from '../../src/domain/delivery-event';
import { readInboundBody } from '../../src/domain/inbound-message';
import { loadSettings } from '../../src/config';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:sms-ask-inbound';

/** AWS's documented SMS event, as the configuration set's SNS destination publishes it. */
function smsEvent(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventType: 'TEXT_DELIVERED',
    eventVersion: '1.0',
    eventTimestamp: 1_686_975_105_470,
    isFinal: true,
    originationPhoneNumber: '+12065550152',
    destinationPhoneNumber: '+14255550156',
    isInternationalSend: false,
    mcc: '310',
    mnc: '800',
    messageId: '862a8790-60c0-4430-9b2b-658bdexample',
    messageRequestTimestamp: 1_686_975_103_170,
    messageEncoding: 'GSM',
    messageType: 'TRANSACTIONAL',
    messageStatus: 'DELIVERED',
    messageStatusDescription: 'Message has been delivered to the handset',
    context: { smsAskAskId: 'ask/e-1', smsAskKind: 'question' },
    totalMessageParts: 1,
    totalMessagePrice: 0.00581,
    totalCarrierFee: 0.0025,
    ...over,
  };
}

function envelope(inner: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: 'sns-7',
    TopicArn: TOPIC,
    Message: typeof inner === 'string' ? inner : JSON.stringify(inner),
    Timestamp: '2023-06-17T04:11:45.470Z',
    ...extra,
  });
}

describe('delivery events on the inbound queue', () => {
  it('reads an SNS-delivered SMS event: the ask and kind from its Context, the price with the carrier fee', () => {
    expect(readInboundBody(envelope(smsEvent()), 'sqs-1', { topicArn: TOPIC })).toEqual({
      ok: true,
      delivery: {
        dedupeKey: 'sns-7',
        event: {
          messageId: '862a8790-60c0-4430-9b2b-658bdexample',
          eventType: 'TEXT_DELIVERED',
          status: 'delivered',
          isFinal: true,
          destination: '+14255550156',
          at: '2023-06-17T04:11:45.470Z',
          sentAt: '2023-06-17T04:11:43.170Z',
          reason: 'Message has been delivered to the handset',
          priceUsd: 0.00831,
          askId: 'ask/e-1',
          kind: 'question',
        },
      },
    });
  });

  it('reads each failure as final and undelivered, and a carrier acceptance as delivered only when final', () => {
    for (const type of [
      'TEXT_BLOCKED',
      'TEXT_CARRIER_BLOCKED',
      'TEXT_SPAM',
      'TEXT_TTL_EXPIRED',
      'TEXT_PROTECT_BLOCKED',
    ])
      expect(deliveryStatusOf(type, false)).toBe('undelivered');
    expect(deliveryStatusOf('TEXT_SUCCESSFUL', false)).toBe('pending');
    expect(deliveryStatusOf('TEXT_SUCCESSFUL', true)).toBe('delivered');
    expect(deliveryStatusOf('TEXT_QUEUED', false)).toBe('pending');
    expect(deliveryStatusOf('TEXT_SENT', false)).toBe('pending');
    expect(deliveryStatusOf('TEXT_UNKNOWN', true)).toBe('unknown');
    const blocked = readInboundBody(envelope(smsEvent({ eventType: 'TEXT_BLOCKED', isFinal: false })), 'q');
    expect(blocked).toMatchObject({ ok: true, delivery: { event: { status: 'undelivered', isFinal: true } } });
  });

  it("names an ask of the longest entitlement (its Context value is up to AWS's 800 characters)", () => {
    const askId = `ask/${'e'.repeat(400)}`;
    const read = readInboundBody(envelope(smsEvent({ context: { smsAskAskId: askId, smsAskKind: 'question' } })), 'q');
    expect(read).toMatchObject({ ok: true, delivery: { event: { askId } } });
  });

  it('still reads replies as replies', () => {
    const reply = envelope({ originationNumber: '+12065550142', messageBody: '4821', inboundMessageId: 'in-1' });
    expect(readInboundBody(reply, 'q', { topicArn: TOPIC })).toMatchObject({ ok: true, reply: { body: '4821' } });
  });

  it.each([
    ['from another topic', envelope(smsEvent(), { TopicArn: `${TOPIC}-other` }), /not the inbound topic/],
    ['without a topic', envelope(smsEvent(), { TopicArn: undefined }), /without a TopicArn/],
    ['with no timestamp', envelope(smsEvent({ eventTimestamp: undefined })), /eventTimestamp/],
    ['with isFinal as a string', envelope(smsEvent({ isFinal: 'true' })), /isFinal/],
    ['with a made-up event type', envelope(smsEvent({ eventType: 'TEXT_<script>' })), /eventType/],
    ['with a destination that is no number', envelope(smsEvent({ destinationPhoneNumber: 'hello' })), /not a phone/],
    ['with a huge message id', envelope(smsEvent({ messageId: 'x'.repeat(500) })), /messageId/],
    ['with a negative price', envelope(smsEvent({ totalMessagePrice: -1 })), /totalMessagePrice/],
    ['with a context that is no map', envelope(smsEvent({ context: 'ask/e-1' })), /context/],
    [
      'with more context than AWS allows',
      envelope(smsEvent({ context: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, 'v'])) })),
      /at most 5 entries/,
    ],
  ])('refuses an event %s, with a reason for the log (it goes to the DLQ)', (_, body, reason) => {
    const read = readInboundBody(body, 'q', { topicArn: TOPIC });
    expect(read.ok).toBe(false);
    expect(read.ok ? '' : read.reason).toMatch(reason);
  });

  it('takes a raw event only where the deployment takes raw delivery', () => {
    const raw = JSON.stringify(smsEvent());
    expect(readInboundBody(raw, 'q').ok).toBe(true);
    const refused = readInboundBody(raw, 'q', { formats: ['sns-envelope'] });
    expect(refused.ok ? '' : refused.reason).toMatch(/raw message delivery/);
  });
});

describe('End User Messaging sends', () => {
  it('lives no longer than the ask has left, within AWS bounds', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(timeToLiveSeconds('2026-01-01T01:00:00Z', now)).toBe(3600);
    expect(timeToLiveSeconds('2025-12-31T00:00:00Z', now)).toBe(5);
    expect(timeToLiveSeconds('2026-02-01T00:00:00Z', now)).toBe(259_200);
    expect(timeToLiveSeconds(undefined, now)).toBeUndefined();
  });

  it('says what to fix for a refusal, and retries throttling and server faults', () => {
    const settings = loadSettings({ SMS_ASK_SMS_SENDER: 'end-user-messaging', SMS_ASK_ORIGINATION_IDENTITY: 'pool-1' });
    const aws = (name: string, status: number, extra: Record<string, unknown> = {}) =>
      Object.assign(new Error(`${name} happened for +14255550156`), {
        name,
        $metadata: { httpStatusCode: status },
        ...extra,
      });
    const optedOut = classifyEndUserMessagingError(
      aws('ConflictException', 409, { Reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT' }),
      '+14255550156',
      settings,
    );
    expect(optedOut).toMatchObject({ permanent: true, code: 'DESTINATION_PHONE_NUMBER_OPTED_OUT' });
    expect(optedOut.message).toMatch(/texted STOP/);
    expect(optedOut.message).not.toContain('4255550156');
    const noSet = classifyEndUserMessagingError(
      aws('ResourceNotFoundException', 404, { ResourceType: 'configuration-set', ResourceId: 'sms-ask' }),
      '+14255550156',
      settings,
    );
    expect(noSet.message).toMatch(/sms-ask setup/);
    expect(classifyEndUserMessagingError(aws('ThrottlingException', 400), '+14255550156', settings).permanent).toBe(
      false,
    );
    expect(classifyEndUserMessagingError(aws('InternalServerException', 500), '+14255550156', settings).permanent).toBe(
      false,
    );
    expect(classifyEndUserMessagingError(aws('AccessDeniedException', 403), '+14255550156', settings).message).toMatch(
      /sms-voice:SendTextMessage/,
    );
  });
});
