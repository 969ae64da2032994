import { describe, it, expect } from 'vitest';
import { InvalidPhoneNumberError, normalizeRecipientPhone, normalizeSenderPhone } from '../../src/domain/phone';
import { maskPhone, maskPhoneForSms } from '../../src/domain/phone-mask';
import { smsSegmentInfo } from '../../src/domain/sms-text';

function rejection(fn: () => unknown): InvalidPhoneNumberError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidPhoneNumberError) return err;
    throw err;
  }
  throw new Error('expected an InvalidPhoneNumberError, but nothing was thrown');
}

describe('normalizeRecipientPhone', () => {
  it('returns an E.164 number unchanged', () => {
    expect(normalizeRecipientPhone('+12065550142')).toBe('+12065550142');
  });

  it('strips spaces, dashes and brackets from an international number', () => {
    expect(normalizeRecipientPhone('  +1 (206) 555-0142 ')).toBe('+12065550142');
  });

  it('reads a national number in the default country', () => {
    expect(normalizeRecipientPhone('(206) 555-0142', 'US')).toBe('+12065550142');
  });

  it('explains a too-short number and says how to write it', () => {
    const err = rejection(() => normalizeRecipientPhone('(206) 555-01', 'US'));
    expect(err.input).toBe('(206) 555-01');
    expect(err.reason).toBe('too short');
    expect(err.message).toBe(
      '"(206) 555-01" is not a valid phone number (too short). ' +
        'Give it in E.164 form with a country code, e.g. +12065550142.',
    );
  });

  it('rejects a national number when no default country is given', () => {
    const err = rejection(() => normalizeRecipientPhone('(206) 555-0142'));
    expect(err.reason).toBe('no known country code');
  });

  it('rejects text that is not a number', () => {
    expect(rejection(() => normalizeRecipientPhone('abc')).reason).toBe('not a number');
  });

  it('rejects an empty or blank number', () => {
    expect(rejection(() => normalizeRecipientPhone('   ')).reason).toBe('empty');
  });

  it('rejects a number hidden inside other text instead of guessing', () => {
    expect(() => normalizeRecipientPhone('call +12065550142 now')).toThrow(InvalidPhoneNumberError);
  });

  it('rejects a number with an extension, which SMS cannot reach', () => {
    expect(rejection(() => normalizeRecipientPhone('+12065550142 ext. 12')).reason).toMatch(/extension/);
  });

  it('rejects a possible but unassigned number such as the UK drama range', () => {
    const err = rejection(() => normalizeRecipientPhone('+447700900123'));
    expect(err.reason).toBe('not a number in use in its country');
  });

  it('rejects a number that is too long', () => {
    expect(rejection(() => normalizeRecipientPhone('+1206555014299999')).reason).toBe('too long');
  });
});

describe('normalizeSenderPhone', () => {
  it('accepts a UK drama-range sender that is possible but not valid', () => {
    expect(normalizeSenderPhone('+447700900123')).toBe('+447700900123');
    expect(normalizeSenderPhone('+44 7700 900123')).toBe('+447700900123');
  });

  it('trims and formats a spaced international sender to E.164', () => {
    expect(normalizeSenderPhone('  +1 206-555-0142\n')).toBe('+12065550142');
  });

  it('keeps an E.164-shaped sender whose country code it does not know', () => {
    expect(normalizeSenderPhone('+999123456789')).toBe('+999123456789');
  });

  it('returns undefined for text, blanks and numbers without a country code', () => {
    expect(normalizeSenderPhone('abc')).toBeUndefined();
    expect(normalizeSenderPhone('')).toBeUndefined();
    expect(normalizeSenderPhone('   ')).toBeUndefined();
    expect(normalizeSenderPhone('2065550142')).toBeUndefined();
  });

  it('returns undefined for a number too short to be possible or E.164', () => {
    expect(normalizeSenderPhone('+12345')).toBeUndefined();
  });

  it('rejects a plus sign followed by a zero country code', () => {
    expect(normalizeSenderPhone('+0123456789')).toBeUndefined();
  });
});

describe('maskPhone', () => {
  it('shows only the last four digits', () => {
    expect(maskPhone('+12065550142')).toBe('…0142');
    expect(maskPhone('+447700900123')).toBe('…0123');
  });

  it('never reveals more than four digits of the number', () => {
    expect(maskPhone('+12065550142')).not.toContain('555');
  });
});

describe('maskPhoneForSms', () => {
  it('shows the last four digits after dots that keep an SMS in GSM-7', () => {
    expect(maskPhoneForSms('+12065550142')).toBe('...0142');
    expect(smsSegmentInfo(`Answered by ${maskPhoneForSms('+12065550142')}: Yes`).encoding).toBe('GSM-7');
  });
});
