/**
 * Starts an ask's webhook deliveries, each as an abandoned child workflow: the ask goes on (or
 * ends, and its result is returned) while the delivery retries on its own. Deterministic.
 */
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import type { NormalizedCallback } from '../domain/callback';
import { webhookDeliveryId } from './definitions';
import type { AskState, WebhookDeliveryInput, WebhookType } from './definitions';
import { webhookDeliveryWorkflow } from './webhook-delivery';

/**
 * A copy of the state (which goes on changing) without any recipient's reply codes: codes are for
 * the phone, and a receiver that holds them could answer while the ask waits; once it ends, a
 * freed code may be given to the phone's next ask.
 */
export function withoutCodes(state: AskState): AskState {
  const copy = JSON.parse(JSON.stringify(state)) as AskState;
  for (const recipient of copy.recipients) recipient.codes = [];
  return copy;
}

export class OutcomeWebhooks {
  private seenEvents = 0;
  /** Phones whose undelivered question has had its webhook: a reminder's failure after it makes no second one. */
  private readonly undelivered = new Set<string>();
  private readonly starting: Promise<void>[] = [];

  constructor(
    private readonly askId: string,
    private readonly callback: NormalizedCallback | undefined,
  ) {}

  /**
   * Starts a delivery for each escalation, opt-out, guess limit or undelivered question logged since
   * the last call, if the callback wants them. An undelivered reminder or feedback SMS has none.
   */
  observe(state: AskState): void {
    const events = state.events.slice(this.seenEvents);
    const first = this.seenEvents;
    this.seenEvents = state.events.length;
    const wanted = this.callback?.events ?? [];
    events.forEach((event, i) => {
      if (event.type === 'escalated' && wanted.includes('escalated'))
        this.start({ type: 'escalated', index: first + i }, 'ask.escalated', state);
      if (event.type === 'opted_out' && wanted.includes('opted_out'))
        this.start({ type: 'opted_out', index: first + i }, 'ask.opted_out', state);
      if (event.type === 'guess_limit_reached' && wanted.includes('guess_limit_reached')) {
        this.start({ type: 'guess_limit_reached', index: first + i }, 'ask.guess_limit_reached', state);
      }
      if (
        event.type === 'undelivered' &&
        wanted.includes('undelivered') &&
        this.questionUndelivered(event.phone, state)
      )
        this.start({ type: 'undelivered', index: first + i }, 'ask.undelivered', state);
    });
  }

  /** The ask has ended: starts the outcome delivery. Resolves once every delivery has started, not finished. */
  async ended(state: AskState): Promise<void> {
    this.observe(state);
    if (state.status !== 'waiting' && this.callback?.events.includes('ended')) this.start('ended', 'ask.ended', state);
    await Promise.all(this.starting);
  }

  /** The first `undelivered` entry of a phone whose question is undelivered: the question's own. */
  private questionUndelivered(phone: string | undefined, state: AskState): boolean {
    const recipient = state.recipients.find((r) => r.phone === phone);
    if (!phone || recipient?.delivery?.status !== 'undelivered' || this.undelivered.has(phone)) return false;
    this.undelivered.add(phone);
    return true;
  }

  private start(event: Parameters<typeof webhookDeliveryId>[1], type: WebhookType, state: AskState): void {
    const callback = this.callback!;
    const deliveryId = webhookDeliveryId(this.askId, event);
    const input: WebhookDeliveryInput = {
      deliveryId,
      type,
      url: callback.url,
      ...(callback.secret !== undefined && { secret: callback.secret }),
      ...(callback.secretName !== undefined && { secretName: callback.secretName }),
      ...(callback.authorization !== undefined && { authorizationName: callback.authorization }),
      retryForMs: callback.retryForMs,
      createdAt: new Date().toISOString(),
      ask: withoutCodes(state),
    };
    this.starting.push(
      startChild(webhookDeliveryWorkflow, {
        workflowId: deliveryId,
        args: [input],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      }).then(
        () => undefined,
        // Already started (the same ask id run again): that delivery stands.
        () => undefined,
      ),
    );
  }
}
