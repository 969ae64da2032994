/**
 * When the policy wants something to happen next: the next escalation tier, the next reminder
 * round, or the deadline. Pure, so that days-long policies can be checked in milliseconds.
 */
import type { AskPolicy } from '../domain/policy';

export type DueEvent =
  | { kind: 'tier'; tier: number; at: number }
  | { kind: 'reminder'; round: number; at: number }
  | { kind: 'deadline'; at: number };

/** Where an ask stands, in epoch milliseconds. */
export interface ClockReading {
  startedAt: number;
  deadline: number;
  /** Escalation tiers started so far. */
  tier: number;
  remindersSent: number;
  /** An opt-out asked for the next tier at this time. */
  tierJumpAt?: number;
}

/**
 * Tier `after`s and reminder rounds count from the ask's start, so a restart or a late timer never
 * shifts the schedule. On a tie the tier goes first, then the deadline: a reminder due at the
 * deadline is not sent.
 */
export function nextDue(policy: Pick<AskPolicy, 'escalation' | 'reminders'>, now: ClockReading): DueEvent {
  const candidates: DueEvent[] = [];
  const nextTier = policy.escalation[now.tier];
  if (nextTier) {
    candidates.push({
      kind: 'tier',
      tier: now.tier + 1,
      at: Math.min(now.startedAt + nextTier.after, now.tierJumpAt ?? Infinity),
    });
  }
  candidates.push({ kind: 'deadline', at: now.deadline });
  if (policy.reminders && now.remindersSent < policy.reminders.max) {
    const round = now.remindersSent + 1;
    candidates.push({ kind: 'reminder', round, at: now.startedAt + round * policy.reminders.every });
  }
  return candidates.reduce((soonest, event) => (event.at < soonest.at ? event : soonest));
}
