import type { SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { publishSms } from '../../src/aws/sms-publisher';
import { SmsSendError } from '../../src/aws/sns-errors';
import { MessageTooLongError } from '../../src/domain/sms-text';

/** Records each SNS command; moto does not keep SMS message attributes, so this unit test does. */
function recordingSns(optedOut = false) {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  const sns = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ command: command.constructor.name, input: command.input });
      return command.constructor.name === 'CheckIfPhoneNumberIsOptedOutCommand'
        ? { isOptedOut: optedOut }
        : { MessageId: 'msg-1' };
    },
  } as unknown as SNSClient;
  return { sns, sent };
}

const base = { smsType: 'Transactional' as const };

describe('publishSms', () => {
  it('sends a Transactional SMS with no other attributes by default', async () => {
    const { sns, sent } = recordingSns();
    const out = await publishSms(sns, base, '+12065550142', 'Hello');
    expect(out).toEqual({ messageId: 'msg-1', segments: 1, encoding: 'GSM-7' });
    expect(sent).toEqual([
      {
        command: 'PublishCommand',
        input: {
          PhoneNumber: '+12065550142',
          Message: 'Hello',
          MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
        },
      },
    ]);
  });

  it('sets sender ID, origination number and max price where they are configured', async () => {
    const { sns, sent } = recordingSns();
    await publishSms(
      sns,
      { smsType: 'Promotional', senderId: 'SecOps', originationNumber: '+18885550100', maxPrice: 0.5 },
      '+12065550142',
      'Hi',
    );
    expect(sent[0]!.input.MessageAttributes).toEqual({
      'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Promotional' },
      'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'SecOps' },
      'AWS.MM.SMS.OriginationNumber': { DataType: 'String', StringValue: '+18885550100' },
      'AWS.SNS.SMS.MaxPrice': { DataType: 'Number', StringValue: '0.50000' },
    });
  });

  it('refuses a message over 1,600 bytes without calling SNS', async () => {
    const { sns, sent } = recordingSns();
    await expect(publishSms(sns, base, '+12065550142', 'é'.repeat(801))).rejects.toThrow(MessageTooLongError);
    expect(sent).toEqual([]);
  });

  it('does not publish to a number that opted out, and says how to opt it back in', async () => {
    const { sns, sent } = recordingSns(true);
    const err = await publishSms(sns, base, '+12065550142', 'Hi', { checkOptOut: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmsSendError);
    expect(err).toMatchObject({ permanent: true, code: 'OptedOut' });
    expect((err as Error).message).toMatch(/START/);
    expect(sent.map((s) => s.command)).toEqual(['CheckIfPhoneNumberIsOptedOutCommand']);
  });
});
