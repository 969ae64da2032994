import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { versioningBehavior } from './versioning-behavior';
import type { MainActivities } from './definitions';
import type { InboundReply } from '../domain/inbound-message';
import { maskPhone } from '../domain/phone-mask';
import {
  askEndedSignal,
  inboundSignal,
  optedOutSignal,
  pendingAsksQuery,
  recipientNoticeSignal,
  registerUpdate,
  replySignal,
  replyUndeliveredSignal,
  routeReplyUpdate,
} from './definitions';
import type { RecipientInput, RecipientNotice, ReplyRouting } from './definitions';
import { workflowMetrics } from './metrics-sink';
import { RecipientBook, refusalOf } from './recipient-book';
import type { FeedbackDecision, RouteDecision } from './recipient-book';
import { smsActivities } from './sms-activities';

const feedbackOptions = {
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
} as const;

// One SNS read; a failed check counts as "not listed yet", and the next check comes anyway.
const { isPhoneOptedOut } = proxyActivities<MainActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', maximumInterval: '5s', maximumAttempts: 3 },
});

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
  /** Replies signalled by routers older than `routeReply`, routed here in order. */
  const inbox: InboundReply[] = [];
  /** What routed replies leave to do (feedback, STOP checks, notices), in order. */
  const todo: Array<{ decision: RouteDecision; dedupeKey: string }> = [];
  const phone = new PhoneActions(input.phone, book);
  /** Workflow time of the last registration, reply or ended ask: the idle lifetime counts from it. */
  let lastActivityAt = Date.now();

  setHandler(
    registerUpdate,
    (registration) =>
      rejectOnError(() => {
        lastActivityAt = Date.now();
        return book.register(registration, new Date());
      }),
    { validator: (registration) => book.checkRegistration(registration) },
  );
  // Decided at once, so the answer goes back to the router in this same workflow task.
  setHandler(routeReplyUpdate, (reply): ReplyRouting => {
    lastActivityAt = Date.now();
    const decision = phone.decide(reply);
    const refused = refusalOf(decision);
    if (!decision) return { refused: refused! };
    if (decision.kind === 'answer') {
      const delivery = { askId: decision.askId, reply: decision.reply };
      book.handOver(delivery, new Date());
      return { deliver: delivery };
    }
    // A redelivery of an answer: handed over again (its router may have stopped before the signal).
    if (decision.kind === 'duplicate' && decision.delivery) {
      workflowMetrics.replyDuplicate();
      log.info('duplicate of an answer: handed over again, for its ask to take once', { dedupeKey: reply.dedupeKey });
      return { deliver: decision.delivery };
    }
    todo.push({ decision, dedupeKey: reply.dedupeKey });
    return refused === undefined ? {} : { refused };
  });
  setHandler(replyUndeliveredSignal, ({ askId, dedupeKey }) => {
    lastActivityAt = Date.now();
    const question = book.undelivered(askId, dedupeKey, new Date());
    if (question !== undefined && book.takeFeedback(new Date())) {
      todo.push({ decision: { kind: 'feedback', feedback: 'expired', values: { question } }, dedupeKey });
    }
  });
  setHandler(inboundSignal, (reply) => {
    inbox.push(reply);
  });
  setHandler(askEndedSignal, ({ askId }) => {
    lastActivityAt = Date.now();
    book.end(askId, new Date());
  });
  setHandler(pendingAsksQuery, () => book.pending());

  const settled = () => allHandlersFinished() && !phone.confirming();
  // Runs started before the wake timer was kept between replies replay as they ran (their input
  // says which, so telling costs no history event).
  const alarm = input.wakeTimer === 'kept' ? new WakeAlarm() : undefined;
  for (;;) {
    let idle: boolean;
    if (alarm) {
      // One timer, kept across replies: a reply costs no timer cancelled and started again.
      alarm.arm(book.hasPending() ? MAX_WAIT_MS : Math.max(lastActivityAt + IDLE_LIFETIME_MS - Date.now(), 1));
      await condition(() => inbox.length > 0 || todo.length > 0 || workflowInfo().continueAsNewSuggested || alarm.rang);
      idle = alarm.takeRing() && !book.hasPending() && Date.now() - lastActivityAt >= IDLE_LIFETIME_MS;
    } else {
      const woke = await condition(
        () => inbox.length > 0 || workflowInfo().continueAsNewSuggested,
        book.hasPending() ? MAX_WAIT_MS : IDLE_LIFETIME_MS,
      );
      idle = !woke && !book.hasPending();
    }
    if (inbox.length > 0) lastActivityAt = Date.now();
    while (inbox.length > 0 || todo.length > 0) {
      for (let next = todo.shift(); next; next = todo.shift()) await phone.carryOut(next.decision, next.dedupeKey);
      if (inbox.length > 0) await phone.handle(inbox.shift()!);
    }

    if (idle) {
      await condition(settled);
      if (inbox.length === 0 && todo.length === 0 && !book.hasPending()) return;
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS) {
      await condition(settled);
      if (inbox.length === 0 && todo.length === 0)
        await continueAsNew<typeof recipientWorkflow>({
          phone: input.phone,
          state: book.snapshot(),
          wakeTimer: 'kept',
        });
    }
  }
}

// Worker Versioning: a phone's workflow outlives any build, so it moves to the current one; its next
// task replays its history there, so a change to this workflow must replay the runs already going.
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), recipientWorkflow);

/** A timer that stays set until it rings, however often the loop wakes for other reasons. */
class WakeAlarm {
  rang = false;
  private set = false;

  /** Sets the timer unless it is already set. */
  arm(ms: number): void {
    if (this.set) return;
    this.set = true;
    // Cancelled with the workflow, whose loop ends by its own condition's cancellation.
    sleep(ms).then(
      () => (this.rang = true),
      () => undefined,
    );
  }

