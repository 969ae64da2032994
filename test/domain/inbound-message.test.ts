import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { parseInboundMessage } from '../../src/domain/inbound-message';
import type { InboundParseResult, InboundReply } from '../../src/domain/inbound-message';
import { interpretReply } from '../../src/domain/reply-grammar';
import type { PendingAskView } from '../../src/domain/reply-grammar';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/inbound');
const SQS_MESSAGE_ID = 'sqs-0000-test';

const AWS_INBOUND_ID = 'cae173d2-66b9-564c-8309-21f858e9fb84';
const SNS_MESSAGE_ID = 'b9f2b0f4-3c1e-5b6a-9d0e-6f1f2a3b4c5d';

const pending: PendingAskView[] = [
  {
    askId: 'ask-1',
    options: ['Yes', 'No'],
    codes: [
      { code: '4821', optionIndex: 0 },
      { code: '7302', optionIndex: 1 },
    ],
  },
];

function expectReply(result: InboundParseResult): InboundReply {
  if (!result.ok) throw new Error(`expected the message to parse, got: ${result.reason}`);
  return result.reply;
}

function expectBad(result: InboundParseResult): string {
  if (result.ok) throw new Error(`expected a bad message, got a reply from ${result.reply.from}`);
  return result.reason;
}

/** One row per fixture file, saying what the fixture README expects of it. */
const expectations: Record<string, (result: InboundParseResult) => void> = {
  'sns-envelope.json': (result) => {
    expect(expectReply(result)).toEqual({
      from: '+12065550142',
      body: '4821',
      to: '+18885550100',
      keyword: 'KEYWORD_123456789012',
      inboundMessageId: AWS_INBOUND_ID,
      snsMessageId: SNS_MESSAGE_ID,
      previousPublishedMessageId: 'wJ0F2fpmXnDV4nqoX6n4MHpT3QmzPpKcKRCmBMfBDI9z',
      dedupeKey: AWS_INBOUND_ID,
      format: 'sns-envelope',
      // The envelope's Timestamp: when SNS took the reply, so an old one never answers a newer question.
      sentAt: '2026-11-24T18:03:11.402Z',
    });
  },
  'raw-delivery.json': (result) => {
    expect(expectReply(result)).toEqual({
      from: '+12065550142',
      body: '4821',
      to: '+18885550100',
      keyword: 'KEYWORD_123456789012',
      inboundMessageId: AWS_INBOUND_ID,
      previousPublishedMessageId: 'wJ0F2fpmXnDV4nqoX6n4MHpT3QmzPpKcKRCmBMfBDI9z',
      dedupeKey: AWS_INBOUND_ID,
      format: 'raw',
    });
  },
  'bridge.json': (result) => {
    expect(expectReply(result)).toEqual({
      from: '+447700900123',
      body: 'Yes',
      dedupeKey: SQS_MESSAGE_ID,
      format: 'bridge',
    });
  },
  'opt-out-stop.json': (result) => {
    const reply = expectReply(result);
    expect(reply.from).toBe('+12065550142');
    expect(reply.dedupeKey).toBe('0f4e2a9b-1111-4c2d-9e8f-123456789abc');
    expect(interpretReply(reply.body, pending)).toEqual({ kind: 'opt_out', keyword: 'STOP' });
  },
  'code-with-words.json': (result) => {
    const reply = expectReply(result);
    expect(reply.body).toBe('ok, 4821. thanks!');
    expect(reply.dedupeKey).toBe('5a6b7c8d-2222-4e3f-8a9b-abcdefabcdef');
    expect(interpretReply(reply.body, pending)).toEqual({
      kind: 'answer',
      askId: 'ask-1',
      optionIndex: 0,
      code: '4821',
    });
  },
  'bad-not-json.txt': (result) => {
    expect(expectBad(result)).toBe('body is not JSON');
  },
  'bad-inner-not-json.json': (result) => {
    expect(expectBad(result)).toBe("SNS envelope's Message is not JSON");
  },
  'bad-missing-sender.json': (result) => {
    expect(expectBad(result)).toBe('two-way payload has no originationNumber');
  },
};

describe('parseInboundMessage on the shared fixtures', () => {
  const files = readdirSync(FIXTURES)
    .filter((name) => name !== 'README.md')
    .sort();

  it('has an expectation for every fixture file and a file for every expectation', () => {
    expect(files).toEqual(Object.keys(expectations).sort());
  });

  it.each(files)('handles %s as the fixture README says', (name) => {
    const check = expectations[name];
    if (check === undefined) throw new Error(`no expectation for fixture ${name}: add one to the table`);
    check(parseInboundMessage(readFileSync(path.join(FIXTURES, name), 'utf8'), SQS_MESSAGE_ID));
  });
});

function envelope(inner: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: 'sns-1',
    Message: typeof inner === 'string' ? inner : JSON.stringify(inner),
    ...extra,
  });
}

function reasonFor(body: string): string {
  return expectBad(parseInboundMessage(body, SQS_MESSAGE_ID));
}

