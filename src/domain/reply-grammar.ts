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
}

export type ReplyInterpretation =
  /** code is absent when the option was matched by its label. */
  | { kind: 'answer'; askId: string; optionIndex: number; code?: string }
  | { kind: 'opt_out'; keyword: string }
  | { kind: 'help' }
  | { kind: 'unmatched'; reason: 'empty' | 'no_code' | 'unknown_code' | 'ambiguous'; codeLikeTokens: string[] };

// Punctuation, symbols and spaces around a reply ("Stop!", "«yes».") carry no meaning.
const SURROUNDING_NOISE = /^[\p{P}\p{S}\s]+|[\p{P}\p{S}\s]+$/gu;
const TOKEN = /[\p{L}\p{N}]+/gu;
const DIGITS = /^[0-9]+$/;

// toLowerCase, not toLocaleLowerCase: the result must not depend on the worker's locale.
function normalizeText(text: string): string {
  return text.trim().toLowerCase().replace(SURROUNDING_NOISE, '').replace(/\s+/g, ' ');
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

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

/**
 * Decides what one inbound SMS means, given the sender's pending asks.
 * Keywords win over everything: AWS has already opted the number out on STOP,
 * even if "Cancel" happens to be an option label.
 */
export function interpretReply(body: string, pending: readonly PendingAskView[]): ReplyInterpretation {
  const normalized = normalizeText(body);
  if (body.trim() === '') return { kind: 'unmatched', reason: 'empty', codeLikeTokens: [] };

  const keyword = normalized.toUpperCase();
  if (OPT_OUT_KEYWORDS.includes(keyword)) return { kind: 'opt_out', keyword };
  if (keyword === HELP_KEYWORD) return { kind: 'help' };

  const tokens = unique(normalized.match(TOKEN) ?? []);
  const activeCodes = indexActiveCodes(pending);
  const matched = tokens.filter((token) => activeCodes.has(token));

  if (matched.length > 1) return { kind: 'unmatched', reason: 'ambiguous', codeLikeTokens: matched };
  const [onlyCode] = matched;
  if (onlyCode !== undefined) {
    const targets = activeCodes.get(onlyCode) ?? [];
    const [target] = targets;
    // Two asks holding one code breaks an invariant upstream; never guess between them.
    if (target === undefined || targets.length > 1) {
      return { kind: 'unmatched', reason: 'ambiguous', codeLikeTokens: matched };
    }
    return { kind: 'answer', askId: target.askId, optionIndex: target.optionIndex, code: target.code };
  }

  // A bare label like "yes" is only safe when there is one ask it could answer.
  const [onlyAsk] = pending;
  if (pending.length === 1 && onlyAsk !== undefined) {
    const hits = onlyAsk.options.flatMap((label, index) => (normalizeText(label) === normalized ? [index] : []));
    const [optionIndex] = hits;
    if (hits.length === 1 && optionIndex !== undefined) {
      return { kind: 'answer', askId: onlyAsk.askId, optionIndex };
    }
    if (hits.length > 1) return { kind: 'unmatched', reason: 'ambiguous', codeLikeTokens: [] };
  }

  const codeLike = tokens.filter((token) => DIGITS.test(token));
  if (codeLike.length > 0) return { kind: 'unmatched', reason: 'unknown_code', codeLikeTokens: codeLike };
  return { kind: 'unmatched', reason: 'no_code', codeLikeTokens: [] };
}
