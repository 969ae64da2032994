/**
 * Policies carried out by the real worker on the dev server, with second-scale timings; the
 * same rules over days are in ask-log.test.ts. Assertions are on what people see: the SMS
 * moto received, the result and the event log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSentSms } from '../../src/local-stack/phone-simulator';
import type { AskState } from '../../src/workflows/definitions';
import { deliverReply, eventually, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

let worker: TestWorker;

beforeAll(async () => {
  worker = await startTestWorker();
});
afterAll(async () => {
  await worker?.stop();
});

/** The SMS texts a phone has received so far, oldest first. */
async function inbox(phone: string): Promise<string[]> {
  return (await listSentSms(sharedStack().awsEndpoint)).filter((m) => m.phoneNumber === phone).map((m) => m.message);
}

/** Waits until the phone has received `count` SMS, and returns them. */
async function inboxOf(phone: string, count: number, timeoutMs = 15_000): Promise<string[]> {
  return eventually(async () => {
    const texts = await inbox(phone);
    return texts.length >= count ? texts : undefined;
  }, `${count} SMS to ${phone}`, timeoutMs);
}

function codeIn(sms: string, option: string): string {
  const code = new RegExp(`${option} \\((\\d+)\\)`).exec(sms)?.[1];
  if (!code) throw new Error(`no code for ${option} in: ${sms}`);
  return code;
}

const masked = (phone: string) => `…${phone.slice(-4)}`;

