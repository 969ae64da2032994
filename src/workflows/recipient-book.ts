/**
 * What one phone has pending, and how an inbound reply from it is routed: codes required, guesses
 * throttled, feedback limited, STOP confirmed before it counts. Deterministic: the workflow passes
 * in the time, and randomness comes from the workflow's seeded Math.random.
 */
import type { InboundReply } from '../domain/inbound-message';
import {
  MAX_LOGGED_REPLY_CHARS,
  MAX_MESSAGE_ID_LENGTH,
  MAX_REPLY_BODY_BYTES_CEILING,
  clipText,
  utf8ByteLength,
} from '../domain/input-limits';
import { maskPhone } from '../domain/phone-mask';
import { allocateCodes, assertCodesAvailable } from '../domain/reply-codes';
import { interpretReply } from '../domain/reply-grammar';
import { DEFAULT_REPLY_RULES, ReplyGuard, emptyGuardState, optOutCheckDelays } from '../domain/reply-guard';
import type { ReplyRules } from '../domain/reply-guard';
import type {
  EndedAskEntry,
  OptionCode,
  PendingAskEntry,
  RecipientWorkflowState,
  Registration,
  ReplyDelivery,
  RoutedReply,
} from './definitions';

/** Ended asks are remembered this long, to answer late replies with "expired". */
const ENDED_RETENTION_MS = 7 * 24 * 3600 * 1000;
const MAX_ENDED = 100;
/** SQS redelivers within minutes; a thousand keys per phone is far more than enough. */
const MAX_DEDUPE_KEYS = 1_000;
/**
 * A delivery is needed again only if its router stopped between this decision and its signal to the
 * ask, and SQS redelivers the reply minutes later: by then a phone has not sent a hundred more.
 */
const MAX_DELIVERIES = 100;

export type FeedbackDecision = 'expired' | 'failure' | 'help';

export type RouteDecision =
  /** Seen before; `delivery` when it was routed to an ask, so a redelivery is handed over again. */
  | { kind: 'duplicate'; delivery?: ReplyDelivery }
  | { kind: 'answer'; askId: string; reply: RoutedReply }
  /** A STOP: it counts only once SNS lists the number as opted out (see optOutCheckDelays). */
  | { kind: 'confirm_opt_out'; keyword: string; checkDelaysMs: number[] }
  | { kind: 'feedback'; feedback: FeedbackDecision; values: Record<string, string> }
  /** This reply reached a guess limit: the asks named log it, and the worker logs a warning. */
  | { kind: 'throttled'; notices: GuessNotice[] }
  /** Nothing to do but log why (a locked phone, the feedback limit, no asks). */
  | { kind: 'ignore'; why: string };

/** A guess limit that one wrong code reached: the phone's window lock, or an ask's lifetime limit. */
export interface GuessNotice {
  kind: 'guessing_throttled' | 'guess_limit_reached';
  askIds: string[];
  detail: string;
}

/** Why a decision answers no ask, for whoever injected the reply; undefined for an answer. */
export function refusalOf(decision: RouteDecision | undefined): string | undefined {
  switch (decision?.kind) {
    case undefined:
      return 'the reply could not be routed';
    case 'answer':
      return undefined;
    case 'duplicate':
      return decision.delivery ? undefined : 'a repeat of a reply already taken';
    case 'confirm_opt_out':
      return `an opt-out keyword (${decision.keyword}): it counts once SNS lists the number as opted out`;
    case 'feedback':
      if (decision.feedback === 'expired')
        return `that code's question has already closed: "${decision.values.question ?? ''}"`;
      if (decision.feedback === 'help') return 'a request for help (the phone is sent its open codes)';
      // Never the open codes: whoever injected the reply may not be allowed to see them.
      return 'not an open code of this phone (the phone is sent the failure feedback)';
    case 'throttled':
      return `a wrong code: ${decision.notices.map((n) => n.detail).join('; ')}`;
    case 'ignore':
      return decision.why;
  }
}

export class RecipientBook {
  private readonly state: RecipientWorkflowState;
  private readonly seen: Set<string>;
  private readonly guard: ReplyGuard;

