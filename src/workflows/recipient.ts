import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { InboundReply } from '../domain/inbound-message';
import { askEndedSignal, inboundSignal, optedOutSignal, pendingAsksQuery, registerUpdate, replySignal } from './definitions';
import type { RecipientInput } from './definitions';
import { RecipientBook } from './recipient-book';
import { smsActivities } from './sms-activities';

const feedbackOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
} as const;

/** With no pending ask and no message for this long, the workflow ends (and forgets ended asks). */
const IDLE_LIFETIME_MS = 24 * 3600 * 1000;
const MAX_HISTORY_EVENTS = 5_000;
/** With asks pending, wake this often anyway to re-check the history size. */
const MAX_WAIT_MS = 3600 * 1000;

/**
 * One per phone number: hands out reply codes unique among that phone's pending asks, and routes
 * each inbound reply to the ask it answers. Everything for one phone happens here, in order.
 */
export async function recipientWorkflow(input: RecipientInput): Promise<void> {
  const book = new RecipientBook(input.state);
  const inbox: InboundReply[] = [];

  setHandler(registerUpdate, (registration) => book.register(registration), {
    validator: (registration) => book.checkRegistration(registration),
  });
  setHandler(inboundSignal, (reply) => {
    inbox.push(reply);
  });
  setHandler(askEndedSignal, ({ askId }) => {
    book.end(askId, new Date());
  });
  setHandler(pendingAsksQuery, () => book.pending());

  for (;;) {
    const woke = await condition(
      () => inbox.length > 0 || workflowInfo().continueAsNewSuggested,
      book.hasPending() ? MAX_WAIT_MS : IDLE_LIFETIME_MS,
    );
    while (inbox.length > 0) await handle(input.phone, book, inbox.shift()!);

    if (!woke && !book.hasPending()) {
      await condition(allHandlersFinished);
      if (inbox.length === 0 && !book.hasPending()) return;
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS) {
      await condition(allHandlersFinished);
      if (inbox.length === 0) await continueAsNew<typeof recipientWorkflow>({ phone: input.phone, state: book.snapshot() });
    }
  }
}

async function handle(phone: string, book: RecipientBook, reply: InboundReply): Promise<void> {
  const decision = book.route(reply, new Date());
  switch (decision.kind) {
    case 'duplicate':
      log.info('duplicate reply dropped', { dedupeKey: reply.dedupeKey });
      return;
    case 'answer':
      try {
        await getExternalWorkflowHandle(decision.askId).signal(replySignal, decision.reply);
      } catch {
        // The ask closed between its last word to us and this reply.
        const ended = book.end(decision.askId, new Date());
        if (ended) await feedback(phone, 'expired', { question: ended.question });
      }
      return;
    case 'opt_out':
      for (const askId of decision.askIds) {
        await getExternalWorkflowHandle(askId)
          .signal(optedOutSignal, { phone, at: new Date().toISOString() })
          .catch(() => undefined);
      }
      return;
    case 'feedback':
      await feedback(phone, decision.feedback, decision.values);
      return;
    case 'ignore':
      log.info('reply from a phone with no open asks ignored', { dedupeKey: reply.dedupeKey });
      return;
  }
}

async function feedback(to: string, kind: 'expired' | 'failure' | 'help', values: Record<string, string>): Promise<void> {
  try {
    await smsActivities(feedbackOptions).sendFeedback({ to, kind, values });
  } catch (err) {
    log.warn('feedback SMS not sent', { kind, error: String(err) });
  }
}
