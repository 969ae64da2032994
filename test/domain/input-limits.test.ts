import { describe, expect, it } from 'vitest';
import { clipText, utf8ByteLength } from '../../src/domain/input-limits';
import { optOutCheckDelays } from '../../src/domain/reply-guard';

describe('input limits', () => {
  it('counts UTF-8 bytes as SNS does: 1 for ASCII, 2 for é, 3 for €, 4 for an emoji, 3 for a lone surrogate', () => {
    expect(utf8ByteLength('ok')).toBe(2);
    expect(utf8ByteLength('é€🙂')).toBe(2 + 3 + 4);
    expect(utf8ByteLength('\uD800x')).toBe(4);
    expect(utf8ByteLength('é€🙂', Number.POSITIVE_INFINITY)).toBe(new TextEncoder().encode('é€🙂').length);
  });

  it('stops counting soon after the limit, so a long text is not walked to its end', () => {
    expect(utf8ByteLength('x'.repeat(1_000_000), 10)).toBe(11);
  });

  it('clips to whole characters and marks the cut', () => {
    expect(clipText('short', 160)).toBe('short');
    expect(clipText('🙂🙂🙂', 2)).toBe('🙂🙂…');
    expect(clipText('abc', 3)).toBe('abc');
  });

  it('checks a STOP with SNS at once, then with growing pauses, for the whole window', () => {
    expect(optOutCheckDelays(60_000)).toEqual([0, 5_000, 10_000, 20_000, 25_000]);
    expect(optOutCheckDelays(2_000)).toEqual([0, 2_000]);
    expect(optOutCheckDelays(0)).toEqual([0]);
  });
});
