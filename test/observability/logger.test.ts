import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { maskPhonesIn } from '../../src/domain/phone-mask';
import { phoneMaskingStream } from '../../src/observability/logger';

describe('maskPhonesIn', () => {
  it('masks every full number in free text to its last four digits, and leaves other digits alone', () => {
    expect(maskPhonesIn('signal to sms-ask/recipient/+12065550142 failed; +447700900123 too')).toBe(
      'signal to sms-ask/recipient/…0142 failed; …0123 too',
    );
    expect(maskPhonesIn('{"time":1796081390135,"code":"4821","at":"2026-11-30T23:30:12+0000"}')).toBe(
      '{"time":1796081390135,"code":"4821","at":"2026-11-30T23:30:12+0000"}',
    );
  });
});

describe('the log stream', () => {
  it('writes no full number, wherever in the entry it is', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, phoneMaskingStream({ write: (line: string) => void lines.push(line) }));
    logger.warn(
      { workflowId: 'sms-ask/recipient/+12065550142', err: new Error('SNS refused +12065550143') },
      'could not reach +12065550144',
    );
    const written = lines.join('');
    expect(written).not.toMatch(/\+1206555014\d/);
    expect(written).toContain('…0142');
    expect(written).toContain('…0144');
  });
});
