import { describe, expect, it } from 'vitest';
import { parseInboundMessage } from '../../src/domain/inbound-message';
import { snsDeliveredReplyBody } from '../../src/local-stack/phone-simulator';

describe('phone simulator', () => {
  it('builds the SQS body that SNS delivers for a two-way reply, which the poller parses as such', () => {
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:sms-ask-inbound';
    const body = snsDeliveredReplyBody(topicArn, { from: '+12065550142', body: '4821', inboundMessageId: 'in-1' });
    const envelope = JSON.parse(body) as Record<string, string>;
    expect(envelope).toMatchObject({ Type: 'Notification', TopicArn: topicArn, SignatureVersion: '1' });
    const parsed = parseInboundMessage(body, 'sqs-1');
    expect(parsed).toMatchObject({
      ok: true,
      reply: { from: '+12065550142', body: '4821', dedupeKey: 'in-1', format: 'sns-envelope' },
    });
  });
});
