/**
 * The limit of the stack: a workflow that waits for one signal and completes. A reply cannot cost
 * less than this (one signal, one workflow task, one completion).
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';

export const doneSignal = defineSignal('done');
export const readyQuery = defineQuery<boolean>('ready');

export async function signalToCompleteWorkflow(): Promise<void> {
  let done = false;
  setHandler(doneSignal, () => void (done = true));
  setHandler(readyQuery, () => true);
  await condition(() => done);
}
