/**
 * Duration limits and formatting. Free of zod, so that workflow code can use it; the schema that
 * parses what playbooks write is in duration-schema.ts.
 */

/** The longest an ask may last, extensions included. */
export const MAX_DURATION_MS = 366 * 24 * 3600 * 1000;

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
