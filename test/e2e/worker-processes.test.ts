/**
 * `sms-ask worker` as operators run it, two processes on one queue: every reply answers once,
 * also while one process is killed; a poller terminated by hand comes back; payloads are encrypted
 * on the server; and no log line of the whole run holds a full phone number.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsAskClient } from '../../src/client/sms-ask-client';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';
import { dataConverterFor } from '../../src/temporal/connection';
import { inboundPollerWorkflowId } from '../../src/workflows/definitions';
import { eventually, localAws, newPhone, sharedStack } from '../support/harness';
import { BIN, WorkerProcess, workerEnv } from '../support/worker-process';

const aws = localAws();
const taskQueue = `test-${randomUUID()}`;
const payloadKeys = `k2:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`;
let inbound: Awaited<ReturnType<typeof provisionInboundResources>>;
let client: Client;
let asks: SmsAskClient;
const phones: string[] = [];

const workers: WorkerProcess[] = [];

function twoPollerEnv(): NodeJS.ProcessEnv {
  return workerEnv(
    sharedStack(),
    { taskQueue, queueUrl: inbound.queueUrl },
    {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      SMS_ASK_POLLERS: '2',
      SMS_ASK_POLL_CONCURRENCY: '2',
      SMS_ASK_PAYLOAD_KEYS: payloadKeys,
      // Everything the worker can say, so the scan below sees it all.
      SMS_ASK_LOG_LEVEL: 'debug',
    },
  );
}

interface RawPayload {
  metadata?: Record<string, Uint8Array> | null;
  data?: Uint8Array | null;
}

/** Every payload stored in a history, except search attributes (indexed, so never encrypted). */
function payloadsIn(node: unknown, key = ''): RawPayload[] {
  if (!node || typeof node !== 'object' || key === 'searchAttributes' || node instanceof Uint8Array) return [];
  const candidate = node as RawPayload;
  if (candidate.data instanceof Uint8Array && candidate.metadata) return [candidate];
  return Object.entries(node).flatMap(([k, v]) => payloadsIn(v, k));
}

function phone(): string {
  const number = newPhone();
  phones.push(number);
  return number;
}

function codeIn(sms: string, option: string): string {
  const code = new RegExp(`${option} \\((\\d+)\\)`).exec(sms)?.[1];
  if (!code) throw new Error(`no code for ${option} in: ${sms}`);
  return code;
}

async function askAndRead(to: string, question: string): Promise<{ askId: string; yes: string }> {
  const { askId } = await asks.start({ to, question, options: ['Yes', 'No'], timeout: '10m' });
  const sms = await waitForSms(
    sharedStack().awsEndpoint,
    (m) => m.phoneNumber === to && m.message.startsWith(question),
    60_000,
  );
  return { askId, yes: codeIn(sms.message, 'Yes') };
}

beforeAll(async () => {
  const name = `procs-${randomUUID().slice(0, 8)}`;
  inbound = await provisionInboundResources({
    ...aws,
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 5,
  });
  const stack = sharedStack();
  client = new Client({
    connection: await Connection.connect({ address: stack.temporalAddress }),
    namespace: stack.namespace,
    dataConverter: dataConverterFor({ payloadKeys }),
  });
  asks = new SmsAskClient(client, { taskQueue });
  workers.push(...(await Promise.all([1, 2].map(() => WorkerProcess.start([BIN, 'worker'], twoPollerEnv())))));
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await client?.connection.close();
});

