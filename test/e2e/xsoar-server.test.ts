/**
 * What the XSOAR pack relies on, end to end on the local stack (real worker, Temporal dev server,
 * moto): the ended-asks feed and its long poll, injected replies, and a callback's Authorization.
 */
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForSms } from '../../src/local-stack/phone-simulator';
import { pendingAsksQuery, recipientWorkflowId, webhookDeliveryId } from '../../src/workflows/definitions';
import type { AskFeedPage, AskState, PendingAskEntry } from '../../src/workflows/definitions';
import { deliverReply, eventually, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';
import { startTestApi, startWebhookReceiver } from '../support/http';
import type { TestApi } from '../support/http';

const OPERATE_KEY = `op-${randomUUID()}`;
const READ_KEY = `ro-${randomUUID()}`;
const WEBHOOK_SECRET = `whsec-${randomUUID()}`;
const AUTHORIZATION = `Basic ${Buffer.from(`xsoar:${randomUUID()}`).toString('base64')}`;

let worker: TestWorker;
let api: TestApi;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  // The worker holds the secret and the Authorization value; the API checks that a callback names them.
  worker = await startTestWorker({
    webhookSecrets: { soar: WEBHOOK_SECRET },
    webhookAuthorizations: { 'xsoar-hook': AUTHORIZATION },
  });
  receiver = await startWebhookReceiver();
  api = await startTestApi(worker, {
    httpApiKeys: [
      { name: 'xsoar-pack', scope: 'operate', key: OPERATE_KEY },
      { name: 'dashboard', scope: 'read', key: READ_KEY },
    ],
  });
});
afterAll(async () => {
  await api?.close();
  await receiver?.close();
  await worker?.stop();
});

const codeOf = (sms: string, label: string) => new RegExp(`${label} \\((\\d+)\\)`).exec(sms)![1]!;

async function startAsk(body: Record<string, unknown>): Promise<string> {
  const entitlement = `xsoar-${randomUUID()}@42|7`;
  const res = await api.call('POST', '/v1/asks', { key: OPERATE_KEY, body: { entitlement, ...body } });
  expect(res.status).toBe(201);
  return entitlement;
}

async function resultOf(entitlement: string) {
  const res = await api.call('GET', `/v1/asks/${encodeURIComponent(entitlement)}/result?wait=30`, { key: READ_KEY });
  expect(res.status).toBe(200);
  return res.body;
}

const feed = async (query: string): Promise<AskFeedPage> => {
  const res = await api.call('GET', `/v1/asks/feed${query}`, { key: READ_KEY });
  expect(res.status).toBe(200);
  return res.body as AskFeedPage;
};

