/**
 * What one phone has pending, and how an inbound reply from it is routed: codes required, guesses
 * throttled, feedback limited, STOP confirmed before it counts. Deterministic: the workflow passes
 * in the time, and randomness comes from the workflow's seeded Math.random.
 */
import type { InboundReply } from '../domain/inbound-message';
import { MAX_LOGGED_REPLY_CHARS, MAX_MESSAGE_ID_LENGTH, MAX_REPLY_BODY_BYTES_CEILING, clipText, utf8ByteLength } from '../domain/input-limits';
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
  /** This reply just locked the phone: its pending asks log it, and the worker logs a warning. */
  | { kind: 'throttled'; askIds: string[]; detail: string }
  /** Nothing to do but log why (a locked phone, the feedback limit, no asks). */
  | { kind: 'ignore'; why: string };

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
    assertCodesAvailable({ count: registration.options.length, mode: registration.codeMode, length: registration.codeLength, inUse: this.codesInUse() });
  }

  /** Idempotent per ask, so a retried registration gets the same codes. */
  register(registration: Registration): OptionCode[] {
    if (registration.rules) this.state.rules = registration.rules;
    const existing = this.state.pending.find((p) => p.askId === registration.askId);
    if (existing) return existing.codes;
    if (registration.codes) return this.keep(registration, registration.codes);
    const { codes, nextSequential } = allocateCodes({
      count: registration.options.length,
      mode: registration.codeMode,
      length: registration.codeLength,
      inUse: this.codesInUse(),
      avoid: new Set(this.state.recentlyEnded.flatMap((p) => p.codes.map((c) => c.code))),
      nextSequential: this.state.nextSequential,
      random: Math.random,
    });
    this.state.nextSequential = nextSequential;
    return this.keep(registration, registration.options.map((option, i) => ({ option, code: codes[i]! })));
  }

  private keep(registration: Registration, codes: OptionCode[]): OptionCode[] {
    const entry: PendingAskEntry = {
      askId: registration.askId,
      question: registration.question,
      options: registration.options,
      codes,
      ...(registration.acceptLabels && { acceptLabels: true }),
      ...(registration.endsOnAnswer && { endsOnAnswer: true }),
    };
    this.state.pending.push(entry);
    return entry.codes;
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
    if (reply.dedupeKey.length > MAX_MESSAGE_ID_LENGTH || utf8ByteLength(reply.body, MAX_REPLY_BODY_BYTES_CEILING) > MAX_REPLY_BODY_BYTES_CEILING) {
      return { kind: 'ignore', why: 'the reply is over the input limits' };
    }
    if (this.seen.has(reply.dedupeKey)) return { kind: 'duplicate', delivery: this.state.recentDeliveries?.find((d) => d.reply.dedupeKey === reply.dedupeKey) };
    this.remember(reply.dedupeKey);

    const meaning = interpretReply(
      reply.body,
      this.state.pending.map((p) => ({
        askId: p.askId,
        options: p.options,
        codes: p.codes.map((c, optionIndex) => ({ code: c.code, optionIndex })),
        acceptLabels: p.acceptLabels === true,
      })),
    );
    const now = at.getTime();
    // An opt-out is always heard (SNS confirms it); help is harmless. Anything else waits out a lock.
    if (meaning.kind === 'opt_out') {
      return { kind: 'confirm_opt_out', keyword: meaning.keyword, checkDelaysMs: optOutCheckDelays(this.rules().optOutConfirmMs) };
    }
    if (meaning.kind === 'help') return this.limitedFeedback('help', { available_codes: this.availableCodes() }, now);
    if (this.guard.lockedAt(now)) {
      return { kind: 'ignore', why: `too many wrong codes: SMS answers refused until ${new Date(this.guard.lockedUntil()!).toISOString()}` };
    }
    if (meaning.kind === 'answer') {
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
        },
      };
    }

    const [onlyNumber] = meaning.numberTokens;
    if (meaning.reason === 'unknown_code' && onlyNumber !== undefined) {
      const ended = this.state.recentlyEnded.find((e) => e.codes.some((c) => c.code === onlyNumber));
      if (ended) return this.limitedFeedback('expired', { question: ended.question }, now);
    }
    if (!this.hasPending()) return { kind: 'ignore', why: 'no open asks for this phone' };
    if (meaning.reason === 'unknown_code' || meaning.reason === 'several_numbers') {
      const verdict = this.guard.wrongGuess(now);
      if (verdict.locked) {
        const { guessWindowMs } = this.rules();
        return {
          kind: 'throttled',
          askIds: this.pendingAskIds(),
          detail:
            `${maskPhone(reply.from)} sent ${verdict.wrongGuesses} wrong codes within ${Math.round(guessWindowMs / 60_000)} min; ` +
            `its SMS answers are refused until ${new Date(verdict.until).toISOString()}`,
        };
      }
    }
    return this.limitedFeedback('failure', { available_codes: this.availableCodes() }, now);
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
    if (!this.guard.takeFeedback(now)) return { kind: 'ignore', why: `${feedback} feedback not sent: this phone's feedback limit is reached` };
    return { kind: 'feedback', feedback, values };
  }

  private codesInUse(): Set<string> {
    return new Set(this.state.pending.flatMap((p) => p.codes.map((c) => c.code)));
  }

  private availableCodes(): string {
    return this.state.pending
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
