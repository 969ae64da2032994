/**
 * The poll activity against stubbed SQS and Temporal clients: what it receives, deletes and skips
 * while Temporal refuses replies, and how it stops.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createInboundActivities } from '../../src/activities/inbound';
import { loadSettings } from '../../src/config';
import { snsDeliveredReplyBody } from '../../src/local-stack/phone-simulator';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:sms-ask-inbound';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A queue in memory: every receive hands out what is visible (and counts the receive), deletes remove. */
class FakeQueue {
  receives = 0;
  deleted: string[] = [];
  private visible: { id: string; body: string }[] = [];
  private next = 0;

  put(from: string, body: string): void {
    this.visible.push({ id: `m${this.next++}`, body: snsDeliveredReplyBody(TOPIC, { from, body }) });
  }

  readonly client = {
    send: async (command: unknown, options?: { abortSignal?: AbortSignal }) => {
      if (command instanceof ReceiveMessageCommand) {
        this.receives++;
        const batch = this.visible.splice(0, 10);
        if (batch.length === 0) {
          // A short long poll, cut short by the abort signal as the SDK would.
          await new Promise<void>((resolve, reject) => {
            const signal = options?.abortSignal;
            const onAbort = () => {
              clearTimeout(timer);
              reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
            };
            const timer = setTimeout(() => {
              signal?.removeEventListener('abort', onAbort);
              resolve();
            }, 50);
            signal?.addEventListener('abort', onAbort, { once: true });
          });
        }
        return { Messages: batch.map((m) => ({ MessageId: m.id, ReceiptHandle: m.id, Body: m.body })) };
      }
      if (command instanceof DeleteMessageBatchCommand) {
        this.deleted.push(...(command.input.Entries ?? []).map((e) => e.ReceiptHandle!));
        return { Failed: [] };
      }
      throw new Error('unexpected command');
    },
  };
}

/** Temporal, up or down: routing and the health probe fail while it is down. Every reply is one a recipient took. */
function fakeTemporal() {
  const state = { up: true, routed: 0, probes: 0 };
  const unavailable = () => Object.assign(new Error('14 UNAVAILABLE: connection refused'), { code: 14 });
  const client = {
    options: { namespace: 'default' },
    workflowService: {
      describeNamespace: async () => {
        state.probes++;
        if (!state.up) throw unavailable();
        return {};
      },
    },
    withDeadline: async <R>(_deadline: number, fn: () => Promise<R>) => fn(),
    withAbortSignal: async <R>(_signal: AbortSignal, fn: () => Promise<R>) => fn(),
    workflow: {
      getHandle: (workflowId: string) => ({
        workflowId,
        executeUpdate: async () => {
          if (!state.up) throw unavailable();
          state.routed++;
          return {};
        },
      }),
    },
  };
  return { state, client: client as unknown as Client };
}

/** Routing to a recipient waits `delayMs(its workflow id)` first: its workflow task is slow. */
function slowRouting(temporal: ReturnType<typeof fakeTemporal>, delayMs: (workflowId: string) => number): void {
  const fastHandle = temporal.client.workflow.getHandle as unknown as (id: string) => {
    workflowId: string;
    executeUpdate: () => Promise<unknown>;
  };
  (temporal.client.workflow as unknown as { getHandle: unknown }).getHandle = (id: string) => ({
    workflowId: id,
    executeUpdate: async () => {
      await sleep(delayMs(id));
      return fastHandle(id).executeUpdate();
    },
  });
}

function activities(queue: FakeQueue, client: Client) {
  const settings = loadSettings({}, { pollWaitSeconds: 0, pollConcurrency: 2 });
  return createInboundActivities({
    sqs: queue.client as unknown as SQSClient,
    sns: undefined as never,
    client,
    settings,
    logger: pino({ level: 'silent' }),
  });
}