describe('the ended-asks feed', () => {
  it('gives every ask started with feed once, in the order they ended, by cursor, without codes', async () => {
    // Before any ask with feed has ended, there is no feed yet: an empty page at the same cursor.
    expect(await feed('?after=5')).toEqual({ entries: [], next: '5', gap: false });

    const phone = newPhone();
    const bySms = await startAsk({
      to: phone,
      question: 'Isolate host WS-042?',
      options: ['Isolate', 'Leave'],
      timeout: '1h',
      context: { incident: '42' },
      feed: true,
    });
    const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone, 30_000);
    const codes = [codeOf(sms.message, 'Isolate'), codeOf(sms.message, 'Leave')];
    await deliverReply(worker, phone, `${codes[0]} thanks`);
    expect(await resultOf(bySms)).toMatchObject({ status: 'answered', answer: { via: 'sms' } });

    // Not started with feed: not in it.
    const unfed = await startAsk({ to: newPhone(), question: 'Reset the VPN?', timeout: '1h' });
    await api.call('POST', `/v1/asks/${encodeURIComponent(unfed)}/answer`, {
      key: OPERATE_KEY,
      body: { option: 'Yes' },
    });
    await resultOf(unfed);

    const byOperator = await startAsk({ to: newPhone(), question: 'Disable account jdoe?', timeout: '1h', feed: true });
    const answered = await api.call('POST', `/v1/asks/${encodeURIComponent(byOperator)}/answer`, {
      key: OPERATE_KEY,
      body: { option: 'No', reason: 'called in' },
    });
    expect(answered.status).toBe(200);
    await resultOf(byOperator);

    const timedOut = await startAsk({
      to: newPhone(),
      question: 'Block IP 10.0.0.7?',
      timeout: '2s',
      defaultAnswer: 'No',
      feed: true,
    });
    expect(await resultOf(timedOut)).toMatchObject({ status: 'answered', answer: { via: 'default' } });

    const first = await feed('?after=0&limit=2');
    expect(first.entries.map((e) => [e.seq, e.entitlement])).toEqual([
      [1, bySms],
      [2, byOperator],
    ]);
    expect(first.next).toBe('2');
    expect(first.gap).toBe(false);
    expect(first.entries[0]).toMatchObject({
      askId: `ask/${bySms}`,
      status: 'answered',
      answer: { option: 'Isolate', optionIndex: 0, via: 'sms', by: phone, at: expect.any(String) },
      question: 'Isolate host WS-042?',
      options: ['Isolate', 'Leave'],
      context: { incident: '42' },
      endedAt: expect.any(String),
    });
    expect(first.entries[1]).toMatchObject({
      status: 'answered',
      answer: { option: 'No', via: 'manual', by: 'xsoar-pack' },
    });

    const second = await feed(`?after=${first.next}`);
    expect(second.entries).toHaveLength(1);
    // As in the ask's result: a timeout that fell to the default answer is answered, via default.
    expect(second.entries[0]).toMatchObject({
      seq: 3,
      entitlement: timedOut,
      status: 'answered',
      answer: { option: 'No', via: 'default', by: 'default' },
    });
    expect(second.next).toBe('3');
    expect(await feed('?after=3')).toEqual({ entries: [], next: '3', gap: false });

    // No reply code anywhere in the feed, not even the one that answered.
    const all = await feed('');
    expect(all.entries).toHaveLength(3);
    const text = JSON.stringify(all);
    for (const code of codes) expect(text).not.toContain(code);
    expect(all.entries.some((e) => 'code' in (e.answer ?? {}))).toBe(false);
  });

  it('answers a long poll as soon as an ask ends', async () => {
    const before = await feed('');
    const entitlement = await startAsk({
      to: newPhone(),
      question: 'Quarantine the laptop?',
      timeout: '1h',
      feed: true,
    });
    const started = Date.now();
    const poll = api.call('GET', `/v1/asks/feed?after=${before.next}&wait=20`, { key: READ_KEY });
    await new Promise((r) => setTimeout(r, 1500));
    const answeredAt = Date.now();
    await api.call('POST', `/v1/asks/${encodeURIComponent(entitlement)}/answer`, {
      key: OPERATE_KEY,
      body: { option: 'Yes' },
    });
    const res = await poll;
    expect(res.status).toBe(200);
    expect(res.body.entries.map((e: { entitlement: string }) => e.entitlement)).toEqual([entitlement]);
    // Held until the end came (not answered empty at once), then answered well before the 20 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - answeredAt).toBeLessThan(5_000);

    // Nothing more: the long poll waits its time and answers an empty page at the same cursor.
    const waitStarted = Date.now();
    expect(await feed(`?after=${res.body.next}&wait=1`)).toEqual({ entries: [], next: res.body.next, gap: false });
    expect(Date.now() - waitStarted).toBeGreaterThanOrEqual(900);
  });

  it('refuses a wait over 20 s and a limit over 500', async () => {
    expect((await api.call('GET', '/v1/asks/feed?wait=21', { key: READ_KEY })).status).toBe(400);
    expect((await api.call('GET', '/v1/asks/feed?limit=501', { key: READ_KEY })).status).toBe(400);
    expect((await api.call('GET', '/v1/asks/feed?after=abc', { key: READ_KEY })).status).toBe(400);
  });
});

