import { describe, it, expect } from 'vitest';
import {
  MessageTooLongError,
  SNS_SMS_MAX_BYTES,
  assertSmsFits,
  composeAskSms,
  smsSegmentInfo,
  utf8ByteLength,
} from '../../src/domain/sms-text';

describe('composeAskSms', () => {
  it('joins two options with "or", as the XSOAR pack does', () => {
    expect(
      composeAskSms('Isolate host WS-042?', [
        { label: 'Yes', code: '4821' },
        { label: 'No', code: '7302' },
      ]),
    ).toBe('Isolate host WS-042?\nYes (4821) or No (7302)');
  });

  it('separates three or more options with commas and a final "or"', () => {
    expect(
      composeAskSms('Pick one', [
        { label: 'A', code: '1' },
        { label: 'B', code: '2' },
        { label: 'C', code: '3' },
      ]),
    ).toBe('Pick one\nA (1), B (2) or C (3)');
  });

  it('trims stray whitespace around the question and labels', () => {
    expect(composeAskSms(' Go? \n', [{ label: ' Yes ', code: '1' }])).toBe('Go?\nYes (1)');
  });
});

describe('utf8ByteLength', () => {
  it.each(['', 'abc', 'é', '€', '😀', 'Zażółć gęślą jaźń 👍🏽', 'a\uD800b'])('matches Node for %j', (text) => {
    expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });

  it('counts 1, 2, 3 and 4 bytes by code point', () => {
    expect(utf8ByteLength('a')).toBe(1);
    expect(utf8ByteLength('é')).toBe(2);
    expect(utf8ByteLength('€')).toBe(3);
    expect(utf8ByteLength('😀')).toBe(4);
  });
});

describe('smsSegmentInfo', () => {
  it('fits 160 GSM-7 characters in one segment', () => {
    expect(smsSegmentInfo('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
  });

  it('splits 161 GSM-7 characters into two segments of at most 153', () => {
    expect(smsSegmentInfo('a'.repeat(161))).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 });
    expect(smsSegmentInfo('a'.repeat(306)).segments).toBe(2);
    expect(smsSegmentInfo('a'.repeat(307)).segments).toBe(3);
  });

  it('keeps GSM accented letters such as é and ñ in GSM-7', () => {
    expect(smsSegmentInfo('café señor Ø').encoding).toBe('GSM-7');
  });

  it.each(['€', '{', '}', '[', ']', '~', '^', '|', '\\'])('counts the extension character %j as two septets', (ch) => {
    expect(smsSegmentInfo(`a${ch}`)).toEqual({ encoding: 'GSM-7', segments: 1, units: 3 });
  });

  it('spills into a second segment when extension characters pass 160 septets', () => {
    expect(smsSegmentInfo('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(smsSegmentInfo('€'.repeat(81))).toEqual({ encoding: 'GSM-7', segments: 2, units: 162 });
  });

  it('never splits an escape pair across segments', () => {
    // 306 septets would fit two segments of 153 if the € could be split.
    expect(smsSegmentInfo(`${'a'.repeat(152)}€${'a'.repeat(152)}`)).toEqual({
      encoding: 'GSM-7',
      segments: 3,
      units: 306,
    });
  });

  it('switches to UCS-2 for a character outside GSM 03.38', () => {
    expect(smsSegmentInfo('Olá')).toEqual({ encoding: 'UCS-2', segments: 1, units: 3 });
    expect(smsSegmentInfo('Привет').encoding).toBe('UCS-2');
  });

  it('fits 70 UCS-2 units in one segment and splits 71 at 67', () => {
    expect(smsSegmentInfo('ж'.repeat(70))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    expect(smsSegmentInfo('ж'.repeat(71))).toEqual({ encoding: 'UCS-2', segments: 2, units: 71 });
    expect(smsSegmentInfo('ж'.repeat(134)).segments).toBe(2);
    expect(smsSegmentInfo('ж'.repeat(135)).segments).toBe(3);
  });

  it('counts an emoji as two UTF-16 units', () => {
    expect(smsSegmentInfo('ok 👍')).toEqual({ encoding: 'UCS-2', segments: 1, units: 5 });
    expect(smsSegmentInfo('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    expect(smsSegmentInfo('😀'.repeat(36))).toEqual({ encoding: 'UCS-2', segments: 2, units: 72 });
  });

  it('never splits a surrogate pair across segments', () => {
    expect(smsSegmentInfo(`${'ж'.repeat(66)}😀${'ж'.repeat(66)}`)).toEqual({
      encoding: 'UCS-2',
      segments: 3,
      units: 134,
    });
  });
});

describe('assertSmsFits', () => {
  it('accepts a message of exactly 1600 bytes', () => {
    expect(SNS_SMS_MAX_BYTES).toBe(1600);
    expect(() => assertSmsFits('a'.repeat(1600))).not.toThrow();
    expect(() => assertSmsFits('😀'.repeat(400))).not.toThrow();
  });

  it('rejects 1601 bytes', () => {
    expect(() => assertSmsFits('a'.repeat(1601))).toThrow(MessageTooLongError);
  });

  it('counts bytes, not characters, so 534 euro signs are too long', () => {
    let error: unknown;
    try {
      assertSmsFits('€'.repeat(534));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MessageTooLongError);
    const tooLong = error as MessageTooLongError;
    expect(tooLong.bytes).toBe(1602);
    expect(tooLong.limit).toBe(1600);
    expect(tooLong.message).toBe(
      'The SMS is 1602 bytes; SNS accepts at most 1600. Shorten the question or the option labels.',
    );
  });

  it('rejects 401 emoji, which are 1604 bytes in 802 UTF-16 units', () => {
    expect(() => assertSmsFits('😀'.repeat(401))).toThrow(/1604 bytes/);
  });
});
