/**
 * Delivery receipts: asks sent through End User Messaging (the local stack's stand-in, whose events
 * reach the inbound queue through moto's SNS as AWS's do). Measures the time from a send to the ask
 * recording its delivered event, the time from a blocked event to the next tier's question, and what
 * an ask and a reply cost Temporal with receipts on.
 */
import { DEFAULT_EVENT_DELAY_MS } from '../../src/local-stack/end-user-messaging-stand-in';
import type { EndUserMessagingStandIn } from '../../src/local-stack/end-user-messaging-stand-in';
import type { AskState } from '../../src/workflows/definitions';
import { sendReply } from '../fleet';
import type { Fleet, PendingAsk } from '../fleet';
import { mapConcurrently, sleep } from '../pool';
import type { Progress } from '../progress';
import { summarize } from '../stats';
import type { LatencySummary } from '../stats';
import { costSoFar, per } from './costs';
import type { WorkCost } from './costs';

export interface ReceiptsResult {
  asks: number;
  /** From the stand-in taking the send to the ask recording the delivered event (two events apart). */
  sendToDelivered: LatencySummary;
  /** From the delivered event's timestamp to the ask recording it: SNS → SQS → poller → ask. */
  eventToRecorded: LatencySummary;
  /** From a blocked question's event to the next tier's question reaching the stand-in. */
  failureToNextTier: LatencySummary;
  /** The stand-in's pause before each event, part of sendToDelivered. */
  eventDelayMs: number;
  costs: { sample: number; perAsk: WorkCost; perReply: WorkCost };
}

const QUESTION = 'Benchmark: contain host WS-042?';
const CONCURRENCY = 16;
const WAIT_MS = 60_000;
const SETTLE_MS = 2_000;

export async function measureReceipts(params: {
  fleet: Fleet;
  standIn: Pick<EndUserMessagingStandIn, 'setOutcome' | 'waitForSent'>;
  queueUrl: string;
  taskQueue: string;
  count: number;
  progress: Progress;
}): Promise<ReceiptsResult> {
  const { fleet, standIn, queueUrl, taskQueue, count, progress } = params;
  const phones = fleet.phones.take(count);
  let delivered = 0;
  const asks = await mapConcurrently(phones, CONCURRENCY, async (phone) => {
    const { askId } = await fleet.asks.start({ to: phone, question: QUESTION, options: ['Yes', 'No'], timeout: '24h' });
    const sent = await standIn.waitForSent((m) => m.destinationPhoneNumber === phone, WAIT_MS);
    const state = await until(fleet, askId, (s) => s.events.some((e) => e.type === 'delivered'));
    const recordedAt = Date.parse(state.events.find((e) => e.type === 'delivered')!.at);
    progress.update(`delivered ${++delivered}/${count}`);
    const yesCode = /Yes \((\d+)\)/.exec(sent.input.MessageBody ?? '')?.[1] ?? '';
    return {
      ask: { askId, phone, yesCode } satisfies PendingAsk,
      sendToDelivered: recordedAt - sent.timestamp,
      eventToRecorded: recordedAt - Date.parse(state.recipients[0]!.delivery!.at),
    };
  });

  // What the asks cost until delivered, then what answering each costs, with receipts on.
  const before = await costSoFar(
    fleet.client,
    taskQueue,
    asks.map((a) => a.ask),
  );
  progress.update('answering');
  await mapConcurrently(asks, CONCURRENCY, (a) => sendReply(fleet, queueUrl, a.ask));
  await mapConcurrently(asks, CONCURRENCY, (a) => fleet.asks.result(a.ask.askId));
  await sleep(SETTLE_MS); // the recipients' last tasks, and the feedback SMS's events
  const after = await costSoFar(
    fleet.client,
    taskQueue,
    asks.map((a) => a.ask),
  );

  let escalated = 0;
  const tiers = Array.from({ length: Math.min(count, 20) }, () => fleet.phones.take(2) as [string, string]);
  const failures = await mapConcurrently(tiers, CONCURRENCY, async ([oncall, lead]) => {
    standIn.setOutcome(oncall, ['TEXT_BLOCKED']);
    const { askId } = await fleet.asks.start({
      to: oncall,
      question: QUESTION,
      policy: { timeout: '1h', escalation: [{ after: '30m', to: lead }] },
    });
    const leadSent = await standIn.waitForSent((m) => m.destinationPhoneNumber === lead, WAIT_MS);
    const state = await until(fleet, askId, (s) => s.recipients[0]?.delivery?.status === 'undelivered');
    await fleet.asks.cancel(askId, { by: 'bench', reason: 'benchmark clean-up' });
    progress.update(`escalated ${++escalated}/${tiers.length}`);
    return leadSent.timestamp - Date.parse(state.recipients[0]!.delivery!.at);
  });

  const result: ReceiptsResult = {
    asks: count,
    sendToDelivered: summarize(asks.map((a) => a.sendToDelivered)),
    eventToRecorded: summarize(asks.map((a) => a.eventToRecorded)),
    failureToNextTier: summarize(failures),
    eventDelayMs: DEFAULT_EVENT_DELAY_MS,
    costs: { sample: count, perAsk: per(before, count), perReply: per(after, count, before) },
  };
  progress.done(
    `send → delivered recorded p50 ${result.sendToDelivered.p50} ms; blocked → next tier p50 ${result.failureToNextTier.p50} ms`,
  );
  return result;
}

async function until(fleet: Fleet, askId: string, done: (state: AskState) => boolean): Promise<AskState> {
  const giveUpAt = Date.now() + WAIT_MS;
  for (;;) {
    const state = await fleet.asks.status(askId);
    if (done(state)) return state;
    if (Date.now() > giveUpAt) throw new Error(`ask ${askId}: what the receipts run waits for did not happen in time`);
    await sleep(50);
  }
}
