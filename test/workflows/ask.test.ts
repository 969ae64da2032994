import crypto from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AskEndedError } from '../../src/client/sms-ask-client';
import { listSentSms, waitForSms } from '../../src/local-stack/phone-simulator';
import { deliverySignal, pendingAsksQuery, recipientWorkflowId, registerUpdate } from '../../src/workflows/definitions';
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

/** Waits until the ask's SMS went out, so its codes are known. */
async function sentAsk(askId: string): Promise<AskState> {
  return eventually(async () => {
    const state = await worker.asks.status(askId);
    return state.events.some((e) => e.type === 'sent') ? state : undefined;
  }, `the SMS of ${askId}`);
}

function codeFor(state: AskState, phone: string, option: string): string {
  const code = state.recipients.find((r) => r.phone === phone)?.codes.find((c) => c.option === option)?.code;
  if (!code) throw new Error(`no code for ${option} to ${phone}`);
  return code;
}

describe('ask workflow', () => {
  it('ends as timed_out, with no answer, when nobody replies and there is no default, and tells the recipient', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Reboot db-1?', timeout: '2s' });
    const result = await worker.asks.result(askId);
    expect(result.status).toBe('timed_out');
    expect(result.answer).toBeUndefined();
    expect(result.events.map((e) => e.type)).toEqual(['sent', 'timed_out', 'feedback_sent']);
    await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === phone && m.message === 'Closed: Reboot db-1? (Expired)',
    );
  });

  it('answers with the default, and says so, when the timeout fires', async () => {
    const { askId } = await worker.asks.start({
      to: newPhone(),
      question: 'Block IP 203.0.113.9?',
      options: ['Block', 'Allow'],
      timeout: '2s',
      defaultAnswer: 'allow',
    });
    const result = await worker.asks.result(askId);
    expect(result.status).toBe('answered');
    expect(result.answer).toMatchObject({ option: 'Allow', optionIndex: 1, via: 'default', by: 'default' });
  });

  it('keeps an XSOAR entitlement as given, and finds the ask by it', async () => {
    const entitlement = `${crypto.randomUUID()}@1042|7`;
    const { askId } = await worker.asks.start({
      to: newPhone(),
      question: 'Escalate 1042?',
      timeout: '1h',
      entitlement,
      context: { task: '7' },
    });
    expect(askId).toBe(`ask/${entitlement}`);
    const state = await worker.asks.status(entitlement);
    expect(state).toMatchObject({ entitlement, context: { task: '7' } });
    await worker.asks.cancel(entitlement);
  });

  it('takes an operator answer, and refuses a second one once the ask has ended', async () => {
    const { askId } = await worker.asks.start({ to: newPhone(), question: 'Disable user jdoe?', timeout: '1h' });
    await sentAsk(askId);
    const state = await worker.asks.answer(askId, '2', 'alice', 'called the user');
    expect(state.answer).toMatchObject({ option: 'No', via: 'manual', by: 'alice' });
    expect((await worker.asks.result(askId)).status).toBe('answered');
    await expect(worker.asks.answer(askId, 'Yes', 'bob')).rejects.toThrow(/already ended \(answered\)/);
  });

  it('refuses an operator answer that is not one of the options, and keeps waiting', async () => {
    const { askId } = await worker.asks.start({ to: newPhone(), question: 'Rotate keys?', timeout: '1h' });
    await sentAsk(askId);
    const refused = worker.asks.answer(askId, 'Maybe', 'alice');
    await expect(refused).rejects.toMatchObject({
      cause: { message: expect.stringContaining('"Maybe" is not an option') },
    });
    expect((await worker.asks.status(askId)).status).toBe('waiting');
    await worker.asks.cancel(askId);
  });

  it('cancels with a reason, frees the codes, and refuses to cancel twice', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Quarantine laptop-7?', timeout: '1h' });
    await sentAsk(askId);
    const state = await worker.asks.cancel(askId, { by: 'alice', reason: 'false positive' });
    expect(state).toMatchObject({ status: 'cancelled', cancelReason: 'false positive' });
    await worker.asks.result(askId);
    const recipient = worker.client.workflow.getHandle(recipientWorkflowId(worker.taskQueue, phone));
    await eventually(
      async () => ((await recipient.query(pendingAsksQuery)).length === 0 ? true : undefined),
      'codes freed',
    );
    await expect(worker.asks.cancel(askId)).rejects.toThrow(AskEndedError);
  });

  it('routes two asks to one phone by their codes, which never collide', async () => {
    const phone = newPhone();
    const first = await worker.asks.start({ to: phone, question: 'Isolate WS-1?', timeout: '1h' });
    const second = await worker.asks.start({ to: phone, question: 'Isolate WS-2?', timeout: '1h' });
    const [a, b] = await Promise.all([sentAsk(first.askId), sentAsk(second.askId)]);
    const codes = [...a.recipients[0]!.codes, ...b.recipients[0]!.codes].map((c) => c.code);
    expect(new Set(codes).size).toBe(4);

    await deliverReply(worker, phone, `ok ${codeFor(b, phone, 'No')}`);
    const answered = await worker.asks.result(second.askId);
    expect(answered.answer).toMatchObject({ option: 'No', via: 'sms', by: phone, code: codeFor(b, phone, 'No') });
    expect((await worker.asks.status(first.askId)).status).toBe('waiting');

    await deliverReply(worker, phone, codeFor(a, phone, 'Yes'));
    expect((await worker.asks.result(first.askId)).answer?.option).toBe('Yes');
  });

  it('accepts an option label as the reply when the policy accepts labels and the phone has exactly one pending ask', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({
      to: phone,
      question: 'Approve change CHG-9?',
      options: ['Approve', 'Reject'],
      timeout: '1h',
      policy: { acceptLabels: true },
    });
    await sentAsk(askId);
    await deliverReply(worker, phone, ' reject. ');
    expect((await worker.asks.result(askId)).answer).toMatchObject({ option: 'Reject', via: 'sms' });
  });

  it('does not take a bare option label as the answer by default, and lists the codes instead', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({
      to: phone,
      question: 'Approve change CHG-10?',
      options: ['Approve', 'Reject'],
      timeout: '1h',
    });
    const state = await sentAsk(askId);
    await deliverReply(worker, phone, 'Approve');
    const failure = await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === phone && m.message.startsWith('Sorry'),
    );
    expect(failure.message).toContain(`${codeFor(state, phone, 'Approve')} (Approve)`);
    expect((await worker.asks.status(askId)).status).toBe('waiting');
    await worker.asks.cancel(askId);
  });

  it('rejects a registration when the phone has no reply code left, and its workflow stays healthy', async () => {
    const phone = newPhone();
    const workflowId = recipientWorkflowId(worker.taskQueue, phone);
    // 899 of the 900 three-digit codes held by one pending ask: an ask with two options cannot get codes.
    const held = Array.from({ length: 899 }, (_, i) => ({ option: `o${i}`, code: String(100 + i) }));
    const state = {
      pending: [{ askId: 'ask/full', question: 'Q?', options: held.map((c) => c.option), codes: held }],
      recentlyEnded: [],
      recentDedupeKeys: [],
      nextSequential: 1,
      optedOut: false,
    };
    const handle = await worker.client.workflow.start('recipientWorkflow', {
      workflowId,
      taskQueue: worker.taskQueue,
      args: [{ phone, state }],
    });
    const register = worker.client.workflow.executeUpdateWithStart(registerUpdate, {
      args: [{ askId: 'ask/one-more', question: 'Q?', options: ['Yes', 'No'], codeMode: 'random', codeLength: 3 }],
      startWorkflowOperation: new WithStartWorkflowOperation('recipientWorkflow', {
        workflowId,
        taskQueue: worker.taskQueue,
        args: [{ phone }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
    const refused = await register.catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(/No free 3-digit reply code/);
    expect(await handle.query(pendingAsksQuery)).toHaveLength(1);
    const { events } = await handle.fetchHistory();
    expect(events?.some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
    await handle.terminate('test done');
  });

  it('sends the success feedback, then "expired" to a reply that comes after the end', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Lock account mk?', timeout: '1h' });
    const state = await sentAsk(askId);
    await deliverReply(worker, phone, codeFor(state, phone, 'Yes'));
    const result = await worker.asks.result(askId);
    expect(result.events.map((e) => e.type)).toEqual(['sent', 'reply_received', 'answered', 'feedback_sent']);
    await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === phone && m.message === 'Got it: Yes for Lock account mk?',
    );

    await deliverReply(worker, phone, codeFor(state, phone, 'No'));
    await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone && m.message.includes('already closed'));
  });

  it('lists the active codes when a reply matches none of them', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Purge cache?', timeout: '1h' });
    const state = await sentAsk(askId);
    await deliverReply(worker, phone, 'what?');
    const failure = await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === phone && m.message.startsWith('Sorry'),
    );
    expect(failure.message).toContain(`${codeFor(state, phone, 'Yes')} (Yes)`);
    expect((await worker.asks.status(askId)).status).toBe('waiting');
    await worker.asks.cancel(askId);
  });

  it('answers a duplicate delivery of one reply only once', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Kill process 4242?', timeout: '1h' });
    const state = await sentAsk(askId);
    const duplicateId = `dup-${askId}`;
    await deliverReply(worker, phone, codeFor(state, phone, 'Yes'), duplicateId);
    await deliverReply(worker, phone, codeFor(state, phone, 'Yes'), duplicateId);
    const result = await worker.asks.result(askId);
    expect(result.events.filter((e) => e.type === 'reply_received')).toHaveLength(1);
    // No "expired" reply to the duplicate either: only the question and one success feedback.
    await new Promise((r) => setTimeout(r, 500));
    expect((await listSentSms(sharedStack().awsEndpoint)).filter((m) => m.phoneNumber === phone)).toHaveLength(2);
  });

  it('lists a recipient whose question was blocked as undelivered, and keeps waiting for the other', async () => {
    const [blocked, other] = [newPhone(), newPhone()];
    const { askId } = await worker.asks.start({ to: [blocked, other], question: 'Wipe device?', timeout: '1h' });
    const sent = await eventually(async () => {
      const state = await worker.asks.status(askId);
      return state.recipients.length === 2 && state.recipients.every((r) => r.messageId) ? state : undefined;
    }, `the SMS of ${askId}`);
    await worker.client.workflow.getHandle(askId).signal(deliverySignal, {
      messageId: sent.recipients.find((r) => r.phone === blocked)!.messageId!,
      eventType: 'TEXT_BLOCKED',
      status: 'undelivered',
      isFinal: true,
      destination: blocked,
      at: new Date().toISOString(),
      reason: 'Blocked as spam by phone carrier',
      askId,
      kind: 'question',
    });
    const [row] = await eventually(async () => {
      const rows = await worker.asks.listPending({ recipient: blocked }, { withCodes: true });
      return rows[0]?.undelivered.length ? rows : undefined;
    }, 'the undelivered recipient in pending');
    expect(row).toMatchObject({
      askId,
      undelivered: [blocked],
      delivery: { [blocked]: { status: 'undelivered', eventType: 'TEXT_BLOCKED' } },
    });
    expect((await worker.asks.status(askId)).status).toBe('waiting');
    await worker.asks.cancel(askId, { by: 'test', reason: 'done' });
  });

  it('falls to the default when the only recipient opts out with STOP', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({
      to: phone,
      question: 'Wipe device?',
      timeout: '1h',
      defaultAnswer: 'No',
    });
    await sentAsk(askId);
    worker.optOut(phone); // AWS lists the number as it receives the STOP
    await deliverReply(worker, phone, 'STOP');
    const result = await worker.asks.result(askId);
    expect(result.answer).toMatchObject({ option: 'No', via: 'default' });
    expect(result.recipients[0]!.optedOut).toBe(true);
    expect(result.events.map((e) => e.type)).toContain('opted_out');
  });

  it('ends as unreachable when the only recipient opts out and there is no default', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Wipe device?', timeout: '1h' });
    await sentAsk(askId);
    worker.optOut(phone);
    await deliverReply(worker, phone, 'unsubscribe');
    expect((await worker.asks.result(askId)).status).toBe('unreachable');
  });

  it('fails with a message saying what to fix when the number has opted out at SNS and nothing else can answer', async () => {
    // moto reports numbers ending in 99 as opted out.
    const { askId } = await worker.asks.start({ to: '+12065550199', question: 'Ping?', timeout: '1h' });
    const failure = await worker.asks.result(askId).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toMatch(/opted out.*START/s);
    const state = await worker.asks.status(askId);
    expect(state.status).toBe('unreachable');
    expect(state.events.map((e) => e.type)).toEqual(['send_failed']);
  });

  it('falls to its default at once, not at the timeout, when the only question was refused for good', async () => {
    const { askId } = await worker.asks.start({
      to: '+12065550199',
      question: 'Ping?',
      timeout: '1h',
      defaultAnswer: 'No',
    });
    const result = await worker.asks.result(askId);
    expect(result).toMatchObject({ status: 'answered', answer: { option: 'No', via: 'default' } });
    expect(Date.parse(result.endedAt!) - Date.parse(result.startedAt)).toBeLessThan(60_000);
    expect(result.events.map((e) => e.type)).toEqual(['send_failed', 'answered']);
  });
});
