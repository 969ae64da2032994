import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { parseInboundMessage } from '../domain/inbound-message';
import type { InboundParseResult, InboundReply, InboundStamps } from '../domain/inbound-message';
import { SnsSignatureVerifier } from '../aws/sns-signature';
import type { Settings } from '../config';
import { maskPhone } from '../domain/phone-mask';
import { repliesBad, repliesNotRouted, repliesRouted } from '../metrics';
import type { askWorkflow } from '../workflows/ask';
import { recipientWorkflowId, replySignal, replyUndeliveredSignal, routeReplyUpdate } from '../workflows/definitions';
import type { ReplyDelivery, ReplyRouting, RoutedReply } from '../workflows/definitions';
import type { ActivityDeps } from './deps';
import { Backoff, pause, TemporalGate } from './poll-pacing';
import { pendingAskIdsFor, restoreRecipient } from './recipient-restore';

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
  /** Replies whose routing was cut short as the poller stopped; they come back after the visibility timeout. */
  returned: number;
  /** Replies kept on the queue because their phone's recipient workflow is gone while asks list the phone. */
  held: number;
}

const HEARTBEAT_EVERY_MS = 5_000;
/** Replies one receive lane routes at once, while it goes on receiving: five full batches. */
const ROUTINGS_IN_HAND_PER_LANE = 50;

/**
 * What happens to one parsed reply: Temporal took it (or there is nothing to take it); or it stays
 * on the queue to be routed again, because Temporal failed, the router is stopping (`returned`), or
 * the phone's recipient workflow is gone while asks still list the phone (`held`).
 */
export type RouteOutcome = 'routed' | 'no_asks' | 'failed' | 'returned' | 'held';

/** A routing that waits on a stuck workflow task gives the reply back to the queue instead of holding its lane. */
const ROUTE_DEADLINE_MS = 60_000;

/**
 * Hands one parsed reply to its phone's recipient workflow, the one way in for replies whatever
 * carried them (the SQS poller, a webhook). The recipient dedupes and decides in one workflow task;
 * an answer comes back, and is signalled to its ask from here. Every step may run again for a
 * redelivery: the recipient dedupes the decision (and hands an answer over again), the ask the answer.
 * `stop` cuts a routing short (the worker is shutting down, and may be the one that would run the
 * recipient's task): the reply stays on the queue for the next router.
 */
export async function routeReply(
  deps: RouterDeps,
  taskQueue: string,
  reply: InboundReply,
  stop?: AbortSignal,
  restoring = true,
): Promise<RouteOutcome> {
  return (await routeReplyDecided(deps, taskQueue, reply, stop, restoring)).outcome;
}

type RouterDeps = Pick<ActivityDeps, 'client' | 'logger'> & Partial<Pick<ActivityDeps, 'settings'>>;

/** What routeReplyDecided did, and, once routed, what the recipient decided (the ask it answers, or why none). */
export interface RoutedOutcome {
  outcome: RouteOutcome;
  routing?: ReplyRouting;
}

/** routeReply, with the recipient's decision: for a caller that tells a person what became of the reply. */
export async function routeReplyDecided(deps: RouterDeps, taskQueue: string, reply: InboundReply, stop?: AbortSignal, restoring = true): Promise<RoutedOutcome> {
  const { client, logger } = deps;
  const recipient = client.workflow.getHandle(recipientWorkflowId(taskQueue, reply.from));
  let routing: ReplyRouting | undefined;
  const route = () =>
    client.withDeadline(Date.now() + ROUTE_DEADLINE_MS, async () => {
      routing = await recipient.executeUpdate(routeReplyUpdate, { args: [reply] });
      if (routing.deliver) await handOver(client, recipient, routing.deliver);
    });
  try {
    await (stop ? client.withAbortSignal(stop, route) : route());
    repliesRouted.inc();
    return { outcome: 'routed', ...(routing && { routing }) };
  } catch (err) {
    if (stop?.aborted) {
      logger.info({ dedupeKey: reply.dedupeKey }, 'reply left on the queue for the next router: this one is stopping');
      return { outcome: 'returned' };
    }
    if (err instanceof WorkflowNotFoundError && err.workflowId === recipient.workflowId) {
      return routeToGoneRecipient(deps, taskQueue, reply, stop, restoring);
    }
    logger.warn({ dedupeKey: reply.dedupeKey, err }, 'could not hand the reply to Temporal');
    repliesNotRouted.inc({ reason: 'signal_failed' });
    return { outcome: 'failed' };
  }
}

/**
 * The phone's recipient workflow does not run. With no waiting ask listing the phone, there is
 * nothing to answer. Otherwise the workflow is gone (terminated or failed): it is started again with
 * the asks' codes and the reply routed once more; if that fails, the reply stays on the queue.
 */