  constructor(state?: RecipientWorkflowState) {
    this.state = state ?? { pending: [], recentlyEnded: [], recentDedupeKeys: [], nextSequential: 1, optedOut: false };
    this.state.guard ??= emptyGuardState();
    this.seen = new Set(this.state.recentDedupeKeys);
    this.guard = new ReplyGuard(this.state.guard, () => this.rules());
  }

  /** Runs in the update's validator: a registration that cannot be honoured is rejected, not failed. */
  checkRegistration(registration: Registration): void {
    if (registration.options.length < 2) throw new Error('an ask needs at least two options');
    if (this.state.pending.some((p) => p.askId === registration.askId)) return;
    if (registration.codes) {
      const inUse = this.codesInUse();
      const taken = registration.codes.find((c) => inUse.has(c.code));
      if (taken) throw new Error(`code ${taken.code} is held by another pending ask of this phone`);
      return;
    }
    assertCodesAvailable({
      count: registration.options.length,
      mode: registration.codeMode,
      length: registration.codeLength,
      inUse: this.codesInUse(),
    });
  }

  /** Idempotent per ask, so a retried registration gets the same codes. */
  register(registration: Registration, at?: Date): OptionCode[] {
    if (registration.rules) this.state.rules = registration.rules;
    const existing = this.state.pending.find((p) => p.askId === registration.askId);
    // A renewal (an operator's re-send after the guess limit) replaces the codes once per number.
    if (existing && (registration.renewal ?? 0) <= (existing.renewal ?? 0)) return existing.codes;
    // A replaced run of a phone's workflow that is gone keeps the codes the ask already sent.
    const codes =
      !existing && registration.codes
        ? registration.codes
        : this.allocate(registration, existing).map((code, i) => ({ option: registration.options[i]!, code }));
    const askedAt = registration.askedAt ?? at?.toISOString();
    const entry: PendingAskEntry = {
      askId: registration.askId,
      question: registration.question,
      options: registration.options,
      codes,
      ...(registration.acceptLabels && { acceptLabels: true }),
      ...(registration.endsOnAnswer && { endsOnAnswer: true }),
      ...(askedAt && { askedAt }),
      ...(registration.renewal !== undefined && { renewal: registration.renewal }),
    };
    if (existing) this.state.pending[this.state.pending.indexOf(existing)] = entry;
    else this.state.pending.push(entry);
    return entry.codes;
  }

  private allocate(registration: Registration, replacing: PendingAskEntry | undefined): string[] {
    const own = new Set(replacing?.codes.map((c) => c.code));
    const { codes, nextSequential } = allocateCodes({
      count: registration.options.length,
      mode: registration.codeMode,
      length: registration.codeLength,
      inUse: new Set([...this.codesInUse()].filter((c) => !own.has(c))),
      // The codes being replaced are avoided too: a forger has been guessing at them.
      avoid: new Set([...own, ...this.state.recentlyEnded.flatMap((p) => p.codes.map((c) => c.code))]),
      nextSequential: this.state.nextSequential,
      random: Math.random,
    });
    this.state.nextSequential = nextSequential;
    return codes;
  }

  /** Frees the ask's codes; returns it if it was pending. */
  end(askId: string, at: Date): EndedAskEntry | undefined {
    const index = this.state.pending.findIndex((p) => p.askId === askId);
    if (index < 0) return undefined;
    const [entry] = this.state.pending.splice(index, 1);
    const ended: EndedAskEntry = { ...entry!, endedAt: at.toISOString() };
    const cutoff = at.getTime() - ENDED_RETENTION_MS;
    this.state.recentlyEnded = [...this.state.recentlyEnded, ended]
      .filter((e) => Date.parse(e.endedAt) >= cutoff)
      .slice(-MAX_ENDED);
    return ended;
  }

  /** After an answer reached its ask: an ask that ends with its first answer has ended, so its codes are freed now. */
  answered(askId: string, at: Date): void {
    if (this.state.pending.find((p) => p.askId === askId)?.endsOnAnswer) this.end(askId, at);
  }

