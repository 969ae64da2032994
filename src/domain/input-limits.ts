/**
 * Bounds on what a message from outside may carry, so that no reply can make the worker do
 * unbounded work or store unbounded state. Deterministic and free of Node built-ins: the parser
 * and the workflows both use it.
 */

/** SNS and AWS two-way SMS carry at most 1,600 bytes of message body. The default of the setting. */
export const DEFAULT_MAX_REPLY_BODY_BYTES = 1_600;
/** No setting may raise the body limit past this; the phone's workflow refuses anything larger. */
export const MAX_REPLY_BODY_BYTES_CEILING = 65_536;
/** Longest id (inboundMessageId, SNS or SQS MessageId) accepted; AWS's are 36-character UUIDs. */
export const MAX_MESSAGE_ID_LENGTH = 128;
/** Longest phone number or keyword field accepted before it is even parsed. */
export const MAX_ADDRESS_LENGTH = 64;
/** An ask's event log keeps this much of a reply body: one SMS segment's worth. */
export const MAX_LOGGED_REPLY_CHARS = 160;
/** Text with no control character, as a listing filter must be: the dev server's visibility store hangs on a NUL. */
export const WITHOUT_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;

/**
 * UTF-8 length of `text`, counted up to `stopAbove` + 4 bytes and no further, so a caller that
 * only needs to know whether a limit is passed never walks a long string.
 */
export function utf8ByteLength(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= stopAbove; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** The first `maxChars` characters (code points, so a surrogate pair is never split), with "…" when cut. */
export function clipText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = 0;
  let chars = 0;
  while (end < text.length && chars < maxChars) {
    const unit = text.charCodeAt(end);
    end += unit >= 0xd800 && unit <= 0xdbff && end + 1 < text.length ? 2 : 1;
    chars += 1;
  }
  return end >= text.length ? text : `${text.slice(0, end)}…`;
}
