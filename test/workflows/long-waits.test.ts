import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipientWorkflowId } from '../../src/workflows/definitions';
import { newPhone } from '../support/harness';
import { startTimeSkippingWorker } from '../support/time-skipping';
import type { TimeSkippingWorker } from '../support/time-skipping';

const DAY_MS = 24 * 3600 * 1000;
let worker: TimeSkippingWorker;

beforeAll(async () => {
  worker = await startTimeSkippingWorker();
});
afterAll(async () => {
  await worker?.stop();
});

// Days of workflow time on the time-skipping test server; the wall clock spends about a second.
describe('asks that wait for days', () => {
  it('answers with the default after a three-day timeout, not a moment before', async () => {
    const { askId } = await worker.asks.start({
      to: newPhone(),
      question: 'Rotate the root key?',
      timeout: '3d',
      defaultAnswer: 'No',
    });
    const result = await worker.asks.result(askId);
    expect(result.answer).toMatchObject({ option: 'No', via: 'default' });
    const answeredAt = Date.parse(result.events.find((e) => e.type === 'answered')!.at);
    expect(answeredAt - Date.parse(result.startedAt)).toBeGreaterThanOrEqual(3 * DAY_MS);
  });

  it('takes an operator answer given a day into a week-long wait', async () => {
    const { askId } = await worker.asks.start({
      to: newPhone(),
      question: 'Wipe laptop L-77?',
      timeout: '7d',
      defaultAnswer: 'No',
    });
    await worker.env.sleep('1d');
    await worker.asks.answer(askId, 'Yes', 'oncall-lead', 'confirmed by phone');
    const result = await worker.asks.result(askId);
    expect(result.answer).toMatchObject({ option: 'Yes', via: 'manual', by: 'oncall-lead' });
    const answeredAfter =
      Date.parse(result.events.find((e) => e.type === 'answered')!.at) - Date.parse(result.startedAt);
    expect(answeredAfter).toBeGreaterThanOrEqual(DAY_MS);
    expect(answeredAfter).toBeLessThan(7 * DAY_MS);
  });

  it("keeps a phone's recipient workflow a day after its last ask ended (for late replies), then ends it", async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({
      to: phone,
      question: 'Disable VPN for jdoe?',
      timeout: '2h',
      defaultAnswer: 'No',
    });
    const ended = Date.parse((await worker.asks.result(askId)).endedAt!);
    const recipient = worker.client.workflow.getHandle(recipientWorkflowId(worker.taskQueue, phone));
    await worker.env.sleep('23h');
    expect((await recipient.describe()).status.name).toBe('RUNNING');
    await recipient.result();
    const closed = (await recipient.describe()).closeTime!.getTime();
    expect(closed - ended).toBeGreaterThanOrEqual(DAY_MS);
    expect(closed - ended).toBeLessThan(DAY_MS + 3600 * 1000);
  });
});
