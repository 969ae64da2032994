/**
 * What one phone has pending, and how an inbound reply from it is routed. Deterministic: the
 * workflow passes in the time, and randomness comes from the workflow's seeded Math.random.
 */
import type { InboundReply } from '../domain/inbound-message';
import { allocateCodes } from '../domain/reply-codes';
import { interpretReply } from '../domain/reply-grammar';
import type {
  EndedAskEntry,
  OptionCode,
  PendingAskEntry,
  RecipientWorkflowState,
  Registration,
  RoutedReply,
} from './definitions';

/** Ended asks are remembered this long, to answer late replies with "expired". */
const ENDED_RETENTION_MS = 7 * 24 * 3600 * 1000;
const MAX_ENDED = 100;
/** SQS redelivers within minutes; a thousand keys per phone is far more than enough. */
const MAX_DEDUPE_KEYS = 1_000;

export type RouteDecision =
  | { kind: 'duplicate' }
  | { kind: 'answer'; askId: string; reply: RoutedReply }
  | { kind: 'opt_out'; askIds: string[] }
  | { kind: 'feedback'; feedback: 'expired' | 'failure' | 'help'; values: Record<string, string> }
  | { kind: 'ignore' };

export class RecipientBook {
  private readonly state: RecipientWorkflowState;
  private readonly seen: Set<string>;

  constructor(state?: RecipientWorkflowState) {
    this.state = state ?? { pending: [], recentlyEnded: [], recentDedupeKeys: [], nextSequential: 1, optedOut: false };
    this.seen = new Set(this.state.recentDedupeKeys);
  }

  checkRegistration(registration: Registration): void {
    if (registration.options.length < 2) throw new Error('an ask needs at least two options');
  }

  /** Idempotent per ask, so a retried registration gets the same codes. */
  register(registration: Registration): OptionCode[] {
    const existing = this.state.pending.find((p) => p.askId === registration.askId);
    if (existing) return existing.codes;
    const { codes, nextSequential } = allocateCodes({
      count: registration.options.length,
      mode: registration.codeMode,
      length: registration.codeLength,
      inUse: new Set(this.state.pending.flatMap((p) => p.codes.map((c) => c.code))),
      avoid: new Set(this.state.recentlyEnded.flatMap((p) => p.codes.map((c) => c.code))),
      nextSequential: this.state.nextSequential,
      random: Math.random,
    });
    this.state.nextSequential = nextSequential;
    const entry: PendingAskEntry = {
      askId: registration.askId,
      question: registration.question,
      options: registration.options,
      codes: registration.options.map((option, i) => ({ option, code: codes[i]! })),
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

  route(reply: InboundReply, at: Date): RouteDecision {
    if (this.seen.has(reply.dedupeKey)) return { kind: 'duplicate' };
    this.remember(reply.dedupeKey);

    const meaning = interpretReply(
      reply.body,
      this.state.pending.map((p) => ({
        askId: p.askId,
        options: p.options,
        codes: p.codes.map((c, optionIndex) => ({ code: c.code, optionIndex })),
      })),
    );
    switch (meaning.kind) {
      case 'answer':
        return {
          kind: 'answer',
          askId: meaning.askId,
          reply: {
            phone: reply.from,
            optionIndex: meaning.optionIndex,
            code: meaning.code,
            body: reply.body,
            dedupeKey: reply.dedupeKey,
            receivedAt: at.toISOString(),
          },
        };
      case 'opt_out':
        this.state.optedOut = true;
        return { kind: 'opt_out', askIds: this.state.pending.map((p) => p.askId) };
      case 'help':
        return { kind: 'feedback', feedback: 'help', values: { available_codes: this.availableCodes() } };
      case 'unmatched': {
        const ended = this.state.recentlyEnded.find((e) =>
          e.codes.some((c) => meaning.codeLikeTokens.includes(c.code)),
        );
        if (ended) return { kind: 'feedback', feedback: 'expired', values: { question: ended.question } };
        if (this.hasPending()) {
          return { kind: 'feedback', feedback: 'failure', values: { available_codes: this.availableCodes() } };
        }
        return { kind: 'ignore' };
      }
    }
  }

  hasPending(): boolean {
    return this.state.pending.length > 0;
  }

  pending(): PendingAskEntry[] {
    return this.state.pending;
  }

  snapshot(): RecipientWorkflowState {
    return { ...this.state, recentDedupeKeys: [...this.seen] };
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
