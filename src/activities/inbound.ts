import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { Context } from '@temporalio/activity';
import { readInboundBody } from '../domain/inbound-message';
import type { InboundReadResult, InboundStamps } from '../domain/inbound-message';
import { SnsSignatureVerifier } from '../aws/sns-signature';
import type { Settings } from '../config';
import { routeDeliveryEvent } from '../inbound/delivery-router';
import { routeReply } from '../inbound/reply-router';
import { repliesBad } from '../observability/metrics';
import type { PollInboundInput, PollStats } from '../workflows/definitions';
import type { ActivityDeps } from './deps';
import { Backoff, pause, TemporalGate } from './poll-pacing';

const HEARTBEAT_EVERY_MS = 5_000;
/** Replies one receive lane routes at once, while it goes on receiving: five full batches. */
const ROUTINGS_IN_HAND_PER_LANE = 50;

/**
 * Parses an SQS message body (a reply, or an SMS's delivery event) in the formats the deployment
 * takes, from its inbound topic only, and, with inboundVerifySignatures, only with a valid SNS signature.
 */
export async function readInboundMessage(
  body: string,
  messageId: string,
  settings:
    | Partial<Pick<Settings, 'maxReplyBytes' | 'inboundFormats' | 'inboundTopicArn' | 'inboundVerifySignatures'>>
    | undefined,
  signatures: SnsSignatureVerifier | undefined,
  stamps: InboundStamps = {},
): Promise<InboundReadResult> {
  const parsed = readInboundBody(
    body,
    messageId,
    { maxBodyBytes: settings?.maxReplyBytes, formats: settings?.inboundFormats, topicArn: settings?.inboundTopicArn },
    stamps,
  );
  if (!parsed.ok || !settings?.inboundVerifySignatures) return parsed;
  if (!signatures) return { ok: false, reason: 'SNS signatures are to be verified, but this router has no verifier' };
  const envelope = JSON.parse(body.replace(/^\uFEFF/, '')) as Record<string, unknown>;
  if (!('Type' in envelope))
    return {
      ok: false,
      reason: 'a message without an SNS envelope carries no signature (inboundVerifySignatures is on)',
    };
  const verdict = await signatures.verify(envelope);
  return verdict.ok ? parsed : { ok: false, reason: verdict.reason };
}

/**
 * Routes a batch received from SQS. Only messages that Temporal took are returned, and so deleted;
 * the rest go back to the queue, and bad ones reach the DLQ through the redrive policy.
 */
export async function routeBatch(
  deps: Pick<ActivityDeps, 'client' | 'logger'> &
    Partial<Pick<ActivityDeps, 'settings'>> & { signatures?: SnsSignatureVerifier },
  messages: Message[],
  taskQueue: string,
  stats: PollStats,
  stop?: AbortSignal,
): Promise<Message[]> {
  stats.received += messages.length;
  const outcomes = await Promise.all(
    messages.map(async (message): Promise<Message | undefined> => {
      const messageId = message.MessageId ?? '';
      const parsed = await readInboundMessage(message.Body ?? '', messageId, deps.settings, deps.signatures, {
        sqsSentTimestamp: message.Attributes?.SentTimestamp,
      });
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
      const outcome =
        'delivery' in parsed
          ? await routeDeliveryEvent(deps, parsed.delivery)
          : await routeReply(deps, taskQueue, parsed.reply, stop);
      if (outcome === 'failed' || outcome === 'returned' || outcome === 'held') {
        stats[outcome]++;
        return undefined;
      }
      stats.routed++;
      if ('delivery' in parsed) {
        stats.deliveryEvents = (stats.deliveryEvents ?? 0) + 1;
        stats.lastDeliveryEventAt = new Date().toISOString();
      }
      return message;
    }),
  );
  return outcomes.filter((m): m is Message => m !== undefined);
}