describe('pollInbound', () => {
  it('stops receiving while Temporal refuses replies, so they keep their receive counts, and resumes when it answers', async () => {
    const queue = new FakeQueue();
    const temporal = fakeTemporal();
    temporal.state.up = false;
    queue.put('+12065550142', '1234');
    const env = new MockActivityEnvironment({ taskQueue: 'sms-ask' });
    const running = env.run(activities(queue, temporal.client).pollInbound, {
      queueUrl: 'https://sqs.example/q',
      leaseMs: 60_000,
    });

    await sleep(4_000);
    // The first batch failed to signal; after that only health probes, no receives.
    const receivesWhileDown = queue.receives;
    expect(temporal.state.probes).toBeGreaterThan(0);
    await sleep(2_000);
    expect(queue.receives).toBe(receivesWhileDown);
    expect(queue.deleted).toEqual([]);

    temporal.state.up = true;
    queue.put('+12065550143', '5678');
    await sleep(5_000);
    expect(queue.receives).toBeGreaterThan(receivesWhileDown);
    expect(queue.deleted).toContain('m1');
    env.cancel();
    const stats = await running.catch((err: unknown) => err);
    expect(stats).toMatchObject({ routed: 1, failed: 1, temporalPauses: 1 });
  }, 30_000);

  it('leaves the batch in hand on the queue for the next router when cancelled mid-routing, and ends at once', async () => {
    const queue = new FakeQueue();
    const temporal = fakeTemporal();
    // Routing waits on a workflow task that will not come (the worker shutting down would run it).
    let routingSignal: AbortSignal | undefined;
    Object.assign(temporal.client, {
      withAbortSignal: async <R>(signal: AbortSignal, fn: () => Promise<R>) => {
        routingSignal = signal;
        return fn();
      },
    });
    (temporal.client.workflow as unknown as { getHandle: unknown }).getHandle = (id: string) => ({
      workflowId: id,
      executeUpdate: () =>
        new Promise((_resolve, reject) => {
          const signal = routingSignal!;
          signal.addEventListener('abort', () =>
            reject(Object.assign(new Error('1 CANCELLED: the call was cancelled'), { code: 1 })),
          );
        }),
    });
    for (let i = 0; i < 5; i++) queue.put(`+1206555010${i}`, '1234');
    const env = new MockActivityEnvironment({ taskQueue: 'sms-ask' });
    const running = env.run(activities(queue, temporal.client).pollInbound, {
      queueUrl: 'https://sqs.example/q',
      leaseMs: 60_000,
    });
    await sleep(100);
    const cancelledAt = Date.now();
    env.cancel();
    const stats = await running;
    expect(Date.now() - cancelledAt).toBeLessThan(1_000);
    expect(queue.deleted).toHaveLength(0);
    expect(stats).toMatchObject({ received: 5, routed: 0, returned: 5, failed: 0 });
  }, 30_000);

  it('goes on receiving and routing while one reply waits on a slow workflow task', async () => {
    const queue = new FakeQueue();
    const temporal = fakeTemporal();
    slowRouting(temporal, (id) => (id.endsWith('+12065550100') ? 2_000 : 0)); // that recipient being replayed, say
    const env = new MockActivityEnvironment({ taskQueue: 'sms-ask' });
    const settings = loadSettings({}, { pollWaitSeconds: 0, pollConcurrency: 1 });
    const poll = createInboundActivities({
      sqs: queue.client as unknown as SQSClient,
      sns: undefined as never,
      client: temporal.client,
      settings,
      logger: pino({ level: 'silent' }),
    });
    queue.put('+12065550100', '1234');
    const running = env.run(poll.pollInbound, { queueUrl: 'https://sqs.example/q', leaseMs: 3_000 });
    await sleep(200);
    queue.put('+12065550101', '5678');
    await sleep(500);
    // One lane: the second reply was received, routed and deleted while the first still waits.
    expect(queue.deleted).toEqual(['m1']);
    expect(await running).toMatchObject({ received: 2, routed: 2 });
    expect(queue.deleted).toEqual(['m1', 'm0']);
  }, 30_000);

  it('routes and deletes the batch in hand when its lease ends mid-routing', async () => {
    const queue = new FakeQueue();
    const temporal = fakeTemporal();
    slowRouting(temporal, () => 500);
    for (let i = 0; i < 5; i++) queue.put(`+1206555010${i}`, '1234');
    const env = new MockActivityEnvironment({ taskQueue: 'sms-ask' });
    const stats = await env.run(activities(queue, temporal.client).pollInbound, {
      queueUrl: 'https://sqs.example/q',
      leaseMs: 100,
    });
    expect(queue.deleted).toHaveLength(5);
    expect(stats).toMatchObject({ received: 5, routed: 5, returned: 0 });
  }, 30_000);
});
