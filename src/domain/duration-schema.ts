/**
 * Durations as playbooks write them ("90s", "15m", "4h", "2d", or milliseconds). Deterministic.
 */
import { msToNumber } from '@temporalio/common';
import { z } from 'zod';
import { MAX_DURATION_MS } from './duration';

const MIN_MS = 1000;

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
