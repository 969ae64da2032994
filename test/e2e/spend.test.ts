/** Misleading text and spend limits end to end: real worker, Temporal dev server and moto, through the HTTP API and straight from Temporal. */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsSendError } from '../../src/aws/sns-errors';
import { listSentSms } from '../../src/local-stack/phone-simulator';
import { dailySpendWorkflowId } from '../../src/workflows/definitions';
import { eventually, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';
import { startTestApi } from '../support/http';
import type { TestApi } from '../support/http';

const KEY = `op-${randomUUID()}`;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => {
  worker = await startTestWorker({ askSegmentBudget: 3 });
  api = await startTestApi(worker, { httpApiKeys: [{ name: 'playbook', scope: 'operate', key: KEY }] });
});
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

const smsTo = async (phone: string) =>
  (await listSentSms(sharedStack().awsEndpoint)).filter((m) => m.phoneNumber === phone);

describe('text that misleads, refused', () => {
  it('answers 400 naming the field for hidden characters, look-alike options, too many segments and a foreign country', async () => {
    const phone = newPhone();
    const bidi = await api.call('POST', '/v1/asks', {
      key: KEY,
      body: { to: phone, question: 'Isolate WS-042?', options: ['Yes', 'N\u202eo'] },
    });
    expect(bidi.status).toBe(400);
    expect(bidi.body.problems).toEqual([
      { field: 'options[1]', message: expect.stringMatching(/U\+202E .*bidi control/) },
    ]);

    const alike = await api.call('POST', '/v1/asks', {
      key: KEY,
      body: { to: phone, question: 'Keep WS-042?', options: ['Keep', 'Кеер'] },
    });
    expect(alike.status).toBe(400);
    expect(alike.body.problems).toEqual([
      { field: 'options[1]', message: expect.stringMatching(/looks the same as options\[0\] "Keep"/) },
    ]);

    const long = await api.call('POST', '/v1/asks', {
      key: KEY,
      body: { to: phone, question: `It’s beaconing. ${'Details follow. '.repeat(40)}` },
    });
    expect(long.status).toBe(400);
    expect(long.body.problems[0].message).toMatch(/\d+ segments \(UCS-2 .*U\+2019.*at most 8 per SMS/);

    const abroad = await api.call('POST', '/v1/asks', {
      key: KEY,
      body: { to: '+33612345678', question: 'Isolate WS-042?' },
    });
    expect(abroad.status).toBe(400);
    expect(abroad.body.problems).toEqual([
      { field: 'to[0]', message: expect.stringMatching(/\+33612345678 is in FR/) },
    ]);

    const oneWay = await api.call('POST', '/v1/sms', {
      key: KEY,
      body: { to: '+33612345678', message: 'Maintenance\u200b tonight' },
    });
    expect(oneWay.status).toBe(400);
    expect(oneWay.body.problems.map((p: { field: string }) => p.field).sort()).toEqual(['message', 'to']);
    expect(await smsTo(phone)).toEqual([]);
  });

  it('fails an ask started straight from Temporal with hidden characters, validated or not, and sends nothing', async () => {
    const phone = newPhone();
    const validated = {
      entitlement: randomUUID(),
      recipients: [phone],
      question: 'Isolate WS-042?',
      options: ['Yes', 'No\u200b'],
      policy: {
        timeout: 60_000,
        escalation: [],
        responders: 'any',
        acceptLabels: false,
        onTimeout: {},
        notify: { escalation: true, outcome: true },
      },
      policyName: 'default',
      context: {},
    };
    const direct = worker.client.workflow.execute('askWorkflow', {
      workflowId: `ask/${randomUUID()}`,
      taskQueue: worker.taskQueue,
      args: [{ validated }],
    });
    await expect(direct).rejects.toThrow(WorkflowFailedError);
    await direct.catch((err: WorkflowFailedError) => expect(err.cause?.message).toMatch(/options\[1\]: holds U\+200B/));

    const plain = worker.client.workflow.execute('askWorkflow', {
      workflowId: `ask/${randomUUID()}`,
      taskQueue: worker.taskQueue,
      args: [{ to: phone, question: 'Isolate \u202eWS-042?' }],
    });
    await plain.catch((err: WorkflowFailedError) => expect(err.cause?.message).toMatch(/question: holds U\+202E/));
    await expect(plain).rejects.toThrow(WorkflowFailedError);
    expect(await smsTo(phone)).toEqual([]);
  });
});

describe('spend without bound, bounded', () => {
  it("refuses an operator's re-send once the ask's segment budget is spent, and skips the outcome SMS with a logged reason", async () => {
    const phone = newPhone();
    const started = await api.call('POST', '/v1/asks', { key: KEY, body: { to: phone, question: 'Isolate WS-042?' } });
    expect(started.status).toBe(201);
    const id = started.body.entitlement as string;
    // Budget 3: the question and two re-sends, one segment each.
    for (let i = 0; i < 2; i++)
      expect((await api.call('POST', `/v1/asks/${id}/resend`, { key: KEY, body: {} })).status).toBe(200);
    const refused = await api.call('POST', `/v1/asks/${id}/resend`, { key: KEY, body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/Cannot re-send: .* takes 1 segment\(s\), and the ask has 0 left of its 3/);
    await eventually(
      async () => ((await smsTo(phone)).length === 3 ? true : undefined),
      'the question and two re-sends',
    );
    const cancelled = await api.call('POST', `/v1/asks/${id}/cancel`, { key: KEY, body: { reason: 'done' } });
    expect(cancelled.status).toBe(200);
    const state = await worker.asks.result(started.body.askId as string);
    expect(state.segments).toEqual({ spent: 3, budget: 3 });
    expect(state.events).toContainEqual(
      expect.objectContaining({
        type: 'send_skipped',
        phone,
        detail: expect.stringMatching(/outcome feedback not sent/),
      }),
    );
    expect(await smsTo(phone)).toHaveLength(3);
  });

  it("sends one-way SMS through the worker's queue with an audit record, and stops at the day's budget, across a worker restart", async () => {
    const day = await startTestWorker({ dailySegmentBudget: 2 });
    const dayApi = await startTestApi(day, { httpApiKeys: [{ name: 'playbook', scope: 'operate', key: KEY }] });
    const phone = newPhone();
    try {
      const first = await dayApi.call('POST', '/v1/sms', {
        key: KEY,
        body: { to: phone, message: 'Maintenance tonight' },
      });
      expect(first.status).toBe(201);
      const audit = await day.client.workflow.getHandle(first.body.smsId).describe();
      expect(audit.type).toBe('oneWaySmsWorkflow');
      expect(audit.memo).toEqual({ sms: { by: 'playbook' } });
      // Every SMS waits on the day's lease: it must never queue behind a burst of new asks.
      const today = new Date().toISOString().slice(0, 10);
      const spend = await day.client.workflow.getHandle(dailySpendWorkflowId(day.taskQueue, today)).describe();
      expect(spend.priority?.priorityKey).toBe(1);
      expect(
        (await dayApi.call('POST', '/v1/sms', { key: KEY, body: { to: phone, message: 'Second notice' } })).status,
      ).toBe(201);
    } finally {
      await dayApi.close();
      await day.stop();
    }
    // A new worker on the same task queue finds the day spent: the budget lives in Temporal, not in a worker.
    const again = await startTestWorker({ taskQueue: day.taskQueue, dailySegmentBudget: 2 });
    const againApi = await startTestApi(again, { httpApiKeys: [{ name: 'playbook', scope: 'operate', key: KEY }] });
    try {
      const third = await againApi.call('POST', '/v1/sms', { key: KEY, body: { to: phone, message: 'Third notice' } });
      expect(third.status).toBe(429);
      expect(third.body.message).toMatch(/SMS budget for today \(2 segments/);
      await expect(again.asks.sendSms({ to: phone, message: 'Fourth', by: 'test' })).rejects.toThrow(SmsSendError);
      expect((await smsTo(phone)).map((m) => m.message)).toEqual(['Maintenance tonight', 'Second notice']);
    } finally {
      await againApi.close();
      await again.stop();
    }
  });

  it("charges an ask's question and its last notice to one lease of the day's budget per worker", async () => {
    // The question goes out on the SMS queue, the outcome within the task that ends the ask: one worker, one lease.
    const day = await startTestWorker({ dailySegmentBudget: 2 });
    const phone = newPhone();
    try {
      const { askId } = await day.asks.start({ to: phone, question: 'Isolate WS-042?', timeout: '10m' });
      await eventually(async () => ((await smsTo(phone)).length === 1 ? true : undefined), 'the question');
      await day.asks.cancel(askId, { by: 'test', reason: 'done' });
      await day.asks.result(askId);
      await eventually(async () => ((await smsTo(phone)).length === 2 ? true : undefined), 'the outcome SMS');
      const today = new Date().toISOString().slice(0, 10);
      const history = await day.client.workflow.getHandle(dailySpendWorkflowId(day.taskQueue, today)).fetchHistory();
      const leases = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      expect(leases).toHaveLength(1);
    } finally {
      await day.stop();
    }
  });
});
