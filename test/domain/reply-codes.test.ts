import { describe, it, expect } from 'vitest';
import { CodeSpaceExhaustedError, allocateCodes } from '../../src/domain/reply-codes';
import type { CodeAllocationRequest } from '../../src/domain/reply-codes';

/** mulberry32: a tiny seeded PRNG, so every run draws the same numbers. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function request(overrides: Partial<CodeAllocationRequest>): CodeAllocationRequest {
  return {
    count: 2,
    mode: 'random',
    length: 4,
    inUse: new Set(),
    nextSequential: 1,
    random: seeded(1),
    ...overrides,
  };
}

function digits(from: number, to: number): Set<string> {
  const set = new Set<string>();
  for (let n = from; n <= to; n += 1) set.add(String(n));
  return set;
}

describe('allocateCodes in random mode', () => {
  it('gives distinct codes of the requested length that never start with 0', () => {
    const { codes } = allocateCodes(request({ count: 50, length: 4 }));
    expect(codes).toHaveLength(50);
    expect(new Set(codes).size).toBe(50);
    for (const code of codes) expect(code).toMatch(/^[1-9][0-9]{3}$/);
  });

  it('draws the same codes for the same seed, as workflow replay requires', () => {
    const first = allocateCodes(request({ count: 5, random: seeded(42) })).codes;
    const second = allocateCodes(request({ count: 5, random: seeded(42) })).codes;
    const other = allocateCodes(request({ count: 5, random: seeded(43) })).codes;
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('never hands out a code held by a pending ask of the recipient, over many seeds', () => {
    for (let seed = 1; seed <= 200; seed += 1) {
      const random = seeded(seed);
      // 2-digit codes: 90 in the space, 80 in use, so collisions are frequent.
      const inUse = new Set<string>();
      while (inUse.size < 80) inUse.add(String(10 + Math.floor(random() * 90)));
      const { codes } = allocateCodes(request({ count: 10, length: 2, inUse, random }));
      expect(new Set(codes).size).toBe(10);
      for (const code of codes) {
        expect(inUse.has(code)).toBe(false);
        expect(code).toMatch(/^[1-9][0-9]$/);
      }
    }
  });

  it('ends with a scan when the random source keeps hitting codes in use', () => {
    const { codes } = allocateCodes(request({ count: 2, length: 4, inUse: new Set(['1000']), random: () => 0 }));
    expect(codes).toEqual(['1001', '1002']);
  });

  it('keeps codes inside the space even when the random source returns 1 or NaN', () => {
    expect(allocateCodes(request({ count: 1, length: 2, random: () => 1 })).codes).toEqual(['99']);
    expect(allocateCodes(request({ count: 1, length: 2, random: () => Number.NaN })).codes).toEqual(['10']);
  });

  it('prefers codes that no recently ended ask used', () => {
    const { codes } = allocateCodes(request({ count: 1, length: 1, avoid: digits(1, 8), random: seeded(7) }));
    expect(codes).toEqual(['9']);
  });

  it('reuses a recently ended code only when nothing else is free', () => {
    const { codes } = allocateCodes(
      request({ count: 2, length: 1, inUse: digits(1, 5), avoid: digits(6, 9), random: seeded(7) }),
    );
    expect(codes).toHaveLength(2);
    for (const code of codes) expect(['6', '7', '8', '9']).toContain(code);
  });

  it('fills the last free code of a nearly full space', () => {
    expect(allocateCodes(request({ count: 1, length: 1, inUse: digits(2, 9) })).codes).toEqual(['1']);
  });

  it('throws CodeSpaceExhaustedError when there are not enough free codes', () => {
    let error: unknown;
    try {
      allocateCodes(request({ count: 2, length: 1, inUse: digits(1, 8) }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CodeSpaceExhaustedError);
    const exhausted = error as CodeSpaceExhaustedError;
    expect(exhausted.mode).toBe('random');
    expect(exhausted.length).toBe(1);
    expect(exhausted.inUse).toBe(8);
    expect(exhausted.message).toMatch(/No free 1-digit reply code/);
    expect(exhausted.message).toMatch(/raise the code length/);
  });

  it('does not count in-use codes of another length against the space', () => {
    const inUse = new Set(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(allocateCodes(request({ count: 1, length: 2, inUse, random: () => 0 })).codes).toEqual(['10']);
  });

  it('leaves the sequential counter alone', () => {
    expect(allocateCodes(request({ nextSequential: 17 })).nextSequential).toBe(17);
  });

  it('returns no codes for a count of 0', () => {
    expect(allocateCodes(request({ count: 0 })).codes).toEqual([]);
  });

  it('rejects a length outside 1–9 digits', () => {
    expect(() => allocateCodes(request({ length: 0 }))).toThrow(RangeError);
    expect(() => allocateCodes(request({ length: 10 }))).toThrow(RangeError);
  });
});

describe('allocateCodes in sequential mode', () => {
  it('counts up from the carried counter and returns the advanced counter', () => {
    expect(allocateCodes(request({ mode: 'sequential', count: 3, nextSequential: 1 }))).toEqual({
      codes: ['1', '2', '3'],
      nextSequential: 4,
    });
  });

  it('skips codes held by pending asks', () => {
    expect(
      allocateCodes(request({ mode: 'sequential', count: 3, nextSequential: 1, inUse: new Set(['2', '4']) })),
    ).toEqual({
      codes: ['1', '3', '5'],
      nextSequential: 6,
    });
  });

  it('skips codes of recently ended asks', () => {
    expect(
      allocateCodes(
        request({ mode: 'sequential', count: 2, nextSequential: 1, avoid: new Set(['1']), inUse: new Set(['2']) }),
      ),
    ).toEqual({ codes: ['3', '4'], nextSequential: 5 });
  });

  it('ignores the length setting', () => {
    expect(allocateCodes(request({ mode: 'sequential', count: 1, length: 4, nextSequential: 9 })).codes).toEqual(['9']);
  });

  it('rejects a counter below 1', () => {
    expect(() => allocateCodes(request({ mode: 'sequential', nextSequential: 0 }))).toThrow(RangeError);
  });
});