describe('ask policies on the worker', () => {
  it('reminds max times with the same codes, then times out to the default and tells the recipient', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Reboot db-2?', policy: { timeout: '4s', reminders: { every: '1s', max: 2 }, onTimeout: { answer: 'No' } } });
    const result = await worker.asks.result(askId);
    expect(result).toMatchObject({ status: 'answered', remindersSent: 2, answer: { option: 'No', via: 'default' } });
    const texts = await inboxOf(phone, 4);
    const question = texts[0]!;
    expect(texts).toEqual([question, `Reminder: ${question}`, `Reminder: ${question}`, 'Closed: Reboot db-2? (Expired; answer: No)']);
  });

  it('escalates in order to the next tier, tells the first tier, and takes the second tier\'s answer', async () => {
    const [oncall, lead] = [newPhone(), newPhone()];
    const { askId } = await worker.asks.start({
      to: oncall,
      question: 'Disable VPN for jdoe?',
      policy: { timeout: '30s', escalation: [{ after: '2s', to: lead, message: 'Escalated: on-call did not answer.' }] },
    });
    const [leadQuestion] = await inboxOf(lead, 1);
    expect(leadQuestion).toMatch(/^Escalated: on-call did not answer\.\nDisable VPN for jdoe\?\nYes \(\d+\) or No \(\d+\)$/);
    expect((await inboxOf(oncall, 2))[1]).toBe(`Escalated to ${masked(lead)} (no answer yet): Disable VPN for jdoe? Your codes still work.`);

    await deliverReply(worker, lead, codeIn(leadQuestion!, 'No'));
    const result = await worker.asks.result(askId);
    expect(result).toMatchObject({ tier: 1, answer: { option: 'No', via: 'sms', by: lead } });
    expect((await inboxOf(oncall, 3))[2]).toBe(`Closed: Disable VPN for jdoe? (Answered by ${masked(lead)}: No)`);
  });

  it('starts the next tier at once when a recipient texts STOP', async () => {
    const [oncall, lead] = [newPhone(), newPhone()];
    const { askId } = await worker.asks.start({ to: oncall, question: 'Wipe laptop-9?', policy: { timeout: '1h', escalation: [{ after: '30m', to: lead }] } });
    await inboxOf(oncall, 1);
    await deliverReply(worker, oncall, 'STOP');
    await inboxOf(lead, 1, 5_000);
    const state = await worker.asks.status(askId);
    expect(state.events.map((e) => e.type)).toEqual(expect.arrayContaining(['opted_out', 'escalated']));
    await worker.asks.cancel(askId, { by: 'test', reason: 'done' });
  });

  it('with a quorum of 2, ends on the second matching answer and lists every answer', async () => {
    const phones = [newPhone(), newPhone(), newPhone()];
    const { askId } = await worker.asks.start({ to: phones, question: 'Rotate the root key?', policy: { responders: { quorum: 2 }, timeout: '1h' } });
    const questions = await Promise.all(phones.map((p) => inboxOf(p, 1)));
    await deliverReply(worker, phones[0]!, codeIn(questions[0]![0]!, 'Yes'));
    await deliverReply(worker, phones[1]!, codeIn(questions[1]![0]!, 'No'));
    await eventually(async () => ((await worker.asks.status(askId)).recipients.filter((r) => r.answer).length === 2 ? true : undefined), 'two votes');
    expect((await worker.asks.status(askId)).status).toBe('waiting');
    await deliverReply(worker, phones[2]!, codeIn(questions[2]![0]!, 'Yes'));
    const result = await worker.asks.result(askId);
    expect(result.answer).toMatchObject({ option: 'Yes', via: 'sms', by: phones[2] });
    expect(result.recipients.map((r) => r.answer?.option)).toEqual(['Yes', 'No', 'Yes']);
  });

  it('with all, ends undecided on the default as soon as two answers differ', async () => {
    const phones = [newPhone(), newPhone()];
    const { askId } = await worker.asks.start({ to: phones, question: 'Ship hotfix 7?', defaultAnswer: 'No', policy: { responders: 'all' } });
    const questions = await Promise.all(phones.map((p) => inboxOf(p, 1)));
    await deliverReply(worker, phones[0]!, codeIn(questions[0]![0]!, 'Yes'));
    await deliverReply(worker, phones[1]!, codeIn(questions[1]![0]!, 'No'));
    const result: AskState = await worker.asks.result(askId);
    expect(result.answer).toMatchObject({ option: 'No', via: 'default' });
    expect(result.events.map((e) => e.type)).toContain('undecided');
  });

  it('extends the deadline, and refuses with the reason once the ask has ended', async () => {
    const { askId } = await worker.asks.start({ to: newPhone(), question: 'Keep the change window open?', timeout: '2s' });
    const extended = await worker.asks.extend(askId, { extendBy: '3s', by: 'alice', reason: 'vendor is late' });
    expect(Date.parse(extended.deadline) - Date.parse(extended.startedAt)).toBe(5_000);
    const result = await worker.asks.result(askId);
    expect(Date.parse(result.endedAt!) - Date.parse(result.startedAt)).toBeGreaterThanOrEqual(5_000);
    expect(result.events.find((e) => e.type === 'extended')).toMatchObject({ by: 'alice', detail: expect.stringContaining('vendor is late') });
    await expect(worker.asks.extend(askId, { extendBy: '1h', by: 'alice' })).rejects.toThrow(/already ended \(timed_out\)/);
  });

  it('refuses to move the deadline earlier, saying why', async () => {
    const { askId } = await worker.asks.start({ to: newPhone(), question: 'Pause backups?', timeout: '1h' });
    await expect(worker.asks.extend(askId, { until: new Date(Date.now() + 60_000), by: 'alice' })).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/is not later than the current deadline .*answer or cancel it/) },
    });
    await worker.asks.cancel(askId);
  });

  it('re-sends the question now, and a cancel with a reason tells every recipient', async () => {
    const phones = [newPhone(), newPhone()];
    const { askId } = await worker.asks.start({ to: phones, question: 'Block ASN 64500?', timeout: '1h' });
    const [first] = await inboxOf(phones[0]!, 1);
    await worker.asks.resend(askId, { by: 'bob', reason: 'phone was off' });
    expect((await inboxOf(phones[0]!, 2))[1]).toBe(`Reminder: ${first}`);
    await worker.asks.cancel(askId, { by: 'alice', reason: 'false positive' });
    for (const phone of phones) expect((await inboxOf(phone, 3))[2]).toBe('Closed: Block ASN 64500? (Cancelled: false positive)');
    const events = (await worker.asks.result(askId)).events;
    expect(events.filter((e) => e.by).map((e) => [e.type, e.by, e.detail])).toEqual([
      ['resent', 'bob', 'phone was off'],
      ['cancelled', 'alice', 'false positive'],
    ]);
  });

  it('keeps its schedule through a worker restart mid-wait', async () => {
    const [oncall, lead] = [newPhone(), newPhone()];
    const first = await startTestWorker();
    const { askId } = await first.asks.start({ to: oncall, question: 'Restart-proof escalation?', policy: { timeout: '1m', escalation: [{ after: '3s', to: lead }] } });
    await inboxOf(oncall, 1);
    await first.stop();
    const second = await startTestWorker({ taskQueue: first.taskQueue });
    try {
      const [question] = await inboxOf(lead, 1, 20_000);
      await deliverReply(second, lead, codeIn(question!, 'Yes'));
      expect((await second.asks.result(askId)).answer).toMatchObject({ option: 'Yes', by: lead });
    } finally {
      await second.stop();
    }
  });
});
