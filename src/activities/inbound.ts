import type { Message } from '@aws-sdk/client-sqs';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Consumer } from 'sqs-consumer';
import { parseInboundMessage } from '../domain/inbound-message';
import type { InboundReply } from '../domain/inbound-message';
import { maskPhone } from '../domain/phone-mask';
import { repliesBad, repliesNotRouted, repliesRouted } from '../metrics';
import { inboundSignal, recipientWorkflowId } from '../workflows/definitions';
import type { ActivityDeps } from './deps';

export interface PollInboundInput {
  queueUrl: string;
  /** Return after this long, so the workflow can keep its history short. */
  leaseMs: number;
}

export interface PollStats {
  received: number;
  routed: number;
  bad: number;
  failed: number;
}

const HEARTBEAT_EVERY_MS = 5_000;
const MAX_BACKOFF_MS = 30_000;

/** What happens to one parsed reply: Temporal took it, or it stays on the queue to be retried. */
export type RouteOutcome = 'routed' | 'no_asks' | 'failed';

/**
 * Hands one parsed reply to its phone's recipient workflow. The one way in for replies, whatever
 * carried them (the SQS poller, a webhook): the recipient workflow dedupes and routes it.
 */
export async function routeReply(
  { client, logger }: Pick<ActivityDeps, 'client' | 'logger'>,
  taskQueue: string,
  reply: InboundReply,
): Promise<RouteOutcome> {
  try {
    await client.workflow.getHandle(recipientWorkflowId(taskQueue, reply.from)).signal(inboundSignal, reply);
    repliesRouted.inc();
    return 'routed';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      // No ask was ever sent to this phone (or its last one ended long ago): nothing to answer.
      logger.info({ dedupeKey: reply.dedupeKey, from: maskPhone(reply.from) }, 'reply from a phone with no asks; dropped');
      repliesNotRouted.inc({ reason: 'no_asks' });
      return 'no_asks';
    }
    logger.warn({ dedupeKey: reply.dedupeKey, err }, 'could not signal the reply to Temporal');
    repliesNotRouted.inc({ reason: 'signal_failed' });
    return 'failed';
  }
}

/**
 * Routes a batch received from SQS. Only messages that Temporal took are returned, and so deleted;
 * the rest go back to the queue, and bad ones reach the DLQ through the redrive policy.
 */
export async function routeBatch(
  deps: Pick<ActivityDeps, 'client' | 'logger'> & Partial<Pick<ActivityDeps, 'settings'>>,
  messages: Message[],
  taskQueue: string,
  stats: PollStats,
): Promise<Message[]> {
  stats.received += messages.length;
  const outcomes = await Promise.all(
    messages.map(async (message): Promise<Message | undefined> => {
      const messageId = message.MessageId ?? '';
      const parsed = parseInboundMessage(message.Body ?? '', messageId, { maxBodyBytes: deps.settings?.maxReplyBytes });
      if (!parsed.ok) {
        stats.bad++;
        repliesBad.inc();
        deps.logger.warn(
          { messageId, receiveCount: message.Attributes?.ApproximateReceiveCount, reason: parsed.reason },
          'bad inbound message left on the queue for the dead-letter queue: %s',
          parsed.reason,
        );
        return undefined;
      }
      const outcome = await routeReply(deps, taskQueue, parsed.reply);
      if (outcome === 'failed') {
        stats.failed++;
        return undefined;
      }
      stats.routed++;
      return message;
    }),
  );
  return outcomes.filter((m): m is Message => m !== undefined);
}

export function createInboundActivities({ sqs, client, settings, logger }: ActivityDeps) {
  return {
    /** Long-polls the inbound queue until cancelled, the worker shuts down, or the lease ends. */
    async pollInbound({ queueUrl, leaseMs }: PollInboundInput): Promise<PollStats> {
      const ctx = Context.current();
      const stats: PollStats = { received: 0, routed: 0, bad: 0, failed: 0 };
      const consumer = Consumer.create({
        queueUrl,
        sqs,
        batchSize: settings.pollBatchSize,
        waitTimeSeconds: settings.pollWaitSeconds,
        pollingWaitTimeMs: settings.pollIntervalMs,
        pollingCompleteWaitTimeMs: 30_000,
        messageSystemAttributeNames: ['ApproximateReceiveCount'],
        handleMessageBatch: (messages) => routeBatch({ client, logger, settings }, messages, ctx.info.taskQueue, stats),
      });
      let stopping = false;
      let backoffMs = 0;
      let lastError: string | undefined;
      consumer.on('error', (err) => {
        // Stopping aborts the long poll on purpose; that is not worth a warning.
        if (stopping) return;
        // Without this, a missing queue or a bad credential would be retried in a tight loop.
        backoffMs = Math.min(Math.max(backoffMs * 2, 1_000), MAX_BACKOFF_MS);
        consumer.updateOption('pollingWaitTimeMs', settings.pollIntervalMs + backoffMs);
        lastError = err.message;
        logger.warn({ err: err.message, queueUrl, retryInMs: backoffMs }, 'SQS receive failed; retrying');
      });
      const recovered = () => {
        if (backoffMs === 0) return;
        backoffMs = 0;
        lastError = undefined;
        consumer.updateOption('pollingWaitTimeMs', settings.pollIntervalMs);
      };
      consumer.on('response_processed', recovered);
      consumer.on('empty', recovered);
      consumer.on('processing_error', (err) => logger.warn({ err: err.message }, 'reply batch failed; it stays on the queue'));

      const stopped = new Promise<void>((resolve) => consumer.once('stopped', () => resolve()));
      const heartbeat = setInterval(() => ctx.heartbeat({ ...stats, lastError }), HEARTBEAT_EVERY_MS);
      const leaseTimer = new Promise<void>((resolve) => setTimeout(resolve, leaseMs).unref());
      logger.info({ queueUrl }, 'inbound poller started');
      consumer.start();
      try {
        await Promise.race([leaseTimer, ctx.cancelled]);
        return stats;
      } finally {
        clearInterval(heartbeat);
        stopping = true;
        // Lets the in-flight batch finish signalling and deleting before the activity ends.
        consumer.stop({ abort: true });
        await stopped;
        logger.info({ queueUrl, ...stats }, 'inbound poller stopped');
      }
    },
  };
}