  /** The router takes this answer to its ask; it counts as answered from now on. */
  handOver(delivery: ReplyDelivery, at: Date): void {
    this.state.recentDeliveries = [...(this.state.recentDeliveries ?? []), delivery].slice(-MAX_DELIVERIES);
    this.answered(delivery.askId, at);
  }

  /**
   * The router found the ask closed without this reply: the ask has ended, and its question is
   * returned for the "expired" feedback (once: a redelivery is a plain duplicate from now on).
   */
  undelivered(askId: string, dedupeKey: string, at: Date): string | undefined {
    const deliveries = this.state.recentDeliveries ?? [];
    if (!deliveries.some((d) => d.askId === askId && d.reply.dedupeKey === dedupeKey)) return undefined;
    this.state.recentDeliveries = deliveries.filter((d) => d.reply.dedupeKey !== dedupeKey);
    return (this.end(askId, at) ?? this.state.recentlyEnded.find((e) => e.askId === askId))?.question;
  }

  route(reply: InboundReply, at: Date): RouteDecision {
    // Every way in checks the limits first; this is the last line, so no caller can bloat the state.
    if (
      reply.dedupeKey.length > MAX_MESSAGE_ID_LENGTH ||
      utf8ByteLength(reply.body, MAX_REPLY_BODY_BYTES_CEILING) > MAX_REPLY_BODY_BYTES_CEILING
    ) {
      return { kind: 'ignore', why: 'the reply is over the input limits' };
    }
    if (this.seen.has(reply.dedupeKey))
      return {
        kind: 'duplicate',
        delivery: this.state.recentDeliveries?.find((d) => d.reply.dedupeKey === reply.dedupeKey),
      };
    this.remember(reply.dedupeKey);

    // An ask whose guess limit this phone reached takes none of its codes any more.
    const live = this.state.pending.filter((p) => !p.guessLocked);
    const meaning = interpretReply(
      reply.body,
      live.map((p) => ({
        askId: p.askId,
        options: p.options,
        codes: p.codes.map((c, optionIndex) => ({ code: c.code, optionIndex })),
        acceptLabels: p.acceptLabels === true,
      })),
    );
    const now = at.getTime();
    // An opt-out is always heard (SNS confirms it); help is harmless. Anything else waits out a lock.
    if (meaning.kind === 'opt_out') {
      return {
        kind: 'confirm_opt_out',
        keyword: meaning.keyword,
        checkDelaysMs: optOutCheckDelays(this.rules().optOutConfirmMs),
      };
    }
    if (meaning.kind === 'help') return this.limitedFeedback('help', { available_codes: this.availableCodes() }, now);
    if (this.guard.lockedAt(now)) {
      return {
        kind: 'ignore',
        why: `too many wrong codes: SMS answers refused until ${new Date(this.guard.lockedUntil()!).toISOString()}`,
      };
    }
    if (meaning.kind === 'answer') {
      const asked = live.find((p) => p.askId === meaning.askId)?.askedAt;
      // A reply redriven or replayed later is held to when it was sent: before the question, it answers nothing.
      if (reply.sentAt !== undefined && asked !== undefined && Date.parse(reply.sentAt) < Date.parse(asked)) {
        return {
          kind: 'ignore',
          why: `the reply was sent at ${reply.sentAt}, before this phone was asked at ${asked}`,
        };
      }
      return {
        kind: 'answer',
        askId: meaning.askId,
        reply: {
          phone: reply.from,
          optionIndex: meaning.optionIndex,
          code: meaning.code,
          body: clipText(reply.body, MAX_LOGGED_REPLY_CHARS),
          dedupeKey: reply.dedupeKey,
          receivedAt: at.toISOString(),
          ...(reply.injectedBy !== undefined && { injectedBy: reply.injectedBy }),
        },
      };
    }

    const [onlyNumber] = meaning.numberTokens;
    if (meaning.reason === 'unknown_code' && onlyNumber !== undefined) {
      const locked = this.state.pending.find((p) => p.guessLocked && p.codes.some((c) => c.code === onlyNumber));
      if (locked)
        return {
          kind: 'ignore',
          why: `the codes of ${locked.askId} stopped working for this phone after too many wrong codes`,
        };
      const ended = this.state.recentlyEnded.find((e) => e.codes.some((c) => c.code === onlyNumber));
      if (ended) return this.limitedFeedback('expired', { question: ended.question }, now);
    }
    if (!this.hasPending()) return { kind: 'ignore', why: 'no open asks for this phone' };
    if (meaning.reason === 'unknown_code' || meaning.reason === 'several_numbers') {
      const notices = this.countWrongGuess(reply.from, live, now);
      if (notices.length > 0) return { kind: 'throttled', notices };
    }
    if (live.length === 0)
      return { kind: 'ignore', why: 'every ask of this phone has stopped taking its codes after too many wrong codes' };
    return this.limitedFeedback('failure', { available_codes: this.availableCodes() }, now);
  }

