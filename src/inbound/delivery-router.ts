/**
 * Hands a delivery event of an SMS to the ask that sent it, named by the SMS's Context. The ask
 * matches it to the recipient and message, and takes each event once, so a redelivery is harmless.
 * Only final events (delivered, undelivered, unknown) are handed over.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { InboundDelivery } from '../domain/inbound-message';
import { maskPhone } from '../domain/phone-mask';
import { smsDeliveryEvents, smsSendToDeliverySeconds } from '../observability/metrics';
import { deliverySignal, isAskWorkflowId } from '../workflows/definitions';
import type { RouteOutcome, RouterDeps } from './reply-router';

export async function routeDeliveryEvent(
  { client, logger }: RouterDeps,
  { event, dedupeKey }: InboundDelivery,
): Promise<RouteOutcome> {
  const about = { messageId: event.messageId, eventType: event.eventType, to: maskPhone(event.destination), dedupeKey };
  if (event.status === 'pending') {
    // Queued, sent, accepted by the carrier with a receipt to come: nothing for the ask to act on,
    // and each signal would cost it a workflow task. The final event repeats the price.
    smsDeliveryEvents.inc({ status: event.status, event_type: event.eventType });
    logger.debug(about, 'delivery event on the way to final: not handed to the ask');
    return 'no_asks';
  }
  if (event.askId === undefined || !isAskWorkflowId(event.askId)) {
    // Another sender's message through the same configuration set, or a one-way SMS: no ask waits on it.
    logger.info(about, 'delivery event of an SMS no ask is waiting on: nothing to route');
    return 'no_asks';
  }
  try {
    await client.workflow.getHandle(event.askId).signal(deliverySignal, event);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      logger.info({ ...about, askId: event.askId }, 'delivery event of an ask that has ended: nothing to change');
      return 'no_asks';
    }
    logger.warn(
      { ...about, err: (err as Error).message },
      'delivery event not handed to its ask; it comes back from the queue',
    );
    return 'failed';
  }
  smsDeliveryEvents.inc({ status: event.status, event_type: event.eventType });
  if (event.status === 'delivered' && event.sentAt !== undefined)
    smsSendToDeliverySeconds.observe(Math.max(Date.parse(event.at) - Date.parse(event.sentAt), 0) / 1000);
  logger.info({ ...about, askId: event.askId, status: event.status }, 'delivery event handed to its ask');
  return 'routed';
}
