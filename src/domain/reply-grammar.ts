/** Words that opt a number out of SMS; AWS itself honours these, so we must too. */
export const OPT_OUT_KEYWORDS: readonly string[] = Object.freeze([
  'STOP',
  'ARRET',
  'CANCEL',
  'END',
  'OPT-OUT',
  'OPTOUT',
  'QUIT',
  'REMOVE',
  'TD',
  'UNSUBSCRIBE',
]);

export const HELP_KEYWORD = 'HELP';

/** What the grammar needs to know about one of the sender's pending asks. */
export interface PendingAskView {
  askId: string;
  options: readonly string[];
  codes: readonly { code: string; optionIndex: number }[];
  /** The ask's policy lets a bare option label ("Yes") answer it. Default false: only a code does. */
  acceptLabels?: boolean;
}

export type UnmatchedReason =
  /** Nothing but spaces and punctuation. */
  | 'empty'
  /** No number at all, and not a label this ask accepts. */
  | 'no_code'
  /** Exactly one number, which is no active code of this sender. */
  | 'unknown_code'
  /** More than one different number: never an answer, whatever they are (a spray of guesses). */
  | 'several_numbers'
  /** A code two asks hold, or a label two options share. */
  | 'ambiguous';

export type ReplyInterpretation =
  /** code is absent when the option was matched by its label. */
  | { kind: 'answer'; askId: string; optionIndex: number; code?: string }
  | { kind: 'opt_out'; keyword: string }
  | { kind: 'help' }
  /** numberTokens: the distinct numbers in the reply, so the caller can check ended asks and count guesses. */
  | { kind: 'unmatched'; reason: UnmatchedReason; numberTokens: string[] };

// Every step below is one pass over the text: a reply of any length is classified in linear time.
const NOISE = /[\p{P}\p{S}\s]/u;
const TOKEN = /[\p{L}\p{M}\p{N}]+/gu;
/** A number in any script counts as a number (so it is refused in a spray); codes are ASCII digits. */
const NUMBER = /^\p{Nd}+$/u;
const SPACES = /\s+/g;
const DIGIT = /\p{Nd}/gu;
const IS_DIGIT = /^\p{Nd}$/u;

/**
 * The ASCII digit of any decimal digit (Arabic-Indic ٤, Devanagari ४, Bengali, Thai …). Unicode
 * encodes every script's digits as runs of ten from 0 to 9, so the value is the distance from the
 * start of the run, modulo ten (some runs sit side by side). At most ~60 steps back.
 */
function asciiDigit(digit: string): string {
  const point = digit.codePointAt(0)!;
  let start = point;
  while (start > 0 && IS_DIGIT.test(String.fromCodePoint(start - 1))) start -= 1;
  return String((point - start) % 10);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Punctuation, symbols and spaces around a reply ("Stop!", "«yes».") carry no meaning. */
function trimNoise(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end) {
    const width =
      isHighSurrogate(text.charCodeAt(start)) && start + 1 < end && isLowSurrogate(text.charCodeAt(start + 1)) ? 2 : 1;
    if (!NOISE.test(text.slice(start, start + width))) break;
    start += width;
  }
  while (end > start) {
    const width =
      isLowSurrogate(text.charCodeAt(end - 1)) && end - 2 >= start && isHighSurrogate(text.charCodeAt(end - 2)) ? 2 : 1;
    if (!NOISE.test(text.slice(end - width, end))) break;
    end -= width;
  }
  return text.slice(start, end);
}

/**
 * Compatibility-folded (a full-width "４８２１" is "4821"), digits of every script read as ASCII
 * ("٤٨٢١" is "4821": a person whose keyboard writes them must not look like a guesser), case-folded, trimmed of surrounding noise,
 * inner spaces collapsed. toLowerCase, not toLocaleLowerCase: the result must not depend on the
 * worker's locale.
 */
export function normalizeReplyText(text: string): string {
  return trimNoise(text.normalize('NFKC').replace(DIGIT, asciiDigit).toLowerCase()).replace(SPACES, ' ');
}

interface CodeTarget {
  askId: string;
  optionIndex: number;
  code: string;
}

function indexActiveCodes(pending: readonly PendingAskView[]): Map<string, CodeTarget[]> {
  const byCode = new Map<string, CodeTarget[]>();
  for (const ask of pending) {
    for (const { code, optionIndex } of ask.codes) {
      const key = code.trim().toLowerCase();
      const targets = byCode.get(key) ?? [];
      targets.push({ askId: ask.askId, optionIndex, code });
      byCode.set(key, targets);
    }
  }
  return byCode;
}

function unmatched(reason: UnmatchedReason, numberTokens: string[] = []): ReplyInterpretation {
  return { kind: 'unmatched', reason, numberTokens };
}

/**
 * Decides what one inbound SMS means, given the sender's pending asks. A reply answers only when
 * it holds exactly one number and that number is an active code of this sender (words around it
 * are allowed); several numbers never answer, so that a spray of guesses cannot hit a code. A bare
 * option label answers only the sender's one pending ask, and only if its policy accepts labels.
 * Keywords win over everything: AWS has already opted the number out on STOP, even if "Cancel"
 * happens to be an option label.
 */
export function interpretReply(body: string, pending: readonly PendingAskView[]): ReplyInterpretation {
  const normalized = normalizeReplyText(body);
  if (normalized === '') return unmatched('empty');

  const keyword = normalized.toUpperCase();
  if (OPT_OUT_KEYWORDS.includes(keyword)) return { kind: 'opt_out', keyword };
  if (keyword === HELP_KEYWORD) return { kind: 'help' };

  const numberTokens = [...new Set((normalized.match(TOKEN) ?? []).filter((token) => NUMBER.test(token)))];
  if (numberTokens.length > 1) return unmatched('several_numbers', numberTokens);

  const [onlyNumber] = numberTokens;
  if (onlyNumber !== undefined) {
    const targets = indexActiveCodes(pending).get(onlyNumber) ?? [];
    const [target] = targets;
    if (target === undefined) return unmatched('unknown_code', numberTokens);
    // Two asks holding one code breaks an invariant upstream; never guess between them.
    if (targets.length > 1) return unmatched('ambiguous', numberTokens);
    return { kind: 'answer', askId: target.askId, optionIndex: target.optionIndex, code: target.code };
  }

  // A bare label like "yes" is only safe when there is one ask it could answer, and that ask says so.
  const [onlyAsk] = pending;
  if (pending.length === 1 && onlyAsk?.acceptLabels === true) {
    const hits = onlyAsk.options.flatMap((label, index) => (normalizeReplyText(label) === normalized ? [index] : []));
    const [optionIndex] = hits;
    if (hits.length === 1 && optionIndex !== undefined) return { kind: 'answer', askId: onlyAsk.askId, optionIndex };
    if (hits.length > 1) return unmatched('ambiguous');
  }
  return unmatched('no_code');
}
