/**
 * The reply router: hands a parsed reply to its phone's recipient workflow, and the decided answer
 * to its ask. The SQS poll activity and the HTTP inbound routes both route through it.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Settings } from '../config';
import type { InboundReply } from '../domain/inbound-message';
import { maskPhone } from '../domain/phone-mask';
import { repliesNotRouted, repliesRouted } from '../observability/metrics';
import { recipientWorkflowId, replySignal, replyUndeliveredSignal, routeReplyUpdate } from '../workflows/definitions';
import type { AskWorkflow, ReplyDelivery, ReplyRouting, RoutedReply } from '../workflows/definitions';
import { pendingAskIdsFor, restoreRecipient } from './recipient-restore';

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

/** What the router is built over: the poll activity and the HTTP routes each pass their own. */
export interface RouterDeps {
  client: Client;
  logger: Logger;
  settings?: Settings;
}

/** What routeReplyDecided did, and, once routed, what the recipient decided (the ask it answers, or why none). */
export interface RoutedOutcome {
  outcome: RouteOutcome;
  routing?: ReplyRouting;
}

/** routeReply, with the recipient's decision: for a caller that tells a person what became of the reply. */
export async function routeReplyDecided(
  deps: RouterDeps,
  taskQueue: string,
  reply: InboundReply,
  stop?: AbortSignal,
  restoring = true,
): Promise<RoutedOutcome> {
  const { client, logger } = deps;
  const recipient = client.workflow.getHandle(recipientWorkflowId(taskQueue, reply.from));
  let routing: ReplyRouting | undefined;
  const route = () =>
    client.withDeadline(Date.now() + ROUTE_DEADLINE_MS, async () => {
      routing = await recipient.executeUpdate(routeReplyUpdate, { args: [reply] });
      if (routing.deliver) await handOver(client, recipient, routing.deliver);
    });
  try {
    await (stop ? withStopSignal(client, stop, route) : route());
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
    logger.warn(
      { dedupeKey: reply.dedupeKey, err },
      'could not list the asks of a phone without a recipient workflow; the reply stays on the queue',
    );
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
  logger.warn(
    { dedupeKey: reply.dedupeKey, from, asks: askIds.length },
    "the phone's recipient workflow is gone while asks list the phone: starting it again with their codes",
  );
  if (restoring) {
    try {
      const { restored } = await restoreRecipient(
        client,
        deps.settings ?? DEFAULT_CODE_SETTINGS,
        taskQueue,
        reply.from,
        askIds,
      );
      if (restored.length > 0) {
        logger.warn({ from, restored: restored.length }, "recipient workflow started again with its asks' codes");
        return await routeReplyDecided(deps, taskQueue, reply, stop, false);
      }
    } catch (err) {
      logger.warn({ dedupeKey: reply.dedupeKey, err }, 'could not start the recipient workflow again');
    }
  }
  logger.warn(
    { dedupeKey: reply.dedupeKey, from },
    "reply left on the queue until the phone's recipient workflow is back",
  );
  return { outcome: 'held' };
}

/**
 * Runs `fn`'s Temporal calls so that `stop` cancels them. The SDK adds an abort listener for every
 * call made under a signal and never removes it; under the poll lease's long-lived signal, every
 * routed reply would leave its listeners (and their gRPC calls) behind until the lease ends. Each
 * routing gets a signal of its own, linked to `stop` only while it runs.
 */
export async function withStopSignal<T>(
  client: Pick<Client, 'withAbortSignal'>,
  stop: AbortSignal,
  fn: () => Promise<T>,
): Promise<T> {
  // A call started under a signal that has already aborted would never be cancelled.
  if (stop.aborted) throw new Error('routing cancelled: the router is stopping');
  const routing = new AbortController();
  const onStop = () => routing.abort(stop.reason);
  stop.addEventListener('abort', onStop, { once: true });
  try {
    return await client.withAbortSignal(routing.signal, fn);
  } finally {
    stop.removeEventListener('abort', onStop);
  }
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
    .getHandle<AskWorkflow>(askId)
    .result()
    .catch(() => undefined); // failed, cancelled or terminated: it took no answer since
  const answer = final?.recipients.find((r) => r.phone === reply.phone)?.answer;
  return answer !== undefined && answer.optionIndex === reply.optionIndex && answer.code === reply.code;
}