describe('parseInboundMessage', () => {
  it('keeps the message body exactly as received, spaces included', () => {
    const reply = expectReply(
      parseInboundMessage(envelope({ originationNumber: '+12065550142', messageBody: '  Yes \n' }), 'q'),
    );
    expect(reply.body).toBe('  Yes \n');
  });

  it('accepts an empty message body and leaves it to the reply grammar', () => {
    const reply = expectReply(
      parseInboundMessage(envelope({ originationNumber: '+12065550142', messageBody: '' }), 'q'),
    );
    expect(reply.body).toBe('');
  });

  it('normalizes a spaced sender number to E.164', () => {
    const reply = expectReply(
      parseInboundMessage(JSON.stringify({ originationNumber: '+1 206 555 0142', messageBody: '1' }), 'q'),
    );
    expect(reply.from).toBe('+12065550142');
  });

  it('dedupes on the SNS MessageId when the payload has no inboundMessageId', () => {
    const body = envelope({ originationNumber: '+12065550142', destinationNumber: '+18885550100', messageBody: '1' });
    const reply = expectReply(parseInboundMessage(body, 'sqs-9'));
    expect(reply.dedupeKey).toBe('sns-1');
    expect(reply.format).toBe('sns-envelope');
  });

  it('treats a blank inboundMessageId as absent rather than as a shared dedupe key', () => {
    const body = envelope({ originationNumber: '+12065550142', messageBody: '1', inboundMessageId: '  ' });
    expect(expectReply(parseInboundMessage(body, 'sqs-9')).dedupeKey).toBe('sns-1');
  });

  it('dedupes a raw payload without ids on the SQS MessageId', () => {
    const reply = expectReply(
      parseInboundMessage(JSON.stringify({ originationNumber: '+12065550142', messageBody: '1' }), 'sqs-9'),
    );
    expect(reply.dedupeKey).toBe('sqs-9');
    expect(reply.format).toBe('raw');
  });

  it('accepts null optional fields as absent', () => {
    const reply = expectReply(
      parseInboundMessage(
        JSON.stringify({
          originationNumber: '+12065550142',
          messageBody: '1',
          messageKeyword: null,
          inboundMessageId: null,
        }),
        'sqs-9',
      ),
    );
    expect(reply.keyword).toBeUndefined();
    expect(reply.dedupeKey).toBe('sqs-9');
  });

  it('keeps a destination that is a short code rather than a phone number', () => {
    const body = JSON.stringify({ originationNumber: '+12065550142', destinationNumber: '12345', messageBody: '1' });
    expect(expectReply(parseInboundMessage(body, 'q')).to).toBe('12345');
  });

  it('ignores a byte-order mark in front of the JSON', () => {
    expect(
      parseInboundMessage(`\uFEFF${envelope({ originationNumber: '+12065550142', messageBody: '1' })}`, 'q').ok,
    ).toBe(true);
  });

  it('rejects a message body over the size limit as a bad message, counting UTF-8 bytes', () => {
    const at = (body: string, maxBodyBytes?: number) =>
      parseInboundMessage(envelope({ originationNumber: '+12065550142', messageBody: body }), 'q', { maxBodyBytes });
    expect(at('x'.repeat(1_600)).ok).toBe(true);
    expect(at('x'.repeat(1_601))).toEqual({ ok: false, reason: 'messageBody is longer than 1600 bytes' });
    expect(at('é'.repeat(801))).toEqual({ ok: false, reason: 'messageBody is longer than 1600 bytes' });
    expect(at('x'.repeat(200), 160)).toEqual({ ok: false, reason: 'messageBody is longer than 160 bytes' });
  });

  it('rejects ids and addresses over their length limits, so none becomes a dedupe key or is parsed', () => {
    const long = 'a'.repeat(129);
    expect(reasonFor(envelope({ originationNumber: '+12065550142', messageBody: '1', inboundMessageId: long }))).toBe(
      'inboundMessageId is longer than 128 characters',
    );
    expect(reasonFor(envelope({ originationNumber: '+12065550142', messageBody: '1' }, { MessageId: long }))).toBe(
      'SNS MessageId is longer than 128 characters',
    );
    expect(
      expectBad(parseInboundMessage(JSON.stringify({ originationNumber: '+12065550142', messageBody: '1' }), long)),
    ).toBe('SQS MessageId is longer than 128 characters');
    expect(reasonFor(envelope({ originationNumber: `+1206555014${'2'.repeat(60)}`, messageBody: '1' }))).toBe(
      'originationNumber is longer than 64 characters',
    );
  });

  it('rejects an empty body', () => {
    expect(reasonFor('  ')).toBe('body is empty');
  });

  it('rejects JSON that is not an object', () => {
    expect(reasonFor('[1,2]')).toBe('body is JSON but not an object (got array)');
    expect(reasonFor('"4821"')).toBe('body is JSON but not an object (got string)');
  });

  it('rejects an object that is neither an envelope nor a payload and lists its keys', () => {
    expect(reasonFor(JSON.stringify({ from: '+12065550142', text: 'yes' }))).toBe(
      'not an SNS notification nor a two-way SMS payload (keys: from, text)',
    );
  });

  it('rejects a subscription confirmation as not being a reply', () => {
    const reason = reasonFor(
      JSON.stringify({ Type: 'SubscriptionConfirmation', Message: 'You have chosen…', SubscribeURL: 'https://x' }),
    );
    expect(reason).toMatch(/subscription confirmation, not a reply/);
    expect(reason).toMatch(/SubscribeURL/);
  });

  it('rejects an unsubscribe confirmation as not being a reply', () => {
    expect(reasonFor(JSON.stringify({ Type: 'UnsubscribeConfirmation', Message: 'x' }))).toMatch(/not a reply/);
  });

  it('rejects an envelope of some other Type and names it', () => {
    expect(reasonFor(JSON.stringify({ Type: 'Ping', Message: '{}' }))).toBe(
      'SNS envelope has Type "Ping", not "Notification"',
    );
  });

  it('rejects a notification without a Message', () => {
    expect(reasonFor(JSON.stringify({ Type: 'Notification', MessageId: 'm' }))).toBe('SNS envelope has no Message');
  });

  it('rejects a notification whose Message is an object instead of a JSON string', () => {
    expect(reasonFor(JSON.stringify({ Type: 'Notification', Message: { originationNumber: '+12065550142' } }))).toBe(
      "SNS envelope's Message must be a string (got object)",
    );
  });

  it('rejects a Message that is JSON but not a two-way payload and lists its keys', () => {
    expect(reasonFor(envelope({ alarm: 'CPU' }))).toBe(
      "SNS envelope's Message is not a two-way SMS payload (keys: alarm)",
    );
    expect(reasonFor(envelope('42'))).toBe("SNS envelope's Message is not a JSON object (got number)");
  });

  it('rejects a payload without a messageBody', () => {
    expect(reasonFor(JSON.stringify({ originationNumber: '+12065550142' }))).toBe('two-way payload has no messageBody');
  });

  it('rejects a messageBody that is not a string', () => {
    expect(reasonFor(envelope({ originationNumber: '+12065550142', messageBody: 4821 }))).toBe(
      'messageBody must be a string (got number)',
    );
  });

  it('rejects a sender that is not a phone number and quotes it', () => {
    expect(reasonFor(envelope({ originationNumber: 'abc', messageBody: '1' }))).toBe(
      'originationNumber "abc" is not a phone number',
    );
  });

  it('shortens a long bad sender in the reason so logs stay readable', () => {
    const reason = reasonFor(envelope({ originationNumber: 'x'.repeat(500), messageBody: '1' }));
    expect(reason.length).toBeLessThan(100);
  });
});