  /**
   * One wrong code: it counts against every ask it could have answered, over that ask's whole life
   * (the bound a forger cannot wait out), and against the phone's window (a quick brake).
   */
  private countWrongGuess(from: string, live: PendingAskEntry[], now: number): GuessNotice[] {
    const { guessesPerAsk = DEFAULT_REPLY_RULES.guessesPerAsk, guessWindowMs } = this.rules();
    const notices: GuessNotice[] = [];
    const reached: string[] = [];
    for (const entry of live) {
      entry.wrongGuesses = (entry.wrongGuesses ?? 0) + 1;
      if (entry.wrongGuesses >= guessesPerAsk) {
        entry.guessLocked = true;
        reached.push(entry.askId);
      }
    }
    if (reached.length > 0) {
      notices.push({
        kind: 'guess_limit_reached',
        askIds: reached,
        detail:
          `${maskPhone(from)} sent ${guessesPerAsk} wrong codes while this ask waited; its codes no longer answer it from that phone. ` +
          'An operator can re-send the question (with fresh codes) after calling the person, or answer it',
      });
    }
    const verdict = this.guard.wrongGuess(now);
    if (verdict.locked) {
      notices.push({
        kind: 'guessing_throttled',
        askIds: this.pendingAskIds(),
        detail:
          `${maskPhone(from)} sent ${verdict.wrongGuesses} wrong codes within ${Math.round(guessWindowMs / 60_000)} min; ` +
          `its SMS answers are refused until ${new Date(verdict.until).toISOString()}`,
      });
    }
    return notices;
  }

  /** SNS listed the number as opted out: the phone's pending asks are told; returns them. */
  confirmOptOut(): string[] {
    this.state.optedOut = true;
    return this.pendingAskIds();
  }

  /** Whether one more failure, help or expired SMS may go to this phone now (and counts it). */
  takeFeedback(at: Date): boolean {
    return this.guard.takeFeedback(at.getTime());
  }

  hasPending(): boolean {
    return this.state.pending.length > 0;
  }

  pending(): PendingAskEntry[] {
    return this.state.pending;
  }

  pendingAskIds(): string[] {
    return this.state.pending.map((p) => p.askId);
  }

  snapshot(): RecipientWorkflowState {
    return { ...this.state, recentDedupeKeys: [...this.seen] };
  }

  private rules(): ReplyRules {
    return this.state.rules ?? DEFAULT_REPLY_RULES;
  }

  private limitedFeedback(feedback: FeedbackDecision, values: Record<string, string>, now: number): RouteDecision {
    if (!this.guard.takeFeedback(now))
      return { kind: 'ignore', why: `${feedback} feedback not sent: this phone's feedback limit is reached` };
    return { kind: 'feedback', feedback, values };
  }

  private codesInUse(): Set<string> {
    return new Set(this.state.pending.flatMap((p) => p.codes.map((c) => c.code)));
  }

  private availableCodes(): string {
    return this.state.pending
      .filter((p) => !p.guessLocked)
      .map((p) => p.codes.map((c) => `${c.code} (${c.option})`).join(', '))
      .join('; ');
  }

  private remember(key: string): void {
    this.seen.add(key);
    if (this.seen.size > MAX_DEDUPE_KEYS) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