async function routeToGoneRecipient(
  deps: RouterDeps,
  taskQueue: string,
  reply: InboundReply,
  stop: AbortSignal | undefined,
  restoring: boolean,
): Promise<RoutedOutcome> {
  const { client, logger } = deps;
  const from = maskPhone(reply.from);
  let askIds: string[];
  try {
    askIds = await pendingAskIdsFor(client, taskQueue, reply.from);
  } catch (err) {
    logger.warn({ dedupeKey: reply.dedupeKey, err }, 'could not list the asks of a phone without a recipient workflow; the reply stays on the queue');
    repliesNotRouted.inc({ reason: 'signal_failed' });
    return { outcome: 'failed' };
  }
  if (askIds.length === 0) {
    // No ask was ever sent to this phone (or its last one ended long ago): nothing to answer.
    logger.info({ dedupeKey: reply.dedupeKey, from }, 'reply from a phone with no asks; dropped');
    repliesNotRouted.inc({ reason: 'no_asks' });
    return { outcome: 'no_asks' };
  }
  repliesNotRouted.inc({ reason: 'recipient_gone' });
  logger.warn({ dedupeKey: reply.dedupeKey, from, asks: askIds.length }, "the phone's recipient workflow is gone while asks list the phone: starting it again with their codes");
  if (restoring) {
    try {
      const { restored } = await restoreRecipient(client, deps.settings ?? DEFAULT_CODE_SETTINGS, taskQueue, reply.from, askIds);
      if (restored.length > 0) {
        logger.warn({ from, restored: restored.length }, "recipient workflow started again with its asks' codes");
        return await routeReplyDecided(deps, taskQueue, reply, stop, false);
      }
    } catch (err) {
      logger.warn({ dedupeKey: reply.dedupeKey, err }, 'could not start the recipient workflow again');
    }
  }
  logger.warn({ dedupeKey: reply.dedupeKey, from }, 'reply left on the queue until the phone\'s recipient workflow is back');
  return { outcome: 'held' };
}

/** Only used for a restore by a router that was given no settings; the kept codes are not allocated anew. */
const DEFAULT_CODE_SETTINGS = { codeMode: 'random', codeLength: 4 } as const;

/**
 * Signals the answer to its ask. An ask that has closed either has it already (a redelivery after
 * the first hand-over) or ended before it came: then the recipient answers the phone "expired".
 */
async function handOver(client: Client, recipient: WorkflowHandle, { askId, reply }: ReplyDelivery): Promise<void> {
  try {
    await client.workflow.getHandle(askId).signal(replySignal, reply);
    return;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  if (await answeredWith(client, askId, reply)) return;
  try {
    await recipient.signal(replyUndeliveredSignal, { askId, dedupeKey: reply.dedupeKey });
  } catch (err) {
    // The recipient has ended too: nobody is left to tell.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

/** Whether the closed ask's result holds this phone's answer to this reply. */
async function answeredWith(client: Client, askId: string, reply: RoutedReply): Promise<boolean> {
  const final = await client.workflow
    .getHandle<typeof askWorkflow>(askId)
    .result()
    .catch(() => undefined); // failed, cancelled or terminated: it took no answer since
  const answer = final?.recipients.find((r) => r.phone === reply.phone)?.answer;
  return answer !== undefined && answer.optionIndex === reply.optionIndex && answer.code === reply.code;
}

/**
 * Parses an SQS message body in the formats the deployment takes, from its inbound topic only, and,
 * with inboundVerifySignatures, only with a valid SNS signature.
 */
export async function readInboundMessage(
  body: string,
  messageId: string,
  settings: Partial<Pick<Settings, 'maxReplyBytes' | 'inboundFormats' | 'inboundTopicArn' | 'inboundVerifySignatures'>> | undefined,
  signatures: SnsSignatureVerifier | undefined,
  stamps: InboundStamps = {},
): Promise<InboundParseResult> {
  const parsed = parseInboundMessage(
    body,
    messageId,
    { maxBodyBytes: settings?.maxReplyBytes, formats: settings?.inboundFormats, topicArn: settings?.inboundTopicArn },
    stamps,
  );
  if (!parsed.ok || !settings?.inboundVerifySignatures) return parsed;
  if (!signatures) return { ok: false, reason: 'SNS signatures are to be verified, but this router has no verifier' };
  const envelope = JSON.parse(body.replace(/^\uFEFF/, '')) as Record<string, unknown>;
  if (!('Type' in envelope)) return { ok: false, reason: 'a message without an SNS envelope carries no signature (inboundVerifySignatures is on)' };
  const verdict = await signatures.verify(envelope);
  return verdict.ok ? parsed : { ok: false, reason: verdict.reason };
}

/**
 * Routes a batch received from SQS. Only messages that Temporal took are returned, and so deleted;
 * the rest go back to the queue, and bad ones reach the DLQ through the redrive policy.
 */
export async function routeBatch(
  deps: Pick<ActivityDeps, 'client' | 'logger'> & Partial<Pick<ActivityDeps, 'settings'>> & { signatures?: SnsSignatureVerifier },
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
      const outcome = await routeReply(deps, taskQueue, parsed.reply, stop);
      if (outcome === 'failed' || outcome === 'returned' || outcome === 'held') {
        stats[outcome]++;
        return undefined;
      }
      stats.routed++;
      return message;
    }),
  );
  return outcomes.filter((m): m is Message => m !== undefined);
}

export function createInboundActivities({ sqs, client, settings, logger }: ActivityDeps) {
  // One per worker, so that each signing certificate is fetched once.
  const signatures = settings.inboundVerifySignatures ? new SnsSignatureVerifier({ certUrlPrefixes: settings.snsSigningCertUrlPrefixes }) : undefined;
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
      const stats: PollStats = { received: 0, routed: 0, bad: 0, failed: 0, deleteFailed: 0, temporalPauses: 0, returned: 0, held: 0 };
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
          logger.warn({ queueUrl }, 'Temporal refused replies: receiving paused until it answers again; replies wait on the queue');
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
                .catch((err: unknown) => logger.error({ err }, 'routing a batch failed unexpectedly; its replies come back from the queue'))
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
        const routed = await routeBatch({ client, logger, settings, signatures }, messages, taskQueue, stats, interrupt.signal);
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
