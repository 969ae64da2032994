/** A workflow that does nothing but note, in workflow time, when each signal reached it. */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';

export const pingSignal = defineSignal('ping');
export const stopSignal = defineSignal('stop');
export const pingsQuery = defineQuery<number[]>('pings');

export async function signalFloorWorkflow(): Promise<void> {
  const pings: number[] = [];
  let stopped = false;
  setHandler(pingSignal, () => void pings.push(Date.now()));
  setHandler(stopSignal, () => void (stopped = true));
  setHandler(pingsQuery, () => pings);
  await condition(() => stopped);
}
