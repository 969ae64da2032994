/** SNS rejects an SMS Publish whose message is larger than this many bytes. */
export const SNS_SMS_MAX_BYTES = 1600;

export interface OptionCode {
  label: string;
  code: string;
}

/** "Question\nYes (4821) or No (7302)": the XSOAR pack's format, so people see what they know. */
export function composeAskSms(question: string, options: readonly OptionCode[]): string {
  const choices = options.map(({ label, code }) => `${label.trim()} (${code})`);
  const last = choices.pop();
  if (last === undefined) return question.trim();
  const list = choices.length === 0 ? last : `${choices.join(', ')} or ${last}`;
  return `${question.trim()}\n${list}`;
}

/** Put before a question sent again, by a reminder or an operator's re-send. */
export const REMINDER_PREFIX = 'Reminder: ';

/** One recipient's question SMS: an escalation tier's lead line, if any, then the question and codes. */
export function composeQuestionSms(
  question: string,
  options: readonly OptionCode[],
  { lead, reminder }: { lead?: string; reminder?: boolean } = {},
): string {
  const text = composeAskSms(lead ? `${lead}\n${question.trim()}` : question, options);
  return reminder ? `${REMINDER_PREFIX}${text}` : text;
}

/** UTF-8 size without Buffer or TextEncoder, which workflow code cannot use. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const cp = char.codePointAt(0) ?? 0;
    // A lone surrogate is encoded as U+FFFD, which is 3 bytes like the rest of the BMP.
    bytes += cp <= 0x7f ? 1 : cp <= 0x7ff ? 2 : cp <= 0xffff ? 3 : 4;
  }
  return bytes;
}

export type SmsEncoding = 'GSM-7' | 'UCS-2';

/** units: septets for GSM-7 (extension chars count 2), UTF-16 code units for UCS-2. */
export interface SmsSegmentInfo {
  encoding: SmsEncoding;
  segments: number;
  units: number;
}

// GSM 03.38 default alphabet (ESC at 0x1B left out: it is not a character).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
// Extension table: each costs an ESC septet plus its own.
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

const LIMITS: Readonly<Record<SmsEncoding, { single: number; multipart: number }>> = {
  // Multipart segments lose room to the concatenation header.
  'GSM-7': { single: 160, multipart: 153 },
  'UCS-2': { single: 70, multipart: 67 },
};

/** How many SMS segments (and so how many billed messages) a text becomes. */
export function smsSegmentInfo(text: string): SmsSegmentInfo {
  const chars = [...text];
  const gsm = chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENSION.has(c));
  const encoding: SmsEncoding = gsm ? 'GSM-7' : 'UCS-2';
  // Per character so an escape pair or a surrogate pair is never split across segments.
  const widths = chars.map((c) => (gsm ? (GSM_EXTENSION.has(c) ? 2 : 1) : c.length));
  const units = widths.reduce((sum, w) => sum + w, 0);

  const { single, multipart } = LIMITS[encoding];
  if (units <= single) return { encoding, segments: 1, units };
  let segments = 1;
  let used = 0;
  for (const w of widths) {
    if (used + w > multipart) {
      segments += 1;
      used = 0;
    }
    used += w;
  }
  return { encoding, segments, units };
}

/** The first character outside GSM-7 and its 1-based position: the one that makes the SMS UCS-2. */
export function firstNonGsmCharacter(text: string): { char: string; position: number } | undefined {
  let position = 0;
  for (const char of text) {
    position += 1;
    if (!GSM_BASIC.has(char) && !GSM_EXTENSION.has(char)) return { char, position };
  }
  return undefined;
}

/**
 * Why `text` would be too many segments, or undefined: how many, in which encoding, and for UCS-2
 * the character that forced it, since one curly quote can triple an SMS's price.
 */
export function segmentCapProblem(
  text: string,
  maxSegments: number,
  parts: Readonly<Record<string, string>> = { text },
): string | undefined {
  const { segments, encoding } = smsSegmentInfo(text);
  if (segments <= maxSegments) return undefined;
  // Named in the field the user wrote, not in the composed SMS.
  const forced =
    encoding === 'UCS-2'
      ? Object.entries(parts)
          .map(([field, part]) => ({ field, at: firstNonGsmCharacter(part) }))
          .find(({ at }) => at !== undefined)
      : undefined;
  const why = forced?.at
    ? `UCS-2 (67 characters a segment) because of "${forced.at.char}" (U+${(forced.at.char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}) at character ${forced.at.position} of ${forced.field}, which GSM-7 cannot carry`
    : 'GSM-7, 153 characters a segment';
  return `the SMS would be ${segments} segments (${why}); this deployment allows at most ${maxSegments} per SMS (maxSmsSegments, SMS_ASK_MAX_SMS_SEGMENTS)`;
}

/** Thrown before sending when a message is over SNS's SMS size limit. */
export class MessageTooLongError extends Error {
  readonly bytes: number;
  readonly limit: number;

  constructor(bytes: number, limit: number) {
    super(`The SMS is ${bytes} bytes; SNS accepts at most ${limit}. Shorten the question or the option labels.`);
    this.name = 'MessageTooLongError';
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** Fails before Publish, where SNS would reject the message anyway with a vaguer error. */
export function assertSmsFits(text: string): void {
  const bytes = utf8ByteLength(text);
  if (bytes > SNS_SMS_MAX_BYTES) throw new MessageTooLongError(bytes, SNS_SMS_MAX_BYTES);
}
