import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { parseInboundMessage } from '../domain/inbound-message';
import type { InboundReply } from '../domain/inbound-message';
import { maskPhone } from '../domain/phone-mask';
import { repliesBad, repliesNotRouted, repliesRouted } from '../metrics';
import { inboundSignal, recipientWorkflowId } from '../workflows/definitions';
import type { ActivityDeps } from './deps';
import { Backoff, pause, TemporalGate } from './poll-pacing';

export interface PollInboundInput {
  queueUrl: string;
  /** Return after this long, so the workflow can keep its history short. */
  leaseMs: number;
}

export interface PollStats {
  received: number;
  routed: number;
  bad: number;
  /** Replies Temporal did not take; they return to the queue after its visibility timeout. */
  failed: number;
  /** Routed replies whose delete failed; they come back, and dedupe absorbs the second delivery. */
  deleteFailed: number;
  /** Times the poller stopped receiving because Temporal refused replies. */
  temporalPauses: number;
}

const HEARTBEAT_EVERY_MS = 5_000;

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
    /**
     * Polls the inbound queue with `pollConcurrency` long polls in flight until cancelled, the
     * worker shuts down, or the lease ends. Several of these may run at once, in one process or
     * many: SQS hands each message to one receiver at a time, and the recipient workflow dedupes
     * the redeliveries that a crash or a lost delete causes, so every reply is routed once.
     */
    async pollInbound({ queueUrl, leaseMs }: PollInboundInput): Promise<PollStats> {
      const ctx = Context.current();
      const { taskQueue } = ctx.info;
      const stats: PollStats = { received: 0, routed: 0, bad: 0, failed: 0, deleteFailed: 0, temporalPauses: 0 };
      let lastError: string | undefined;
      // `stop`: no new receive starts. `abortReceives`: the long polls in flight end too (cancel
      // and shutdown only; at a lease's end they run out, so no message is left invisible).
      const stop = new AbortController();
      const abortReceives = new AbortController();
      const gate = new TemporalGate(
        () => client.workflowService.describeNamespace({ namespace: client.options.namespace }),
        () => {
          stats.temporalPauses++;
          logger.warn({ queueUrl }, 'Temporal refused replies: receiving paused until it answers again; replies wait on the queue');
        },
        (pausedMs) => logger.info({ queueUrl, lastPauseMs: pausedMs }, 'Temporal answers again: receiving resumed'),
      );

      const lane = async () => {
        const sqsBackoff = new Backoff();
        while (!stop.signal.aborted) {
          await gate.opened(stop.signal);
          if (stop.signal.aborted) break;
          let messages: Message[];
          try {
            const out = await sqs.send(
              new ReceiveMessageCommand({
                QueueUrl: queueUrl,
                MaxNumberOfMessages: settings.pollBatchSize,
                WaitTimeSeconds: settings.pollWaitSeconds,
                MessageSystemAttributeNames: ['ApproximateReceiveCount'],
              }),
              { abortSignal: abortReceives.signal },
            );
            messages = out.Messages ?? [];
            sqsBackoff.reset();
            lastError = undefined;
          } catch (err) {
            if (abortReceives.signal.aborted) break;
            // Without this, a missing queue or a bad credential would be retried in a tight loop.
            const retryInMs = sqsBackoff.failed();
            lastError = (err as Error).message;
            logger.warn({ err: lastError, queueUrl, retryInMs }, 'SQS receive failed; retrying');
            await pause(retryInMs, stop.signal);
            continue;
          }
          // From here on nothing is aborted: a received batch is routed and deleted even while
          // the activity stops, so a lease's end never leaves replies invisible on the queue.
          if (messages.length > 0) await handle(messages);
          await pause(settings.pollIntervalMs, stop.signal);
        }
      };

      const handle = async (messages: Message[]) => {
        const failedBefore = stats.failed;
        const routed = await routeBatch({ client, logger, settings }, messages, taskQueue, stats);
        if (stats.failed > failedBefore) gate.close();
        if (routed.length === 0) return;
        try {
          const out = await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: routed.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
          if (out.Failed?.length) {
            stats.deleteFailed += out.Failed.length;
            logger.warn({ failed: out.Failed.length, reason: out.Failed[0]?.Message }, 'could not delete routed replies; their second delivery will be deduped');
          }
        } catch (err) {
          stats.deleteFailed += routed.length;
          logger.warn({ err: (err as Error).message, count: routed.length }, 'could not delete routed replies; their second delivery will be deduped');
        }
      };

      const heartbeat = setInterval(() => ctx.heartbeat({ ...stats, lastError, paused: gate.isClosed }), HEARTBEAT_EVERY_MS);
      let leaseTimer: NodeJS.Timeout | undefined;
      const leaseEnded = new Promise<void>((resolve) => (leaseTimer = setTimeout(resolve, leaseMs)));
      logger.info({ queueUrl, concurrency: settings.pollConcurrency }, 'inbound poller started');
      const lanes = Promise.all(Array.from({ length: settings.pollConcurrency }, lane));
      try {
        await Promise.race([leaseEnded, ctx.cancelled]);
      } catch {
        // Cancelled (or the worker is shutting down): end the long polls now.
        abortReceives.abort();
      } finally {
        clearTimeout(leaseTimer);
        stop.abort();
        // The batches in hand finish routing and deleting before the activity ends.
        await lanes;
        clearInterval(heartbeat);
        logger.info({ queueUrl, ...stats }, 'inbound poller stopped');
      }
      return stats;
    },
  };
}
