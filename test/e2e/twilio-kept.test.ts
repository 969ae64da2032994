/** A Twilio reply that Temporal cannot take at once is kept on the inbound topic and still answers its ask. */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import twilio from 'twilio';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadSettings } from '../../src/config';
import { createHttpServer } from '../../src/http/server';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { waitForSms } from '../../src/local-stack/phone-simulator';
import { ensureInboundPoller } from '../../src/worker/worker';
import { localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

const TWILIO_TOKEN = `twilio-${randomUUID()}`;
let worker: TestWorker;
let topicArn: string;

beforeAll(async () => {
  const name = `twilio-kept-${randomUUID().slice(0, 8)}`;
  const inbound = await provisionInboundResources({
    ...localAws(),
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 3,
  });
  topicArn = inbound.topicArn;
  worker = await startTestWorker({ queueUrl: inbound.queueUrl, pollWaitSeconds: 1 });
  await ensureInboundPoller(worker.client, worker.settings);
});
afterAll(async () => {
  await worker?.stop();
});

it('answers Twilio 200 when Temporal refuses the reply, and the reply reaches the ask through the inbound topic and queue', async () => {
  const phone = newPhone();
  const started = await worker.asks.start({ to: phone, question: 'Lock account jdoe?', timeout: '1h' });
  const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone, 30_000);
  const code = /Yes \((\d+)\)/.exec(sms.message)![1]!;

  // An API whose Temporal is unreachable: routing the reply fails at once.
  const dead = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
  const settings = loadSettings(
    {},
    { ...worker.settings, httpKeyless: true, httpPort: 0, twilioAuthToken: TWILIO_TOKEN, inboundTopicArn: topicArn },
  );
  const app = await createHttpServer({
    settings,
    client: dead,
    sns: localAws().sns,
    logger: pino({ level: 'silent' }),
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const url = `${base}/inbound/twilio`;
    const form = {
      MessageSid: `SM${randomUUID().replace(/-/g, '')}`,
      AccountSid: 'AC123',
      From: phone,
      To: '+18885550100',
      Body: code,
    };
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, form),
      },
      body: new URLSearchParams(form).toString(),
    });
    expect(res.status).toBe(200);
    const result = await worker.asks.resultWithin(started.askId, 30_000);
    expect(result).toMatchObject({ status: 'answered', answer: { option: 'Yes', via: 'sms', by: phone } });
  } finally {
    await app.close();
  }
}, 60_000);