describe('injected replies', () => {
  it('are refused unless the deployment allows them, naming the setting', async () => {
    const res = await api.call('POST', '/v1/replies', {
      key: OPERATE_KEY,
      body: { from: newPhone(), text: '1234567' },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      error: 'injected_replies_disabled',
      message: expect.stringContaining('SMS_ASK_HTTP_ALLOW_INJECTED_REPLIES=true'),
    });
  });

  it('answer through the codes like an SMS, count a wrong code as a guess, and are logged under the key', async () => {
    const injecting = await startTestApi(worker, {
      httpAllowInjectedReplies: true,
      httpApiKeys: [
        { name: 'xsoar-pack', scope: 'operate', key: OPERATE_KEY },
        { name: 'dashboard', scope: 'read', key: READ_KEY },
      ],
    });
    try {
      const phone = newPhone();
      const inject = (text: string, key = OPERATE_KEY) =>
        injecting.call('POST', '/v1/replies', { key, body: { from: phone, text } });
      expect((await inject('1234567', READ_KEY)).status).toBe(403);
      expect((await inject('1234567')).body).toMatchObject({
        outcome: 'refused',
        message: expect.stringMatching(/No open ask/),
      });

      const entitlement = await startAsk({
        to: phone,
        question: 'Wipe laptop LT-9?',
        options: ['Wipe', 'Keep'],
        timeout: '1h',
        feed: true,
      });
      const sms = await waitForSms(
        sharedStack().awsEndpoint,
        (m) => m.phoneNumber === phone && m.message.includes('Wipe laptop'),
        30_000,
      );
      const codes = [codeOf(sms.message, 'Wipe'), codeOf(sms.message, 'Keep')];
      let wrong = codes[0]!;
      while (codes.includes(wrong))
        wrong = String((Number(wrong) + 1) % 10 ** wrong.length).padStart(wrong.length, '0');

      const refused = await inject(wrong);
      expect(refused.status).toBe(200);
      expect(refused.body).toMatchObject({ outcome: 'refused', message: expect.stringMatching(/not an open code/) });
      expect(JSON.stringify(refused.body)).not.toContain(codes[0]);
      const pending: PendingAskEntry[] = await worker.client.workflow
        .getHandle(recipientWorkflowId(worker.taskQueue, phone))
        .query(pendingAsksQuery);
      expect(pending.find((p) => p.askId === `ask/${entitlement}`)?.wrongGuesses).toBe(1);
      // The phone is told, as after a wrong SMS.
      await waitForSms(
        sharedStack().awsEndpoint,
        (m) => m.phoneNumber === phone && m.message.startsWith('Sorry'),
        15_000,
      );

      const answered = await inject(`${codes[1]} thanks`);
      expect(answered.body).toMatchObject({
        outcome: 'answered',
        askId: `ask/${entitlement}`,
        entitlement,
        option: 'Keep',
        optionIndex: 1,
        message: expect.any(String),
      });

      const state = (await resultOf(entitlement)) as AskState;
      expect(state.answer).toMatchObject({ option: 'Keep', via: 'sms', by: phone, injectedBy: 'xsoar-pack' });
      expect(state.events.find((e) => e.type === 'reply_received')).toMatchObject({
        phone,
        by: 'xsoar-pack',
        detail: expect.stringContaining('injected through the HTTP API by xsoar-pack'),
      });
      expect(state.events.find((e) => e.type === 'answered')).toMatchObject({ by: 'xsoar-pack' });

      // Once the ask has ended, its code answers nothing.
      expect((await inject(codes[0]!)).body).toMatchObject({ outcome: 'refused' });
    } finally {
      await injecting.close();
    }
  });
});

describe("a callback's Authorization", () => {
  it('refuses an ask whose callback names an unknown authorization', async () => {
    const res = await api.call('POST', '/v1/asks', {
      key: OPERATE_KEY,
      body: {
        to: newPhone(),
        question: 'Reboot DC-1?',
        callback: { url: `${receiver.url}/x`, secretName: 'soar', authorization: 'nope' },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual([
      {
        field: 'callback.authorization',
        message: expect.stringMatching(/no webhook authorization named "nope"; the deployment has xsoar-hook/),
      },
    ]);
  });

  it('sends the named value as the Authorization header of each delivery, never in workflow history', async () => {
    const entitlement = await startAsk({
      to: newPhone(),
      question: 'Close incident 42?',
      timeout: '1h',
      callback: { url: `${receiver.url}/xsoar/hook`, secretName: 'soar', authorization: 'xsoar-hook' },
    });
    await api.call('POST', `/v1/asks/${encodeURIComponent(entitlement)}/answer`, {
      key: OPERATE_KEY,
      body: { option: 'Yes' },
    });
    await resultOf(entitlement);
    const hook = await eventually(
      async () => receiver.received.find((r) => r.path === '/xsoar/hook'),
      'the webhook',
      30_000,
    );
    expect(hook.headers.authorization).toBe(AUTHORIZATION);
    expect(JSON.parse(hook.body)).toMatchObject({
      type: 'ask.ended',
      ask: { askId: `ask/${entitlement}`, status: 'answered' },
    });

    // The ask's history and its delivery's, as stored (payloads in clear in this test): the name, never the value.
    const askId = `ask/${entitlement}`;
    for (const workflowId of [askId, webhookDeliveryId(askId, 'ended')]) {
      const history = await worker.client.workflow.getHandle(workflowId).fetchHistory();
      const stored = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
      expect(stored).toContain('xsoar-hook');
      expect(stored).not.toContain(AUTHORIZATION);
      expect(stored).not.toContain(AUTHORIZATION.slice('Basic '.length));
    }
  });
});

describe('health', () => {
  it('says whether a worker polls the task queue', async () => {
    expect((await api.call('GET', '/v1/health', { key: READ_KEY })).body).toEqual({
      workerPolling: true,
      taskQueue: worker.taskQueue,
    });
    const elsewhere = await startTestApi(worker, {
      taskQueue: `nobody-${randomUUID()}`,
      httpApiKeys: [{ name: 'dashboard', scope: 'read', key: READ_KEY }],
    });
    try {
      expect((await elsewhere.call('GET', '/v1/health', { key: READ_KEY })).body).toMatchObject({
        workerPolling: false,
      });
    } finally {
      await elsewhere.close();
    }
  });
});
