/**
 * The floor: what any reply must cost on this stack. (1) An SQS hand-off: SendMessage to a queue
 * whose ReceiveMessage long poll is already waiting, timed from the send's start to the receive's
 * return. (2) One Temporal signal: from the client's SignalWorkflow call to the start of the
 * workflow task that delivers it (workflow time, the same clock the ask's answer time uses), to
 * an idle workflow in the worker's cache.
 */
import path from 'node:path';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { sleep } from '../pool';
import type { Progress } from '../progress';
import { summarize } from '../stats';
import type { LatencySummary } from '../stats';
import { pingSignal, pingsQuery, stopSignal } from '../workflows/signal-floor';
import type { signalFloorWorkflow } from '../workflows/signal-floor';

export interface FloorResult {
  sqsHandoff: LatencySummary;
  temporalSignal: LatencySummary;
  /** Sum of the two p50s: what a reply cannot beat. */
  p50Sum: number;
}

/** Long enough for the ReceiveMessage to be waiting inside the emulator before the send. */
const RECEIVE_HEAD_START_MS = 100;
/** Long enough for the previous signal's workflow task to finish, so that each signal has its own. */
const SIGNAL_SPACING_MS = 50;

export async function measureFloor(params: {
  sqs: SQSClient;
  client: Client;
  temporalAddress: string;
  namespace: string;
  samples: number;
  progress: Progress;
}): Promise<FloorResult> {
  const sqsHandoff = await measureSqsHandoff(params);
  const temporalSignal = await measureSignal(params);
  return { sqsHandoff, temporalSignal, p50Sum: sqsHandoff.p50 + temporalSignal.p50 };
}

async function measureSqsHandoff({
  sqs,
  samples,
  progress,
}: {
  sqs: SQSClient;
  samples: number;
  progress: Progress;
}): Promise<LatencySummary> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-floor' }));
  const handoffs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const receiving = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20, MaxNumberOfMessages: 1 }));
    await sleep(RECEIVE_HEAD_START_MS);
    const sentAt = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `floor ${i}` }));
    const received = await receiving;
    handoffs.push(Date.now() - sentAt);
    const message = received.Messages?.[0];
    if (!message) throw new Error('the floor long poll returned no message');
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
    progress.update(`SQS hand-off ${i + 1}/${samples}`);
  }
  return summarize(handoffs);
}

async function measureSignal({
  client,
  temporalAddress,
  namespace,
  samples,
  progress,
}: {
  client: Client;
  temporalAddress: string;
  namespace: string;
  samples: number;
  progress: Progress;
}): Promise<LatencySummary> {
  const taskQueue = 'bench-signal-floor';
  const connection = await NativeConnection.connect({ address: temporalAddress });
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowsPath: path.resolve(__dirname, '../workflows/signal-floor.ts'),
    });
    return await worker.runUntil(async () => {
      const handle = await client.workflow.start<typeof signalFloorWorkflow>('signalFloorWorkflow', {
        taskQueue,
        workflowId: `bench-signal-floor-${Date.now()}`,
      });
      await handle.query(pingsQuery); // the workflow is running and cached before the first sample
      const sentAt: number[] = [];
      for (let i = 0; i < samples; i++) {
        sentAt.push(Date.now());
        await handle.signal(pingSignal);
        await sleep(SIGNAL_SPACING_MS);
        progress.update(`Temporal signal ${i + 1}/${samples}`);
      }
      const observed = await handle.query(pingsQuery);
      await handle.signal(stopSignal);
      if (observed.length !== samples)
        throw new Error(`the floor workflow saw ${observed.length} of ${samples} signals`);
      return summarize(observed.map((at, i) => at - sentAt[i]!));
    });
  } finally {
    await connection.close();
  }
}