describe('formats a deployment declares', () => {
  const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
  const TOPIC = 'arn:aws:sns:us-east-1:123456789012:sms-ask-inbound';
  const envelopeOnly = { formats: ['sns-envelope'] as const, topicArn: TOPIC };

  it('takes the SNS envelope of its inbound topic, and refuses raw delivery and bridge envelopes it does not declare, each with a reason', () => {
    expect(parseInboundMessage(fixture('sns-envelope.json'), 'sqs-1', envelopeOnly).ok).toBe(true);
    expect(parseInboundMessage(fixture('raw-delivery.json'), 'sqs-2', envelopeOnly)).toEqual({
      ok: false,
      reason: expect.stringContaining('raw message delivery), a format this deployment does not take'),
    });
    expect(parseInboundMessage(fixture('bridge.json'), 'sqs-3', envelopeOnly)).toEqual({
      ok: false,
      reason: expect.stringContaining('a bridge envelope'),
    });
    expect(
      parseInboundMessage(fixture('raw-delivery.json'), 'sqs-2', { formats: ['sns-envelope', 'raw'], topicArn: TOPIC })
        .ok,
    ).toBe(true);
    expect(
      parseInboundMessage(fixture('bridge.json'), 'sqs-3', { formats: ['sns-envelope', 'bridge'], topicArn: TOPIC }).ok,
    ).toBe(true);
  });

  it('refuses an envelope from another topic, and an SNS envelope with no TopicArn', () => {
    const other = fixture('sns-envelope.json').replace(TOPIC, 'arn:aws:sns:us-east-1:210987654321:elsewhere');
    expect(parseInboundMessage(other, 'sqs-4', envelopeOnly)).toEqual({
      ok: false,
      reason: expect.stringContaining('not the inbound topic'),
    });
    const noTopic = JSON.stringify({ ...(JSON.parse(fixture('sns-envelope.json')) as object), TopicArn: undefined });
    expect(parseInboundMessage(noTopic, 'sqs-5', envelopeOnly)).toEqual({
      ok: false,
      reason: expect.stringContaining('has no TopicArn'),
    });
  });
});