  /** Whether it rang since the last call; a rung alarm is set again at the next arm(). */
  takeRing(): boolean {
    if (!this.rang) return false;
    this.rang = false;
    this.set = false;
    return true;
  }
}

/** An update handler's error becomes the update's rejection, never a failed workflow task. */
function rejectOnError<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    const error = err instanceof Error ? err : new Error(String(err));
    throw ApplicationFailure.nonRetryable(error.message, error.name);
  }
}

/** Carries out the book's decisions for one phone: signals to asks, feedback SMS, STOP checks, logs. */
class PhoneActions {
  private optOutCheck: Promise<void> | undefined;

  constructor(
    private readonly phone: string,
    private readonly book: RecipientBook,
  ) {}

  confirming(): boolean {
    return this.optOutCheck !== undefined;
  }

  /** The book's decision; undefined (logged) for a reply it could not route, which must never fail the task. */
  decide(reply: InboundReply): RouteDecision | undefined {
    try {
      return this.book.route(reply, new Date());
    } catch (err) {
      log.error('reply could not be routed; dropped', { dedupeKey: reply.dedupeKey, error: String(err) });
      return undefined;
    }
  }

  /** A reply signalled by an older router: decided, and an answer signalled to its ask from here. */
  async handle(reply: InboundReply): Promise<void> {
    const decision = this.decide(reply);
    if (decision) await this.carryOut(decision, reply.dedupeKey);
  }

  async carryOut(decision: RouteDecision, dedupeKey: string): Promise<void> {
    switch (decision.kind) {
      case 'duplicate':
        workflowMetrics.replyDuplicate();
        log.info('duplicate reply dropped', { dedupeKey });
        return;
      case 'answer':
        try {
          await getExternalWorkflowHandle(decision.askId).signal(replySignal, decision.reply);
        } catch {
          // The ask closed between its last word to us and this reply.
          const ended = this.book.end(decision.askId, new Date());
          if (ended && this.book.takeFeedback(new Date())) await this.feedback('expired', { question: ended.question });
          return;
        }
        this.book.answered(decision.askId, new Date());
        return;
      case 'confirm_opt_out':
        if (this.optOutCheck) {
          log.info('a STOP is already being confirmed with SNS; this one adds nothing', { dedupeKey });
          return;
        }
        // Runs beside the inbox: a STOP that SNS has not listed yet must not hold up other replies.
        this.optOutCheck = this.confirmOptOut(decision.keyword, decision.checkDelaysMs).finally(() => {
          this.optOutCheck = undefined;
        });
        return;
      case 'throttled':
        for (const notice of decision.notices) {
          if (notice.kind === 'guess_limit_reached') {
            workflowMetrics.guessLimitReached(notice.askIds.length);
            log.warn("reply guess limit reached: the asks' codes no longer answer from this phone", {
              phone: maskPhone(this.phone),
              asks: notice.askIds.length,
            });
          } else {
            log.warn('reply guessing throttled: too many wrong codes from one phone', {
              phone: maskPhone(this.phone),
              detail: notice.detail,
            });
          }
        }
        await Promise.all(decision.notices.map((notice) => this.notify(notice.askIds, notice.kind, notice.detail)));
        return;
      case 'feedback':
        await this.feedback(decision.feedback, decision.values);
        return;
      case 'ignore':
        log.info(`reply not routed: ${decision.why}`, { dedupeKey });
        return;
    }
  }

  /** A STOP counts only once SNS lists the number as opted out; a forged one decides nothing. */
  private async confirmOptOut(keyword: string, checkDelaysMs: number[]): Promise<void> {
    for (const delay of checkDelaysMs) {
      if (delay > 0) await sleep(delay);
      let listed = false;
      try {
        listed = await isPhoneOptedOut({ phone: this.phone });
      } catch (err) {
        log.warn('could not read the SNS opt-out list; will check again', {
          phone: maskPhone(this.phone),
          error: String(err),
        });
      }
      if (listed) {
        const at = new Date().toISOString();
        await Promise.all(
          this.book
            .confirmOptOut()
            .map((askId) => signalQuietly(askId, (h) => h.signal(optedOutSignal, { phone: this.phone, at }))),
        );
        return;
      }
    }
    const waitedS = Math.round(checkDelaysMs.reduce((sum, d) => sum + d, 0) / 1000);
    const detail = `texted ${keyword}, but SNS did not list the number as opted out within ${waitedS} s: not counted`;
    log.warn('unconfirmed opt-out ignored', { phone: maskPhone(this.phone), keyword });
    await this.notify(this.book.pendingAskIds(), 'opt_out_unconfirmed', detail);
  }

  private async notify(askIds: string[], kind: RecipientNotice['kind'], detail: string): Promise<void> {
    const notice: RecipientNotice = { phone: this.phone, at: new Date().toISOString(), kind, detail };
    await Promise.all(askIds.map((askId) => signalQuietly(askId, (h) => h.signal(recipientNoticeSignal, notice))));
  }

  private async feedback(kind: FeedbackDecision, values: Record<string, string>): Promise<void> {
    try {
      await smsActivities(feedbackOptions).sendFeedback({ to: this.phone, kind, values });
    } catch (err) {
      log.warn('feedback SMS not sent', { kind, error: String(err) });
    }
  }
}

/** The ask may have closed meanwhile; there is nothing left to tell it. */
async function signalQuietly(
  askId: string,
  send: (handle: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>,
): Promise<void> {
  try {
    await send(getExternalWorkflowHandle(askId));
  } catch {
    // Closed or gone.
  }
}
