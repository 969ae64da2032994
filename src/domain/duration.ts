/**
 * Durations as playbooks write them ("90s", "15m", "4h", "2d", or milliseconds). Deterministic.
 */
import { msToNumber } from '@temporalio/common';
import { z } from 'zod';

const MIN_MS = 1000;
/** The longest an ask may last, extensions included. */
export const MAX_DURATION_MS = 366 * 24 * 3600 * 1000;

/** A duration between 1s and 366d, as a string (`4h`) or milliseconds; parses to milliseconds. */
export const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    const ms = typeof value === 'number' ? value : msToNumber(value as Parameters<typeof msToNumber>[0]);
    if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_DURATION_MS) throw new Error('out of range');
    return ms;
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration between 1s and 366d; use e.g. 90s, 15m, 4h or 2d`,
    });
    return z.NEVER;
  }
});

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** Exact, compact: 5_400_000 → "1h30m"; below a second → "0s". */
export function formatMs(ms: number): string {
  let rest = Math.round(Math.abs(ms) / 1000) * 1000;
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return `${ms < 0 ? '-' : ''}${parts.join('') || '0s'}`;
}