export function createInboundActivities({ sqs, client, settings, logger }: ActivityDeps) {
  // One per worker, so that each signing certificate is fetched once.
  const signatures = settings.inboundVerifySignatures
    ? new SnsSignatureVerifier({ certUrlPrefixes: settings.snsSigningCertUrlPrefixes })
    : undefined;
  return {
    /**
     * Polls the inbound queue with `pollConcurrency` long polls in flight until cancelled, the
     * worker shuts down, or the lease ends; each such lane routes what it received (up to 50
     * replies at once) while it receives on. Several of these may run at once, in one process or
     * many: SQS hands each message to one receiver at a time, and the recipient workflow dedupes
     * the redeliveries that a crash or a lost delete causes, so every reply is routed once.
     */
    async pollInbound({ queueUrl, leaseMs }: PollInboundInput): Promise<PollStats> {
      const ctx = Context.current();
      const { taskQueue } = ctx.info;
      const stats: PollStats = {
        received: 0,
        routed: 0,
        bad: 0,
        failed: 0,
        deleteFailed: 0,
        temporalPauses: 0,
        returned: 0,
        held: 0,
      };
      let lastError: string | undefined;
      // `stop`: no new receive starts. `interrupt` (cancel and shutdown only): the long polls in
      // flight end too, and routings in hand are cut short, their replies left on the queue (the
      // recipient's task may be due on this very worker, which runs no more). At a lease's end
      // both run out, so no message is left invisible.
      const stop = new AbortController();
      const interrupt = new AbortController();
      const gate = new TemporalGate(
        () => client.workflowService.describeNamespace({ namespace: client.options.namespace }),
        () => {
          stats.temporalPauses++;
          logger.warn(
            { queueUrl },
            'Temporal refused replies: receiving paused until it answers again; replies wait on the queue',
          );
        },
        (pausedMs) => logger.info({ queueUrl, lastPauseMs: pausedMs }, 'Temporal answers again: receiving resumed'),
      );

      const lane = async () => {
        const sqsBackoff = new Backoff();
        // Routed while the next receive runs: a reply whose recipient task is slow (a replay, a busy
        // worker) must not hold up the replies behind it.
        const inHand = new Set<Promise<void>>();
        let messagesInHand = 0;
        try {
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
                  MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
                }),
                { abortSignal: interrupt.signal },
              );
              messages = out.Messages ?? [];
              sqsBackoff.reset();
              lastError = undefined;
            } catch (err) {
              if (interrupt.signal.aborted) break;
              // Without this, a missing queue or a bad credential would be retried in a tight loop.
              const retryInMs = sqsBackoff.failed();
              lastError = (err as Error).message;
              logger.warn({ err: lastError, queueUrl, retryInMs }, 'SQS receive failed; retrying');
              await pause(retryInMs, stop.signal);
              continue;
            }
            if (messages.length > 0) {
              messagesInHand += messages.length;
              const routing = handle(messages)
                .catch((err: unknown) =>
                  logger.error({ err }, 'routing a batch failed unexpectedly; its replies come back from the queue'),
                )
                .finally(() => {
                  messagesInHand -= messages.length;
                  inHand.delete(routing);
                });
              inHand.add(routing);
              while (messagesInHand >= ROUTINGS_IN_HAND_PER_LANE) await Promise.race(inHand);
            }
            await pause(settings.pollIntervalMs, stop.signal);
          }
        } finally {
          // A received batch is routed and deleted even while the activity stops at a lease's end,
          // so that never leaves replies invisible on the queue.
          await Promise.all(inHand);
        }
      };

      const handle = async (messages: Message[]) => {
        const failedBefore = stats.failed;
        const routed = await routeBatch(
          { client, logger, settings, signatures },
          messages,
          taskQueue,
          stats,
          interrupt.signal,
        );
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
            logger.warn(
              { failed: out.Failed.length, reason: out.Failed[0]?.Message },
              'could not delete routed replies; their second delivery will be deduped',
            );
          }
        } catch (err) {
          stats.deleteFailed += routed.length;
          logger.warn(
            { err: (err as Error).message, count: routed.length },
            'could not delete routed replies; their second delivery will be deduped',
          );
        }
      };

      const heartbeat = setInterval(
        () => ctx.heartbeat({ ...stats, lastError, paused: gate.isClosed }),
        HEARTBEAT_EVERY_MS,
      );
      let leaseTimer: NodeJS.Timeout | undefined;
      const leaseEnded = new Promise<void>((resolve) => (leaseTimer = setTimeout(resolve, leaseMs)));
      logger.info({ queueUrl, concurrency: settings.pollConcurrency }, 'inbound poller started');
      const lanes = Promise.all(Array.from({ length: settings.pollConcurrency }, lane));
      try {
        await Promise.race([leaseEnded, ctx.cancelled]);
      } catch {
        // Cancelled (or the worker is shutting down): end the long polls and routings now.
        interrupt.abort();
      } finally {
        clearTimeout(leaseTimer);
        stop.abort();
        // The batches in hand are routed and deleted (or, interrupted, left on the queue) before the activity ends.
        await lanes;
        clearInterval(heartbeat);
        logger.info({ queueUrl, ...stats }, 'inbound poller stopped');
      }
      return stats;
    },
  };
}
