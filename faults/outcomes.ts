/** What became of each reply of a scenario, read from the asks' results and the SMS the emulator recorded. */
import { setMaxListeners } from 'node:events';
import type { Fleet, PendingAsk } from '../bench/fleet';
import { mapConcurrently } from '../bench/pool';
import { sentSms } from './asks';
import type { AskState } from '../src/workflows/definitions';

export interface ScenarioResult {
  scenario: string;
  seconds: number;
  /** Every reply put on the queue. */
  sent: number;
  /** From the first reply offered to the last one the queue took. */
  loadSeconds: number;
  /** Of those, replies from phones with nothing pending (routed to Temporal, which finds no workflow). */
  fromStrangers: number;
  /** Replies to a pending ask that answered it. */
  answered: number;
  /** Replies to a pending ask that never answered it by the end of the drain. */
  lost: number;
  /** A reply handled a second time: the ask saw it twice, or the phone was told it came too late. */
  answeredTwice: number;
  /** Answered, but not with the option and phone of the reply. */
  misrouted: number;
  /** The same SMS text sent to the same phone more than once (extra copies). */
  smsTwice: number;
  dlq: number;
  workerRestarts: number;
  faultsInjected: number;
}

const RESULT_CONCURRENCY = 50;

/** Waits (server side) for each ask's result until `deadline`; an ask still open then is read by status. */
export async function collectOutcomes(
  fleet: Fleet,
  asks: readonly PendingAsk[],
  deadline: number,
  report: (line: string) => void,
): Promise<Map<string, AskState>> {
  const giveUp = AbortSignal.timeout(Math.max(deadline - Date.now(), 0));
  setMaxListeners(RESULT_CONCURRENCY + 10, giveUp);
  const states = new Map<string, AskState>();
  await mapConcurrently(asks, RESULT_CONCURRENCY, async (ask) => {
    for (;;) {
      try {
        states.set(ask.askId, await fleet.client.withAbortSignal(giveUp, () => fleet.asks.result(ask.askId)));
        report(`${states.size}/${asks.length} asks ended`);
        return;
      } catch (err) {
        if (giveUp.aborted) break;
        // The server may be restarting; ask again.
        report(`waiting for results: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
    states.set(ask.askId, await fleet.asks.status(ask.askId));
  });
  return states;
}

const LATE_OR_WRONG = [/^That question has already closed/, /^Sorry, that reply/];

export async function tally(
  fleet: Fleet,
  scenario: string,
  seconds: number,
  asks: readonly PendingAsk[],
  states: Map<string, AskState>,
): Promise<ScenarioResult> {
  const phones = new Map(asks.map((ask) => [ask.phone, ask]));
  const texts = new Map<string, Map<string, number>>();
  const toldLateOrWrong = new Set<string>();
  for (const sms of await sentSms(fleet)) {
    if (!phones.has(sms.phoneNumber)) continue;
    const byText = texts.get(sms.phoneNumber) ?? new Map<string, number>();
    byText.set(sms.message, (byText.get(sms.message) ?? 0) + 1);
    texts.set(sms.phoneNumber, byText);
    if (LATE_OR_WRONG.some((pattern) => pattern.test(sms.message))) toldLateOrWrong.add(sms.phoneNumber);
  }
  let smsTwice = 0;
  for (const byText of texts.values()) for (const n of byText.values()) smsTwice += Math.max(n - 1, 0);

  let answered = 0;
  let lost = 0;
  let misrouted = 0;
  let answeredTwice = 0;
  for (const ask of asks) {
    const state = states.get(ask.askId);
    const answer = state?.answer;
    if (!answer) lost++;
    else if (answer.via !== 'sms' || answer.by !== ask.phone || answer.option !== 'Yes') misrouted++;
    else answered++;
    const received = state?.events.filter((event) => event.type === 'reply_received').length ?? 0;
    if (received > 1 || toldLateOrWrong.has(ask.phone)) answeredTwice++;
  }
  return {
    scenario,
    seconds,
    sent: asks.length,
    loadSeconds: 0,
    fromStrangers: 0,
    answered,
    lost,
    answeredTwice,
    misrouted,
    smsTwice,
    dlq: 0,
    workerRestarts: 0,
    faultsInjected: 0,
  };
}
