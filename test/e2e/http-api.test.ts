/** The HTTP API end to end on the local stack: real worker, Temporal dev server, moto, SNS → SQS replies. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import pino from 'pino';
import { loadSettings } from '../../src/config';
import { createHttpServer, UnprotectedServerError } from '../../src/http/server';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { listSentSms, publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/webhooks/signature';
import type { AskState } from '../../src/workflows/definitions';
import { ensureInboundPoller } from '../../src/worker/worker';
import { eventually, localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';
import { startTestApi, startWebhookReceiver } from '../support/http';
import type { TestApi } from '../support/http';

const OPERATE_KEY = `op-${randomUUID()}`;
const READ_KEY = `ro-${randomUUID()}`;
const CODES_KEY = `codes-${randomUUID()}`;
const WEBHOOK_SECRET = `whsec-${randomUUID()}`;
const TWILIO_TOKEN = `twilio-${randomUUID()}`;

let worker: TestWorker;
let api: TestApi;
let topicArn: string;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  const name = `http-${randomUUID().slice(0, 8)}`;
  const inbound = await provisionInboundResources({
    ...localAws(),
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 3,
  });
  topicArn = inbound.topicArn;
  // The worker signs webhooks, so it holds the secrets; the API checks that a callback names one.
  const webhooks = { webhookSecrets: { soar: WEBHOOK_SECRET }, webhookRetryForSeconds: 6 };
  worker = await startTestWorker({ queueUrl: inbound.queueUrl, pollWaitSeconds: 1, ...webhooks });
  await ensureInboundPoller(worker.client, worker.settings);
  receiver = await startWebhookReceiver((path) => (path.startsWith('/broken') ? 500 : 204));
  api = await startTestApi(worker, {
    ...webhooks,
    httpApiKeys: [
      { name: 'soar-playbook', scope: 'operate', key: OPERATE_KEY },
      { name: 'dashboard', scope: 'read', key: READ_KEY },
      { name: 'helpdesk', scope: 'codes', key: CODES_KEY },
    ],
    twilioAuthToken: TWILIO_TOKEN,
  });
});
afterAll(async () => {
  await api?.close();
  await receiver?.close();
  await worker?.stop();
});

const codeOf = (sms: string, label: string) => new RegExp(`${label} \\((\\d+)\\)`).exec(sms)![1]!;

describe('HTTP API', () => {
  it('starts an ask, takes the SMS reply, and gives the result by long poll and by a signed webhook', async () => {
    const phone = newPhone();
    const entitlement = `ent-${randomUUID()}`;
    const request = {
      to: [phone],
      question: 'Isolate host WS-042?',
      options: ['Isolate', 'Leave'],
      timeout: '1h',
      entitlement,
      context: { incident: '1042' },
      callback: { url: `${receiver.url}/hooks/sms-ask?token=abc`, secretName: 'soar' },
    };
    const started = await api.call('POST', '/v1/asks', { key: OPERATE_KEY, body: request });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      askId: `ask/${entitlement}`,
      entitlement,
      created: true,
      links: { self: `/v1/asks/${entitlement}` },
    });

    // The same entitlement again: the same ask, and no second SMS.
    const again = await api.call('POST', '/v1/asks', { key: OPERATE_KEY, body: request });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ askId: `ask/${entitlement}`, created: false });

    const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone, 30_000);
    const longPoll = api.call('GET', `/v1/asks/${entitlement}/result?wait=50`, { key: READ_KEY });
    await publishPhoneReply(localAws().sns, topicArn, { from: phone, body: codeOf(sms.message, 'Isolate') });

    const result = await longPoll;
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      status: 'answered',
      answer: { option: 'Isolate', via: 'sms', by: phone },
      context: { incident: '1042' },
    });

    const hook = await eventually(
      async () => receiver.received.find((r) => r.path.startsWith('/hooks/sms-ask')),
      'the webhook',
      30_000,
    );
    expect(() =>
      verifyWebhookSignature(hook.headers[SIGNATURE_HEADER] as string, hook.body, WEBHOOK_SECRET),
    ).not.toThrow();
    expect(() =>
      verifyWebhookSignature(hook.headers[SIGNATURE_HEADER] as string, hook.body, 'another secret, not ours'),
    ).toThrow(/does not match/);
    const body = JSON.parse(hook.body) as { id: string; type: string; ask: AskState };
    expect(body).toMatchObject({
      type: 'ask.ended',
      ask: { askId: `ask/${entitlement}`, status: 'answered', answer: { option: 'Isolate' } },
    });
    expect(hook.headers[DELIVERY_HEADER]).toBe(body.id);
    expect(hook.headers[EVENT_HEADER]).toBe('ask.ended');

    // The delivery shows in the ask's event log; the question went out once.
    const status = await eventually(
      async () => {
        const res = await api.call('GET', `/v1/asks/${encodeURIComponent(`ask/${entitlement}`)}`, { key: READ_KEY });
        return (res.body as AskState).events.some((e) => e.type === 'webhook_delivered')
          ? (res.body as AskState)
          : undefined;
      },
      'webhook_delivered in the event log',
      20_000,
    );
    expect(status.events.find((e) => e.type === 'webhook_delivered')?.detail).toMatch(
      /^ask\.ended to http:\/\/127\.0\.0\.1:\d+\/hooks\/sms-ask: HTTP 204, 1 attempt/,
    );
    const questions = (await listSentSms(sharedStack().awsEndpoint)).filter(
      (m) => m.phoneNumber === phone && m.message.includes('Isolate ('),
    );
    expect(questions).toHaveLength(1);
    expect(receiver.received.filter((r) => r.path.startsWith('/hooks/sms-ask'))).toHaveLength(1);
  });

  it('refuses a bad ask with every problem by field, and sends nothing', async () => {
    const phone = newPhone();
    const res = await api.call('POST', '/v1/asks', {
      key: OPERATE_KEY,
      body: {
        to: [phone, '12345'],
        question: 'Reboot?',
        options: ['Yes', 'Yes'],
        timeout: 'soon',
        priority: 'urgent',
        callback: { url: `${receiver.url}/x`, secretName: 'nope' },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    const fields = (res.body.problems as { field: string }[]).map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['timeout', 'priority']));

    const semantic = await api.call('POST', '/v1/asks', {
      key: OPERATE_KEY,
      body: {
        to: [phone, '12345'],
        question: 'Reboot?',
        options: ['Yes', 'yes'],
        callback: { url: `${receiver.url}/x`, secretName: 'nope' },
      },
    });
    expect(semantic.status).toBe(400);
    expect(semantic.body.problems).toEqual(
      expect.arrayContaining([
        { field: 'to[1]', message: expect.stringMatching(/not a valid phone number/) },
        { field: 'options[1]', message: expect.stringMatching(/listed twice/) },
        {
          field: 'callback.secretName',
          message: expect.stringMatching(/no webhook secret named "nope"; the deployment has soar/),
        },
      ]),
    );
    const badJson = await api.call('POST', '/v1/asks', { key: OPERATE_KEY, body: '{"to": ' });
    expect(badJson.status).toBe(400);
    // A control character in a listing filter is refused at once, not left to time out in Temporal.
    const nulFilter = await api.call('GET', `/v1/asks/pending?entitlement=${encodeURIComponent('inc-1\u0000x')}`, {
      key: OPERATE_KEY,
    });
    expect(nulFilter.status).toBe(400);
    expect(nulFilter.body.problems).toEqual([
      { field: 'entitlement', message: expect.stringMatching(/control characters/) },
    ]);

    await new Promise((r) => setTimeout(r, 1500));
    expect((await listSentSms(sharedStack().awsEndpoint)).filter((m) => m.phoneNumber === phone)).toEqual([]);
  });

  it('needs a key, lets a read key only read, and records operator actions under the key name', async () => {
    const phone = newPhone();
    const entitlement = `ops-${randomUUID()}`;
    expect((await api.call('GET', '/v1/asks/pending')).status).toBe(401);
    expect((await api.call('GET', '/v1/asks/pending', { key: 'not-a-key-of-this-deployment' })).status).toBe(401);
    const denied = await api.call('POST', '/v1/asks', {
      key: READ_KEY,
      body: { to: phone, question: 'Disable VPN for jdoe?', entitlement },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toMatch(/"dashboard" has the read scope/);

    expect(
      (
        await api.call('POST', '/v1/asks', {
          key: OPERATE_KEY,
          body: { to: phone, question: 'Disable VPN for jdoe?', entitlement, timeout: '1h', priority: 'high' },
        })
      ).status,
    ).toBe(201);
    expect((await worker.client.workflow.getHandle(`ask/${entitlement}`).describe()).priority?.priorityKey).toBe(2);
    await eventually(async () => {
      const res = await api.call('GET', `/v1/asks/pending?to=${encodeURIComponent(phone)}`, { key: READ_KEY });
      return res.body.asks.length === 1 ? res.body.asks : undefined;
    }, 'the ask in the pending list');
    const listed = await api.call('GET', `/v1/asks/pending?to=${encodeURIComponent(phone)}`, { key: READ_KEY });
    expect(listed.body.asks[0].codes).toBeUndefined();
    // Codes are for the phone: a read key may not see them.
    expect(
      (await api.call('GET', `/v1/asks/pending?to=${encodeURIComponent(phone)}&codes=true`, { key: READ_KEY })).status,
    ).toBe(403);
    // The codes come once the phone's recipient workflow has handed them out.
    const codes = await eventually(async () => {
      const res = await api.call('GET', `/v1/asks/pending?to=${encodeURIComponent(phone)}&codes=true`, {
        key: CODES_KEY,
      });
      const forPhone = res.body.asks[0]?.codes?.[phone];
      return forPhone?.length ? forPhone : undefined;
    }, "the ask's codes in the pending list");
    expect(codes.map((c: { option: string }) => c.option)).toEqual(['Yes', 'No']);

    const extended = await api.call('POST', `/v1/asks/${entitlement}/extend`, {
      key: OPERATE_KEY,
      body: { by: '2h', reason: 'owner on a flight' },
    });
    expect(extended.status).toBe(200);
    const resent = await api.call('POST', `/v1/asks/${entitlement}/resend`, { key: OPERATE_KEY, body: {} });
    expect(resent.status).toBe(200);
    expect(
      (await api.call('POST', `/v1/asks/${entitlement}/answer`, { key: READ_KEY, body: { option: 'No' } })).status,
    ).toBe(403);
    const badOption = await api.call('POST', `/v1/asks/${entitlement}/answer`, {
      key: OPERATE_KEY,
      body: { option: 'Maybe' },
    });
    expect(badOption.status).toBe(409);
    const answered = await api.call('POST', `/v1/asks/${entitlement}/answer`, {
      key: OPERATE_KEY,
      body: { option: 'no', reason: 'called in' },
    });
    expect(answered.status).toBe(200);
    expect(answered.body.answer).toMatchObject({ option: 'No', via: 'manual', by: 'soar-playbook' });

    const cancel = await api.call('POST', `/v1/asks/${entitlement}/cancel`, {
      key: OPERATE_KEY,
      body: { reason: 'too late' },
    });
    expect(cancel.status).toBe(409);
    expect(cancel.body.message).toMatch(/already ended \(answered\)|already answered/);

    const { body: state } = await api.call('GET', `/v1/asks/${entitlement}`, { key: READ_KEY });
    const byType = (type: string) => (state as AskState).events.find((e) => e.type === type);
    expect(byType('extended')).toMatchObject({
      by: 'soar-playbook',
      detail: expect.stringContaining('owner on a flight'),
    });
    expect(byType('resent')).toMatchObject({ by: 'soar-playbook' });
    expect(byType('answered')).toMatchObject({ by: 'soar-playbook' });

    const ended = await eventually(
      async () => {
        const res = await api.call('GET', '/v1/asks/ended?since=1h', { key: READ_KEY });
        return res.body.asks.find((a: { askId: string }) => a.askId === `ask/${entitlement}`);
      },
      'the ask in the ended list',
      20_000,
    );
    expect(ended).toMatchObject({
      status: 'answered',
      answer: { option: 'No', by: 'soar-playbook' },
      timeToAnswerMs: expect.any(Number),
    });
    expect((await api.call('GET', '/v1/asks/no-such-ask', { key: READ_KEY })).status).toBe(404);
  });

  it('takes a Twilio reply signed with the auth token, once, and refuses a wrong or missing signature', async () => {
    const phone = newPhone();
    const entitlement = `twilio-${randomUUID()}`;
    await api.call('POST', '/v1/asks', {
      key: OPERATE_KEY,
      body: { to: phone, question: 'Lock account jdoe?', entitlement, timeout: '1h' },
    });
    const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone, 30_000);
    const url = `${api.url}/inbound/twilio`;
    const form = {
      MessageSid: `SM${randomUUID().replace(/-/g, '')}`,
      AccountSid: 'AC123',
      From: phone,
      To: '+18885550100',
      Body: `${codeOf(sms.message, 'Yes')} thanks`,
      NumMedia: '0',
    };
    const post = (signature: string | undefined, params: Record<string, string> = form) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(signature !== undefined && { 'x-twilio-signature': signature }),
        },
        body: new URLSearchParams(params).toString(),
      });

    const forged = await post(twilio.getExpectedTwilioSignature('not the auth token', url, form));
    expect(forged.status).toBe(403);
    expect((await post(undefined)).status).toBe(403);
    const tampered = await post(twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, form), { ...form, Body: 'No' });
    expect(tampered.status).toBe(403);
    expect((await api.call('GET', `/v1/asks/${entitlement}`, { key: READ_KEY })).body.status).toBe('waiting');

    const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, form);
    const taken = await post(signature);
    expect(taken.status).toBe(200);
    expect(taken.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await taken.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    // Twilio retrying the same message: answered once.
    expect((await post(signature)).status).toBe(200);

    const result = await api.call('GET', `/v1/asks/${entitlement}/result?wait=30`, { key: READ_KEY });
    expect(result.body).toMatchObject({ status: 'answered', answer: { option: 'Yes', via: 'sms', by: phone } });
    const replies = (result.body as AskState).events.filter((e) => e.type === 'reply_received');
    expect(replies).toHaveLength(1);
  });

  it('records a webhook that keeps failing as given up, with the last status, without holding up the result', async () => {
    const entitlement = `broken-${randomUUID()}`;
    await api.call('POST', '/v1/asks', {
      key: OPERATE_KEY,
      body: {
        to: newPhone(),
        question: 'Rotate the key?',
        entitlement,
        timeout: '1h',
        callback: { url: `${receiver.url}/broken`, secretName: 'soar' },
      },
    });
    await eventually(
      async () =>
        (await api.call('GET', `/v1/asks/${entitlement}`, { key: READ_KEY })).status === 200 ? true : undefined,
      'the ask',
    );
    expect(
      (await api.call('POST', `/v1/asks/${entitlement}/answer`, { key: OPERATE_KEY, body: { option: 'Yes' } })).status,
    ).toBe(200);
    const result = await api.call('GET', `/v1/asks/${entitlement}/result?wait=20`, { key: READ_KEY });
    expect(result.status).toBe(200);

    const failed = await eventually(
      async () => {
        const { body } = await api.call('GET', `/v1/asks/${entitlement}`, { key: READ_KEY });
        return (body as AskState).events.find((e) => e.type === 'webhook_failed');
      },
      'webhook_failed in the event log',
      40_000,
    );
    expect(failed.detail).toMatch(
      /^ask\.ended to http:\/\/127\.0\.0\.1:\d+\/broken: gave up, \d+ attempt\(s\); last: HTTP 500$/,
    );
    expect(receiver.received.filter((r) => r.path === '/broken').length).toBeGreaterThan(1);
  });

  it('posts an escalation webhook while the ask goes on, when the callback asks for it', async () => {
    const entitlement = `esc-${randomUUID()}`;
    const started = await api.call('POST', '/v1/asks', {
      key: OPERATE_KEY,
      body: {
        to: newPhone(),
        question: 'Page the backup on-call?',
        entitlement,
        policy: { timeout: '1h', escalation: [{ after: '2s', to: [newPhone()] }] },
        callback: { url: `${receiver.url}/escalations`, secretName: 'soar', events: ['escalated'] },
      },
    });
    expect(started.status).toBe(201);
    const hook = await eventually(
      async () => receiver.received.find((r) => r.path === '/escalations'),
      'the escalation webhook',
      30_000,
    );
    const body = JSON.parse(hook.body) as { type: string; ask: AskState };
    expect(body).toMatchObject({ type: 'ask.escalated', ask: { status: 'waiting', tier: 1 } });
    // The codes are live while the ask waits: they are for the phones, never for the receiver.
    const live = (await api.call('GET', `/v1/asks/${entitlement}`, { key: CODES_KEY })).body as AskState;
    const liveCodes = live.recipients.flatMap((r) => r.codes.map((c) => c.code));
    expect(liveCodes.length).toBeGreaterThanOrEqual(2);
    expect(body.ask.recipients.every((r) => r.codes.length === 0)).toBe(true);
    for (const code of liveCodes) expect(hook.body).not.toContain(code);
    expect(() =>
      verifyWebhookSignature(hook.headers[SIGNATURE_HEADER] as string, hook.body, WEBHOOK_SECRET),
    ).not.toThrow();
    await api.call('POST', `/v1/asks/${entitlement}/cancel`, { key: OPERATE_KEY, body: { reason: 'test done' } });
    // Only the events asked for: no ask.ended.
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.received.filter((r) => r.path === '/escalations').map((r) => r.headers[EVENT_HEADER])).toEqual([
      'ask.escalated',
    ]);
  });

  it('serves its OpenAPI document, limits body size, and rate-limits with a clear 429', async () => {
    const doc = await api.call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/asks', '/v1/asks/{id}/result', '/inbound/twilio']),
    );
    expect(doc.body.paths['/v1/asks'].post.requestBody.content['application/json'].schema.properties.to).toBeDefined();
    expect(
      doc.body.paths['/v1/asks'].post.requestBody.content['application/json'].schema.properties.priority,
    ).toMatchObject({ enum: ['high', 'normal', 'bulk'] });

    const huge = await api.call('POST', '/v1/asks', {
      key: OPERATE_KEY,
      body: { to: newPhone(), question: 'x'.repeat(70_000) },
    });
    expect(huge.status).toBe(413);

    const limited = await startTestApi(worker, {
      httpApiKeys: [{ name: 'busy', scope: 'read', key: OPERATE_KEY }],
      httpRateLimitPerMinute: 3,
    });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await limited.call('GET', '/v1/asks/pending', { key: OPERATE_KEY }));
      expect(statuses.map((s) => s.status)).toEqual([200, 200, 200, 429]);
      expect(statuses[3]!.body).toMatchObject({
        error: 'rate_limited',
        message: expect.stringMatching(/at most 3 a minute/),
      });
      expect(Number(statuses[3]!.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  it('refuses to start without an API key unless it listens on loopback only', async () => {
    const settings = loadSettings({}, { taskQueue: worker.taskQueue, httpHost: '0.0.0.0' });
    await expect(
      createHttpServer({ settings, client: worker.client, sns: localAws().sns, logger: pino({ level: 'silent' }) }),
    ).rejects.toThrow(UnprotectedServerError);
    const open = await startTestApi(worker, { httpApiKeys: [], httpHost: '127.0.0.1' });
    try {
      expect((await open.call('GET', '/v1/asks/pending')).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
