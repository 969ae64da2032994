/**
 * Arbitrary input, as an attacker or a broken bridge would send it: the parser, the reply grammar
 * and phone normalization never throw, and classify it in one pass.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInboundMessage } from '../../src/domain/inbound-message';
import { DEFAULT_MAX_REPLY_BODY_BYTES, utf8ByteLength } from '../../src/domain/input-limits';
import { InvalidPhoneNumberError, normalizeRecipientPhone, normalizeSenderPhone } from '../../src/domain/phone';
import { interpretReply } from '../../src/domain/reply-grammar';
import type { PendingAskView } from '../../src/domain/reply-grammar';

const RUNS = { numRuns: 500 };

const pending: PendingAskView[] = [
  {
    askId: 'a',
    options: ['Yes', 'No'],
    codes: [
      { code: '4821', optionIndex: 0 },
      { code: '7302', optionIndex: 1 },
    ],
  },
  {
    askId: 'b',
    options: ['Go', 'Stop'],
    codes: [
      { code: '1150', optionIndex: 0 },
      { code: '2260', optionIndex: 1 },
    ],
    acceptLabels: true,
  },
];

/** Text that mixes what the grammar looks at: codes, other numbers, keywords, labels, noise, any Unicode. */
const replyText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '4821',
        '7302',
        '1150',
        '9999',
        '０',
        '٤',
        'STOP',
        'stop',
        'HELP',
        'Yes',
        'go',
        ' ',
        '\n',
        '!',
        '«',
        '.',
        '🙂',
        '\u0301',
        '\uD800',
      ),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 8 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

const json = fc.oneof(
  fc.json(),
  replyText.map((body) => JSON.stringify({ originationNumber: '+12065550142', messageBody: body })),
);
const sqsBody = fc.oneof(
  json,
  fc.string({ unit: 'binary' }),
  fc
    .record({
      Type: fc.constantFrom('Notification', 'SubscriptionConfirmation', 'x'),
      MessageId: fc.oneof(fc.string(), fc.integer()),
      Message: fc.oneof(json, fc.string()),
    })
    .map((o) => JSON.stringify(o)),
  fc
    .dictionary(
      fc.constantFrom(
        'originationNumber',
        'messageBody',
        'inboundMessageId',
        'destinationNumber',
        'messageKeyword',
        'Type',
      ),
      fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.json()),
    )
    .map((o) => JSON.stringify(o)),
);

describe('hostile input', () => {
  it('the SQS message parser never throws, and a reply it accepts is within the limits', () => {
    fc.assert(
      fc.property(sqsBody, fc.string({ maxLength: 200 }), (body, messageId) => {
        const parsed = parseInboundMessage(body, messageId);
        if (parsed.ok) {
          expect(utf8ByteLength(parsed.reply.body)).toBeLessThanOrEqual(DEFAULT_MAX_REPLY_BODY_BYTES);
          expect(parsed.reply.dedupeKey.length).toBeLessThanOrEqual(128);
          expect(parsed.reply.from).toMatch(/^\+\d+$/);
        } else {
          expect(parsed.reason.length).toBeGreaterThan(0);
        }
      }),
      RUNS,
    );
  });

  it('the reply grammar never throws, and answers only with exactly one number that is an active code, or an accepted label', () => {
    fc.assert(
      fc.property(replyText, (body) => {
        const meaning = interpretReply(body, pending);
        if (meaning.kind !== 'answer') return;
        // The grammar's words: runs of letters, marks and digits; a number is a word of digits only.
        const words =
          body
            .normalize('NFKC')
            .toLowerCase()
            .match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
        const numbers = words.filter((word) => /^\p{Nd}+$/u.test(word));
        if (meaning.code !== undefined) {
          expect(['4821', '7302', '1150', '2260']).toContain(meaning.code);
          expect(new Set(numbers)).toEqual(new Set([meaning.code]));
        } else {
          expect(numbers).toEqual([]);
          expect(meaning.askId).toBe('b'); // never the ask that does not accept labels
        }
      }),
      RUNS,
    );
  });

  it('a bare label never answers an ask whose policy does not accept labels', () => {
    fc.assert(
      fc.property(fc.constantFrom('Yes', 'yes', ' YES! ', 'No', 'no.'), (body) => {
        expect(interpretReply(body, [pending[0]!])).toMatchObject({ kind: 'unmatched' });
      }),
    );
  });

  it('phone normalization never throws anything but InvalidPhoneNumberError, for senders nothing at all', () => {
    const phoneLike = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom('+', '1', '2', '0', ' ', '-', '(', ')', 'x', '#', '٤'), maxLength: 300 }),
    );
    fc.assert(
      fc.property(phoneLike, (input) => {
        const sender = normalizeSenderPhone(input);
        if (sender !== undefined) expect(sender).toMatch(/^\+[1-9]\d{6,14}$/);
        try {
          expect(normalizeRecipientPhone(input)).toMatch(/^\+[1-9]\d{6,14}$/);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidPhoneNumberError);
        }
      }),
      RUNS,
    );
  });

  it('classifies a maximal hostile body in one pass: a megabyte of noise runs takes well under the limit a quadratic scan would need', () => {
    // A regex that trims trailing noise rescans the run from each of its characters: O(n²) on
    // "a", a long run of spaces, "a" (64 KB took 12 s that way; 1 MB would take about an hour).
    // One pass takes milliseconds. The limit is generous so that a busy machine never trips it.
    const started = performance.now();
    for (const noise of [' ', '!', '«\u00a0']) {
      const hostile = `a${noise.repeat(1_000_000 / noise.length)}a`;
      expect(interpretReply(hostile, pending)).toMatchObject({ kind: 'unmatched', reason: 'no_code' });
    }
    const spray = Array.from({ length: 200_000 }, (_, i) => String(i)).join(' ');
    expect(interpretReply(spray, pending)).toMatchObject({ kind: 'unmatched', reason: 'several_numbers' });
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
