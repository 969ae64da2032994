/**
 * The worker's monitoring endpoint, on `sms-ask worker` run as a process against the local stack:
 * metrics that move with the work, readiness that follows the poller's heartbeat, and a drain on
 * SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsAskClient } from '../../src/client/sms-ask-client';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { snsDeliveredReplyBody, waitForSms } from '../../src/local-stack/phone-simulator';
import { freeLoopbackPort } from '../../src/worker/monitor-server';
import { inboundPollerWorkflowId } from '../../src/workflows/definitions';
import { eventually, localAws, newPhone, sharedStack, sharedStackClient } from '../support/harness';
import { rawRequest } from '../support/raw-request';
import { BIN, WorkerProcess, workerEnv } from '../support/worker-process';

const aws = localAws();
const taskQueue = `monitor-${randomUUID()}`;
let inbound: Awaited<ReturnType<typeof provisionInboundResources>>;
let worker: WorkerProcess;
let client: Client;
let monitorUrl: string;
const startedAt = Date.now() / 1000;

beforeAll(async () => {
  const name = `monitor-${randomUUID().slice(0, 8)}`;
  inbound = await provisionInboundResources({
    ...aws,
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 3,
  });
  monitorUrl = `http://127.0.0.1:${await freeLoopbackPort()}`;
  worker = await WorkerProcess.start(
    [process.execPath, BIN, 'worker'],
    workerEnv(
      sharedStack(),
      { taskQueue, queueUrl: inbound.queueUrl },
      { SMS_ASK_METRICS_ADDRESS: monitorUrl.slice('http://'.length) },
    ),
  );
  client = await sharedStackClient();
});
afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
});

const get = async (path: string) => {
  const res = await fetch(`${monitorUrl}${path}`);
  return { status: res.status, body: await res.text() };
};

/** Prometheus text as `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  return new Map(
    text
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), Number(line.slice(at + 1))];
      }),
  );
}

const sendToQueue = (body: string) =>
  aws.sqs.send(new SendMessageCommand({ QueueUrl: inbound.queueUrl, MessageBody: body }));

describe('the monitoring endpoint', () => {
  it('answers /healthz, and /readyz once Temporal, the queue and the poller are fine', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    const ready = await eventually(
      async () => {
        const res = await get('/readyz');
        return res.status === 200 ? (JSON.parse(res.body) as { checks: Record<string, { ok: boolean }> }) : undefined;
      },
      '/readyz to answer 200',
      60_000,
    );
    expect(ready.checks).toMatchObject({ temporal: { ok: true }, queue: { ok: true }, poller: { ok: true } });
  });

  it('on loopback, answers nothing to a host name a web page rebound to 127.0.0.1', async () => {
    const port = new URL(monitorUrl).port;
    const withHost = (path: string, host: string) => rawRequest(`${monitorUrl}${path}`, { headers: { host } });
    const rebound = await withHost('/metrics', `rebind.evil.example:${port}`);
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('sms_ask_');
    expect((await withHost('/metrics', `localhost:${port}`)).status).toBe(200);
  });

  it("shows sms-ask's counters moved after one answered ask, next to the Temporal SDK's worker metrics", async () => {
    const phone = newPhone();
    const asks = new SmsAskClient(client, { taskQueue });
    const { askId } = await asks.start({
      to: phone,
      question: 'Rotate the API keys?',
      options: ['Yes', 'No'],
      timeout: '10m',
    });
    const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone, 30_000);
    const code = /Yes \((\d+)\)/.exec(sms.message)![1]!;
    const reply = snsDeliveredReplyBody(inbound.topicArn, { from: phone, body: code, inboundMessageId: randomUUID() });
    await sendToQueue(reply);
    await sendToQueue(reply); // SQS delivering it twice
    await sendToQueue('not a reply at all');
    expect((await asks.result(askId)).status).toBe('answered');

    const metrics = await eventually(
      async () => {
        const scraped = samples((await get('/metrics')).body);
        const ok =
          (scraped.get('sms_ask_replies_duplicate_total') ?? 0) >= 1 &&
          (scraped.get('sms_ask_replies_bad_total') ?? 0) >= 1;
        return ok && (scraped.get('sms_ask_reply_to_answer_seconds_count') ?? 0) >= 1 ? scraped : undefined;
      },
      'the counters to move',
      60_000,
    );
    expect(metrics.get('sms_ask_asks_started_total')).toBe(1);
    expect(metrics.get('sms_ask_asks_ended_total{outcome="answered"}')).toBe(1);
    expect(metrics.get('sms_ask_replies_received_total')).toBeGreaterThanOrEqual(3);
    expect(metrics.get('sms_ask_replies_routed_total')).toBe(2);
    expect(metrics.get('sms_ask_replies_duplicate_total')).toBe(1);
    expect(metrics.get('sms_ask_sms_sent_total{kind="question"}')).toBe(1);
    expect(metrics.get('sms_ask_sms_sent_total{kind="success"}')).toBe(1);
    expect(metrics.get('sms_ask_poller_last_receive_timestamp_seconds')).toBeGreaterThan(startedAt);
    expect(metrics.get('sms_ask_poller_receive_errors_total')).toBe(0);
    // The SDK's own worker metrics, relayed from its exporter, for this worker's task queue.
    const sdk = [...metrics.keys()].filter(
      (key) => key.startsWith('temporal_') && key.includes(`task_queue="${taskQueue}"`),
    );
    expect(sdk.length).toBeGreaterThan(0);
    expect(metrics.has('process_resident_memory_bytes')).toBe(true);
  });

  it("turns /readyz 503 when the poller's heartbeat stops (its activity paused), and 200 again once it resumes", async () => {
    const execution = { workflowId: inboundPollerWorkflowId(taskQueue, inbound.queueUrl) };
    const request = { namespace: sharedStack().namespace, execution, type: 'pollInbound', identity: 'monitor test' };
    await client.workflowService.pauseActivity({ ...request, reason: 'test: stop the poller' });
    const unready = await eventually(
      async () => {
        const res = await get('/readyz');
        return res.status === 503
          ? (JSON.parse(res.body) as { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> })
          : undefined;
      },
      '/readyz to answer 503',
      60_000,
    );
    expect(unready.ready).toBe(false);
    expect(unready.checks.poller).toMatchObject({ ok: false, detail: expect.stringMatching(/paused|heartbeat/) });
    expect(unready.checks.temporal?.ok).toBe(true);

    await client.workflowService.unpauseActivity(request);
    await eventually(
      async () => ((await get('/readyz')).status === 200 ? true : undefined),
      '/readyz to answer 200 again',
      60_000,
    );
  });

  it('drains on SIGTERM: the poller stops, then the worker exits 0', async () => {
    expect(await worker.stop()).toBe(0);
    expect(worker.log).toContain('draining');
    expect(worker.log).toContain('inbound poller stopped');
    expect(worker.log).toContain('sms-ask worker stopped');
    expect(worker.log).not.toMatch(/DeprecationWarning|NodeVersionSupportWarning/);
  });
});
