/**
 * Asks started all at once on a worker whose SNS publish rate is limited: every question SMS goes
 * out, and no second sends more than the limit allows.
 */
import { listSentSms } from '../../src/local-stack/phone-simulator';
import { createPendingAsks } from '../fleet';
import type { Fleet } from '../fleet';
import { mapConcurrently } from '../pool';
import type { Progress } from '../progress';

export interface OutboundResult {
  limitPerSecond: number;
  asks: number;
  /** Asks whose event log has the question as sent. */
  sent: number;
  /** SMS the emulator recorded to those asks' phones (more than one per ask would be a duplicate send). */
  smsRecorded: number;
  /** Sends in the busiest 1-second window. */
  maxInOneSecond: number;
  /** Most a window may hold: the limit, plus the tolerance for jitter between the send and its record. */
  allowedInOneSecond: number;
  /** Sent per second from the first send to the last. */
  sustainedPerSecond: number;
  seconds: number;
  limitHeld: boolean;
  /** Every ask sent its question exactly once. */
  nothingDropped: boolean;
}

/** Send times are recorded when the ask's workflow sees the send complete, a few ms after SNS took it. */
const WINDOW_TOLERANCE = 0.1;

export async function measureOutbound(params: { fleet: Fleet; count: number; limitPerSecond: number; progress: Progress }): Promise<OutboundResult> {
  const { fleet, count, limitPerSecond, progress } = params;
  const asks = await createPendingAsks(fleet, count, (status) => progress.update(status));
  const sentTimes = await mapConcurrently(asks, 32, async (ask) => {
    const state = await fleet.asks.status(ask.askId);
    const sent = state.events.find((event) => event.type === 'sent');
    return sent ? Date.parse(sent.at) : undefined;
  });
  const phones = new Set(asks.map((ask) => ask.phone));
  const smsRecorded = (await listSentSms(fleet.awsEndpoint)).filter((sms) => phones.has(sms.phoneNumber)).length;
  const times = sentTimes.filter((t): t is number => t !== undefined).sort((a, b) => a - b);
  const maxInOneSecond = busiestWindow(times, 1_000);
  const allowedInOneSecond = Math.ceil(limitPerSecond * (1 + WINDOW_TOLERANCE));
  const seconds = times.length > 1 ? (times[times.length - 1]! - times[0]!) / 1000 : 0;
  const result: OutboundResult = {
    limitPerSecond,
    asks: count,
    sent: times.length,
    smsRecorded,
    maxInOneSecond,
    allowedInOneSecond,
    sustainedPerSecond: seconds > 0 ? (times.length - 1) / seconds : NaN,
    seconds,
    limitHeld: maxInOneSecond <= allowedInOneSecond,
    nothingDropped: times.length === count && smsRecorded === count,
  };
  progress.done(`${result.sent}/${count} sent at ${result.sustainedPerSecond.toFixed(1)}/s; busiest second ${maxInOneSecond} (limit ${limitPerSecond})`);
  return result;
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