describe('two worker processes on one queue', () => {
  it('answers every reply exactly once, also after one process is killed', async () => {
    const batch = await Promise.all(Array.from({ length: 6 }, (_, i) => askAndRead(phone(), `Two workers, ask ${i}?`)));
    const first = batch.slice(0, 3);
    const second = batch.slice(3);
    const to = (askId: string) => asks.status(askId).then((s) => s.recipients[0]!.phone);
    await Promise.all(
      first.map(async (a) => publishPhoneReply(aws.sns, inbound.topicArn, { from: await to(a.askId), body: a.yes })),
    );
    for (const a of first)
      expect(await asks.result(a.askId)).toMatchObject({ status: 'answered', answer: { option: 'Yes', via: 'sms' } });

    // A crash: the killed process's polls move to the other one once their heartbeats stop.
    await workers[0]!.kill('SIGKILL');
    // Operators still see every ask right after the crash, also those the killed process had cached:
    // the server first sends their queries to its queue, gives up after 10 s (under load as
    // "context canceled"), and the client asks again.
    const seen = await Promise.all(batch.map((a) => asks.status(a.askId)));
    expect(seen.map((s) => s.status)).toEqual([...first.map(() => 'answered'), ...second.map(() => 'waiting')]);
    await Promise.all(
      second.map(async (a) => publishPhoneReply(aws.sns, inbound.topicArn, { from: await to(a.askId), body: a.yes })),
    );
    for (const a of second)
      expect(await asks.result(a.askId)).toMatchObject({ status: 'answered', answer: { option: 'Yes', via: 'sms' } });

    for (const a of batch) {
      const state = await asks.status(a.askId);
      expect(state.events.filter((e) => e.type === 'reply_received')).toHaveLength(1);
    }
  }, 240_000);

  it('starts the poller again when it is terminated by hand', async () => {
    const handle = client.workflow.getHandle(inboundPollerWorkflowId(taskQueue, inbound.queueUrl));
    const before = await handle.describe();
    await handle.terminate('terminated by hand in a test');
    // The watchdog of each worker checks once a minute.
    const after = await eventually(
      async () => {
        const now = await handle.describe();
        return now.status.name === 'RUNNING' && now.runId !== before.runId ? now : undefined;
      },
      'the poller to run again',
      150_000,
    );
    expect(after.status.name).toBe('RUNNING');
    const to = phone();
    const { askId, yes } = await askAndRead(to, 'After the poller was terminated?');
    await publishPhoneReply(aws.sns, inbound.topicArn, { from: to, body: yes });
    expect(await asks.result(askId)).toMatchObject({ status: 'answered', answer: { option: 'Yes' } });
  }, 240_000);
});

describe('privacy', () => {
  it('stores payloads encrypted, and keeps codes out of the memo', async () => {
    const to = phone();
    const { askId } = await askAndRead(to, 'Isolate host WS-042 (secret question)?');
    const raw = new Client({ connection: client.connection, namespace: client.options.namespace });
    const history = await raw.workflow.getHandle(askId).fetchHistory();
    const stored = payloadsIn(history);
    expect(stored.length).toBeGreaterThan(3);
    for (const payload of stored) {
      expect(Buffer.from(payload.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
      expect(Buffer.from(payload.data ?? []).toString('latin1')).not.toContain('secret question');
    }
    const { memo } = await client.workflow.getHandle(askId).describe();
    expect(memo?.ask).toEqual({ question: 'Isolate host WS-042 (secret question)?', context: {} });
    expect((await asks.status(askId)).recipients[0]!.codes).toHaveLength(2);
    await asks.cancel(askId, { by: 'test' });
  }, 120_000);

  it("writes no full phone number in any log line of the run, the SDK's own included", async () => {
    // A few more ways for a number to reach a log: a wrong code, a stranger, a late reply.
    const to = phone();
    const { askId, yes } = await askAndRead(to, 'One more, for the logs?');
    await publishPhoneReply(aws.sns, inbound.topicArn, { from: to, body: '0000' });
    await publishPhoneReply(aws.sns, inbound.topicArn, { from: to, body: yes });
    await asks.result(askId);
    await publishPhoneReply(aws.sns, inbound.topicArn, { from: to, body: yes });
    await publishPhoneReply(aws.sns, inbound.topicArn, { from: phone(), body: '1234' });
    await waitForSms(
      sharedStack().awsEndpoint,
      (m) => m.phoneNumber === to && m.message.startsWith('That question has already closed'),
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const logs = workers.map((w) => w.log).join('\n');
    // The scan reads the lines that talk about these phones: they name them by their last digits.
    expect(logs).toContain(`…${to.slice(-4)}`);
    for (const number of phones) {
      const digits = number.slice(1);
      expect(logs, `${number} in the logs`).not.toContain(digits);
      expect(logs, `${number} (national) in the logs`).not.toContain(digits.slice(1));
    }
  }, 180_000);
});
