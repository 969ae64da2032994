/**
 * `npm run bench:http`: the HTTP API's latencies on the local stack, one ask at a time (no queuing):
 *   - POST /v1/asks → the question SMS accepted by SNS (the ask's `sent` event), and the same for
 *     SmsAskClient.start without HTTP, the floor the API adds to;
 *   - a reply published to the inbound topic (as AWS two-way SMS does) → the outcome webhook received
 *     by a local HTTP server, split at the ask's `answered` event.
 * Everything runs on this host, so every timestamp is on one clock.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { SmsAskClient } from '../src/client/sms-ask-client';
import { loadSettings } from '../src/config';
import { createHttpServer } from '../src/http/server';
import { localAwsClientConfig, startLocalStack } from '../src/local-stack/local-stack';
import { publishPhoneReply } from '../src/local-stack/phone-simulator';
import { installQuietRuntime } from '../src/worker/runtime';
import { createSmsAskWorker, ensureInboundPoller } from '../src/worker/worker';
import type { AskState } from '../src/workflows/definitions';
import { percentile } from './stats';

const SAMPLES = Number(process.argv.find((a) => a.startsWith('--samples='))?.split('=')[1] ?? 20);
const WARMUP = 3;

async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function summary(name: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const ms = (v: number | undefined) => `${Math.round(v ?? NaN)} ms`;
  return `| ${name} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 95))} | ${ms(sorted[sorted.length - 1])} |`;
}

async function main() {
  installQuietRuntime();
  console.log('[bench:http] starting the local stack …');
  const stack = await startLocalStack();
  const key = randomUUID();
  const secret = `whsec-${randomUUID()}`;
  const settings = loadSettings(
    {},
    {
      taskQueue: `bench-http-${randomUUID().slice(0, 8)}`,
      queueUrl: stack.queueUrl,
      logLevel: 'silent',
      webhookSecrets: { bench: secret },
      httpApiKeys: [{ name: 'bench', scope: 'operate', key }],
      httpPort: 0,
      smsPublishRate: 1000,
    },
  );
  const aws = { sns: new SNSClient(localAwsClientConfig(stack)), sqs: new SQSClient(localAwsClientConfig(stack)) };
  const client = new Client({
    connection: await Connection.connect({ address: stack.temporalAddress }),
    namespace: stack.namespace,
  });
  const native = await NativeConnection.connect({ address: stack.temporalAddress });
  const logger = pino({ level: 'silent' });
  const worker = await createSmsAskWorker({
    connection: native,
    namespace: stack.namespace,
    client,
    aws,
    settings,
    logger,
  });
  const running = worker.run();
  await ensureInboundPoller(client, settings);

  const webhooks = new Map<string, number>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ask: AskState };
      webhooks.set(body.ask.askId, at);
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const app = await createHttpServer({ settings, client, sns: aws.sns, logger });
  const api = await app.listen({ host: '127.0.0.1', port: 0 });
  const asks = new SmsAskClient(client, { taskQueue: settings.taskQueue });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  const sentAt = async (askId: string) =>
    until(async () => {
      const state = await asks.status(askId).catch(() => undefined);
      const sent = state?.events.find((e) => e.type === 'sent');
      return sent && state ? { at: Date.parse(sent.at), state } : undefined;
    }, `the question of ${askId}`);

  const postToSent: number[] = [];
  const postResponse: number[] = [];
  const clientToSent: number[] = [];
  const replyToAnswered: number[] = [];
  const answeredToWebhook: number[] = [];
  const replyToWebhook: number[] = [];
  try {
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const keep = i >= WARMUP;
      const phone = `+1206555${String(1000 + i).padStart(4, '0')}`;

      // Without HTTP: the floor.
      const direct = Date.now();
      const started = await asks.start({
        to: `+1425555${String(1000 + i).padStart(4, '0')}`,
        question: `Direct ${i}?`,
        timeout: '1h',
      });
      const directSent = await sentAt(started.askId);
      await asks.cancel(started.askId, { by: 'bench' });

      const t0 = Date.now();
      const res = await fetch(`${api}/v1/asks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          to: phone,
          question: `Bench ${i}?`,
          timeout: '1h',
          callback: { url: hookUrl, secretName: 'bench' },
        }),
      });
      const tPost = Date.now();
      if (res.status !== 201) throw new Error(`POST /v1/asks answered ${res.status}: ${await res.text()}`);
      const { askId } = (await res.json()) as { askId: string };
      const { at: sent, state } = await sentAt(askId);
      const code = state.recipients[0]!.codes[0]!.code;

      const t2 = Date.now();
      await publishPhoneReply(aws.sns, stack.topicArn, { from: phone, body: code });
      const hookAt = await until(async () => webhooks.get(askId), `the webhook of ${askId}`);
      const final = await asks.result(askId);
      if (keep) {
        clientToSent.push(directSent.at - direct);
        postResponse.push(tPost - t0);
        postToSent.push(sent - t0);
        replyToAnswered.push(Date.parse(final.answer!.at) - t2);
        answeredToWebhook.push(hookAt - Date.parse(final.answer!.at));
        replyToWebhook.push(hookAt - t2);
      }
    }
    console.log(`\nHTTP API latency on the local stack, ${SAMPLES} asks one at a time (after ${WARMUP} warm-up)\n`);
    console.log('| path | p50 | p95 | max |\n| --- | --- | --- | --- |');
    for (const line of [
      summary('POST /v1/asks: response', postResponse),
      summary('POST /v1/asks → question SMS accepted by SNS', postToSent),
      summary('SmsAskClient.start → question SMS accepted (no HTTP)', clientToSent),
      summary('reply published → ask answered', replyToAnswered),
      summary('ask answered → webhook received', answeredToWebhook),
      summary('reply published → webhook received', replyToWebhook),
    ]) {
      console.log(line);
    }
  } finally {
    await app.close();
    receiver.close();
    worker.shutdown();
    await running;
    await native.close();
    await client.connection.close();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
