/**
 * Asks started all at once on a worker whose SNS publish rate is limited: every question SMS goes
 * out, exactly once, and no second dispatches more publishes than the limit allows. A publish is
 * timed when the server hands its activity to the worker (the ActivityTaskStarted event of the
 * ask's registerAndAsk, which registers the phone and publishes), which is what the server-side
 * rate limit governs.
 */
import { tsToMs } from '@temporalio/common/lib/time';
import { listSentSms } from '../../src/local-stack/phone-simulator';
import { createPendingAsks } from '../fleet';
import type { Fleet } from '../fleet';
import { mapConcurrently } from '../pool';
import type { Progress } from '../progress';

export interface OutboundResult {
  limitPerSecond: number;
  asks: number;
  /** Asks whose question publish was dispatched. */
  sent: number;
  /** SMS the emulator recorded to those asks' phones (more than one per ask would be a duplicate send). */
  smsRecorded: number;
  /** Publishes dispatched in the busiest 1-second window. */
  maxInOneSecond: number;
  /** Most a window may hold: the limit, plus a second's worth of saved-up tokens. */
  allowedInOneSecond: number;
  /** Dispatched per second once the first second's worth is out (NaN when nothing is left to time). */
  sustainedPerSecond: number;
  seconds: number;
  /**
   * The most publishes any stretch held beyond what the limit earns over it (a token bucket that
   * starts full may spend its saved-up tokens on top): within a second's worth, the limit held.
   */
  mostBeyondLimit: number;
  /** The busiest second within the allowance, and no stretch beyond the limit's saved-up tokens. */
  limitHeld: boolean;
  /** Every ask sent its question exactly once. */
  nothingDropped: boolean;
}

/** The server's limiter may let a second's worth of saved-up tokens through on top of the steady rate. */
const BURST_ALLOWANCE_SECONDS = 1;
/** Timer jitter on the server's side: a few percent of the limit. */
const SUSTAINED_TOLERANCE = 1.05;

export async function measureOutbound(params: {
  fleet: Fleet;
  count: number;
  limitPerSecond: number;
  progress: Progress;
}): Promise<OutboundResult> {
  const { fleet, count, limitPerSecond, progress } = params;
  const asks = await createPendingAsks(fleet, count, (status) => progress.update(status));
  const sentTimes = await mapConcurrently(asks, 32, (ask) => publishDispatchedAt(fleet, ask.askId));
  const phones = new Set(asks.map((ask) => ask.phone));
  const smsRecorded = (await listSentSms(fleet.awsEndpoint)).filter((sms) => phones.has(sms.phoneNumber)).length;
  const times = sentTimes.filter((t): t is number => t !== undefined).sort((a, b) => a - b);
  const maxInOneSecond = busiestWindow(times, 1_000);
  const allowedInOneSecond = Math.ceil(limitPerSecond * (1 + BURST_ALLOWANCE_SECONDS));
  const seconds = times.length > 1 ? (times[times.length - 1]! - times[0]!) / 1000 : 0;
  // After the saved-up tokens are spent, the limit alone sets the pace.
  const steady = times.slice(Math.ceil(limitPerSecond * BURST_ALLOWANCE_SECONDS));
  const steadySeconds = steady.length > 1 ? (steady[steady.length - 1]! - steady[0]!) / 1000 : 0;
  const sustainedPerSecond = steadySeconds > 0 ? (steady.length - 1) / steadySeconds : NaN;
  const mostBeyondLimit = mostBeyondRate(times, limitPerSecond);
  const result: OutboundResult = {
    limitPerSecond,
    asks: count,
    sent: times.length,
    smsRecorded,
    maxInOneSecond,
    allowedInOneSecond,
    sustainedPerSecond,
    seconds,
    mostBeyondLimit,
    // Judged on every stretch, not on the rate after the first second's worth: the tokens saved up
    // while that first second's publishes went out are spent on top of the rate after it.
    limitHeld:
      maxInOneSecond <= allowedInOneSecond &&
      mostBeyondLimit <= limitPerSecond * BURST_ALLOWANCE_SECONDS * SUSTAINED_TOLERANCE + 1,
    nothingDropped: times.length === count && smsRecorded === count,
  };
  progress.done(
    `${result.sent}/${count} sent at ${result.sustainedPerSecond.toFixed(1)}/s; busiest second ${maxInOneSecond} (limit ${limitPerSecond})`,
  );
  return result;
}

/** When the server dispatched the ask's question publish (its registerAndAsk activity), from the ask's history. */
async function publishDispatchedAt(fleet: Fleet, askId: string): Promise<number | undefined> {
  const events = (await fleet.client.workflow.getHandle(askId).fetchHistory()).events ?? [];
  const scheduled = events.find(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'registerAndAsk',
  );
  if (!scheduled) return undefined;
  const started = events.find(
    (event) => String(event.activityTaskStartedEventAttributes?.scheduledEventId ?? '') === String(scheduled.eventId),
  );
  return started ? tsToMs(started.eventTime) : undefined;
}

/** The most timestamps in any window [t, t + windowMs) that starts at one of them. */
export function busiestWindow(sortedTimes: readonly number[], windowMs: number): number {
  let most = 0;
  let end = 0;
  for (let start = 0; start < sortedTimes.length; start++) {
    while (end < sortedTimes.length && sortedTimes[end]! < sortedTimes[start]! + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

/**
 * The most timestamps that any stretch [t_i, t_j] holds beyond `ratePerSecond` × its length: what a
 * token bucket of that rate must have had saved up to let them through.
 */
export function mostBeyondRate(sortedTimes: readonly number[], ratePerSecond: number): number {
  let most = 0;
  for (let i = 0; i < sortedTimes.length; i++) {
    for (let j = i; j < sortedTimes.length; j++) {
      most = Math.max(most, j - i + 1 - (ratePerSecond * (sortedTimes[j]! - sortedTimes[i]!)) / 1000);
    }
  }
  return most;
}
