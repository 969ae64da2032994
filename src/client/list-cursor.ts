/**
 * Cursors of the ask listings, opaque to callers (base64url JSON). Each names the last row a page
 * gave by the listing's own order, so the next page starts after it however many asks start or
 * end meanwhile: no row is given twice and none skipped, as an offset would.
 */
import { createHash } from 'node:crypto';

/** Pending asks, soonest deadline first: the last row's deadline and ask id. */
export interface PendingCursor {
  deadline: string;
  askId: string;
}

/**
 * Ended asks, most recent first: the last row's close time (milliseconds) and the asks given at that
 * millisecond, as short digests so that a page of 200 asks closed at once still fits a URL.
 */
export interface EndedCursor {
  closedAtMs: number;
  askDigests: string[];
}

/** What an ended cursor keeps of an ask id. */
export const askDigest = (askId: string): string => createHash('sha256').update(askId).digest('base64url').slice(0, 11);

export class InvalidCursorError extends RangeError {
  override name = 'InvalidCursorError';
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

function decode(cursor: string): unknown {
  if (!/^[\w-]{1,8000}$/.test(cursor))
    throw new InvalidCursorError('not a cursor of this listing: pass the `next` of the page before');
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor of this listing: pass the `next` of the page before');
  }
}

export const encodePendingCursor = (cursor: PendingCursor): string => encode({ p: [cursor.deadline, cursor.askId] });
export const encodeEndedCursor = (cursor: EndedCursor): string => encode({ e: [cursor.closedAtMs, cursor.askDigests] });

export function decodePendingCursor(cursor: string): PendingCursor {
  const value = decode(cursor) as { p?: unknown };
  const [deadline, askId] = Array.isArray(value?.p) ? value.p : [];
  if (typeof deadline !== 'string' || Number.isNaN(Date.parse(deadline)) || typeof askId !== 'string') {
    throw new InvalidCursorError('not a cursor of the pending listing: pass the `next` of the page before');
  }
  return { deadline: new Date(deadline).toISOString(), askId };
}

export function decodeEndedCursor(cursor: string): EndedCursor {
  const value = decode(cursor) as { e?: unknown };
  const [closedAtMs, askDigests] = Array.isArray(value?.e) ? value.e : [];
  if (
    !Number.isSafeInteger(closedAtMs) ||
    !Array.isArray(askDigests) ||
    !askDigests.every((d) => typeof d === 'string') ||
    askDigests.length > 400
  ) {
    throw new InvalidCursorError('not a cursor of the ended listing: pass the `next` of the page before');
  }
  return { closedAtMs: closedAtMs as number, askDigests: askDigests as string[] };
}
