import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  setWorkflowOptions,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { versioningBehavior } from './versioning-behavior';
import { askTextProblems } from '../domain/misleading-text';
import { composeQuestionSms, smsSegmentInfo } from '../domain/sms-text';
import { AskLog, checkOperatorText } from './ask-log';
import { OutcomeWebhooks } from './outcome-webhooks';
import { smsActivities } from './sms-activities';
import {
  answerUpdate,
  askEndedSignal,
  cancelUpdate,
  deliverySignal,
  extendUpdate,
  optedOutSignal,
  recipientNoticeSignal,
  recipientWorkflowId,
  replySignal,
  resendUpdate,
  statusQuery,
} from './definitions';
import type { DeliveryEvent } from '../domain/delivery-event';
import type {
  AskMemo,
  AskRequest,
  AskState,
  AskWorkflowInput,
  EndedAskRecord,
  FeedbackInput,
  MainActivities,
  NormalizedAsk,
  RegisteredAndAsked,
} from './definitions';
import { askSearchAttributePairs, isUndelivered } from './search-attributes';

/**
 * A recipient's registration and first question, as one activity on the rate-limited SMS queue. It
 * waits its turn behind other asks' in that queue (the recipient workflow it registers with runs
 * ahead of all asks). No timeout counts that waiting (a campaign of thousands of asks queues
 * for minutes, and a timeout there only starts a retry that loads the server more); only the ask's
 * deadline bounds it (each attempt has the SMS attempt timeouts). A worker lost meanwhile is noticed by the missing heartbeat, and the activity
 * is retried: registration is idempotent.
 */
function registration(deadline: string) {
  return smsActivities({
    scheduleToCloseTimeout: Math.max(Date.parse(deadline) - Date.now(), MIN_REGISTRATION_MS),
    retry: { initialInterval: '1s', maximumInterval: '30s' },
  });
}
const MIN_REGISTRATION_MS = 60_000;

/** A tier phone's registration and first question; `skipped`: not even registered, the ask's budget had no room for those segments. */
type TierOutcome = RegisteredAndAsked & { skipped?: number };

// Checking a child ask's request is pure computation in the worker process.
const { validateAsk } = proxyLocalActivities<MainActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

// One SNS read, as the recipient's STOP check: an `optedOut` signal counts only once SNS agrees.
const { isPhoneOptedOut } = proxyActivities<MainActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', maximumInterval: '5s', maximumAttempts: 3 },
});

// An ended ask's notices, within the task that ends it: one try, its AWS calls cut short after 3 s
// (withinLocalAttempt keeps a margin of the timeout), then the SMS queue's activity. The answer is
// recorded when this task completes, so a slow SNS must not hold the task for long.
const { sendNoticeNow } = proxyLocalActivities<MainActivities>({
  startToCloseTimeout: '8s',
  retry: { maximumAttempts: 1 },
});

// Retried for a while: the feed's reader must see every end, and the feed drops a repeat by ask id.
const { recordAskEnded } = proxyActivities<MainActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1h',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

// Bounded: a permanent SNS error fails fast; a long outage must not keep the ask from timing out.
const smsOptions = {
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
} as const;

/**
 * One question to one or more phones, carried out by its policy: registers with each recipient's
 * workflow (which hands out reply codes), sends the SMS, then waits for replies, operators, and
 * whatever the policy has due next (a reminder round, an escalation tier, the deadline).
 * Takes the client's validated ask, or the user-facing request when it runs as a child of a user's
 * workflow; a request that does not validate fails the ask before anything is sent.
 */
export async function askWorkflow(request: AskWorkflowInput): Promise<AskState> {
  const input = 'validated' in request ? refuseMisleadingText(request.validated) : await validateOrFail(request);
  const { workflowId, taskQueue } = workflowInfo();
  // Asks validated before budgets existed carry no spend limits, and replay as they ran. A patch
  // marker would do the same at two history events and two actions per ask, and in clear text.
  const ask = new AskLog(workflowId, input, new Date(), input.spend !== undefined);
  const registered = new Set<string>();
  const webhooks = new OutcomeWebhooks(workflowId, input.callback);

  setHandler(statusQuery, () => ask.state);
  setHandler(replySignal, (reply) =>
    logOnError('reply', () => {
      // What a payload refused by the codec (payloadRequireEncryption) decodes as.
      if (typeof reply !== 'object' || reply === null) return log.warn('reply signal refused: it carries no reply');
      const refused = ask.refusal(reply);
      if (refused) log.warn(`reply signal refused: ${refused}`, { dedupeKey: reply.dedupeKey });
      if (!ask.acceptReply(reply, new Date()))
        log.info('reply handed over again; this ask already has it', { dedupeKey: reply.dedupeKey });
    }),
  );
  setHandler(optedOutSignal, async (signal) => {
    const phone = signal?.phone;
    if (typeof phone !== 'string' || !ask.state.recipients.some((r) => r.phone === phone && !r.optedOut)) return;
    // Runs from before the check replay as they ran.
    if (!patched('opt-out-confirmed-by-ask')) return logOnError('opt-out', () => ask.markOptedOut(phone, new Date()));
    // Anyone who may signal in the namespace could send this: the worker asks SNS before the ask acts.
    const listed = await isPhoneOptedOut({ phone }).catch(() => false);
    if (listed) logOnError('opt-out', () => ask.markOptedOut(phone, new Date()));
    else {
      log.warn('optedOut signal refused: SNS does not list the number as opted out');
      ask.recordNotice({
        phone,
        at: new Date().toISOString(),
        kind: 'opt_out_unconfirmed',
        detail: 'an optedOut signal came, but SNS does not list the number as opted out: not counted',
      });
    }
  });
  setHandler(recipientNoticeSignal, (notice) => logOnError('notice', () => ask.recordNotice(notice)));
  setHandler(deliverySignal, (event) =>
    logOnError('delivery', () => {
      if (!isDeliveryEventShape(event)) return log.warn('delivery signal refused: it carries no delivery event');
      ask.recordDelivery(event, new Date());
    }),
  );
  const thenState = (change: () => void) => {
    try {
      change();
    } catch (err) {
      // A handler's error must reject the update, never fail the workflow task.
      throw err instanceof ApplicationFailure
        ? err
        : ApplicationFailure.nonRetryable(err instanceof Error ? err.message : String(err), 'AskUpdateRejected');
    }
    return ask.state;
  };
  setHandler(answerUpdate, (manual) => thenState(() => ask.answerManually(manual, new Date())), {
    validator: (manual) => ask.checkManualAnswer(manual),
  });
  setHandler(cancelUpdate, (req) => thenState(() => ask.cancel(req, new Date())), {
    validator: (req) => {
      ask.checkStillWaiting('cancel');
      checkOperatorText(req);
    },
  });
  setHandler(extendUpdate, (req) => thenState(() => ask.extend(req, new Date())), {
    validator: (req) => ask.checkExtend(req),
  });
  const sendOutbox = () => deliver(ask, input.noticesInTask === true);
  /** A tier's registrations are out (the first from the start): its recipients are not in the log yet, so a re-send waits for them. */
  let registeringTier = true;
  setHandler(
    resendUpdate,
    async (req) => {
      await condition(() => !registeringTier);
      const renewed = await renewLockedCodes();
      return thenState(() => {
        ask.checkResend(req);
        ask.resend(req, new Date(), renewed);
      });
    },
    { validator: (req) => ask.checkResend(req) },
  );

  /** What a phone's recipient workflow is told of this ask, for its first codes and for fresh ones. */
  const registrationOf = (phone: string) => ({
    taskQueue,
    recipientWorkflowId: recipientWorkflowId(taskQueue, phone),
    phone,
    registration: {
      askId: workflowId,
      question: input.question,
      options: input.options,
      acceptLabels: input.policy.acceptLabels,
      sequentialCodes: input.policy.sequentialCodes,
      // With `any`, the first answer ends the ask: the recipient frees the codes as it routes it.
      endsOnAnswer: input.policy.responders === 'any',
    },
  });

  /** Fresh codes from the recipient workflows of phones past the guess limit: the forger's guesses are spent on the old ones. */
  const renewLockedCodes = async () => {
    const { renewCodes } = registration(ask.state.deadline);
    const renewed = await Promise.all(
      ask.guessLockedRecipients().map(async ({ phone, renewals }) => {
        try {
          const base = registrationOf(phone);
          const codes = await renewCodes({
            ...base,
            registration: { ...base.registration, renewal: (renewals ?? 0) + 1 },
          });
          return [{ phone, codes }];
        } catch (err) {
          log.warn('fresh codes not handed out; the re-send repeats the old ones', { error: causeMessage(err) });
          return [];
        }
      }),
    );
    return renewed.flat();
  };

  /**
   * Registers a tier's phones with their recipient workflows and sends each its question, then lets
   * the log record it. `dueAt` is the tier's time on the policy's clock, which reminders are spaced from.
   */
  const startTier = async (tier: number, dueAt: Date) => {
    registeringTier = true;
    const phones = ask.tierPhones(tier);
    const { registerAndAsk } = registration(ask.state.deadline);
    const lead = tier > 0 ? input.policy.escalation[tier - 1]?.message : undefined;
    // Each first question is paid for before it is sent, at its largest (8-digit codes); the rest comes back after.
    const worst = smsSegmentInfo(
      composeQuestionSms(
        input.question,
        input.options.map((label) => ({ label, code: '99999999' })),
        { lead },
      ),
    ).segments;
    const outcomes = await Promise.all(
      phones.map((phone) =>
        !ask.takeSegments(worst)
          ? Promise.resolve<TierOutcome>({ codes: [], skipped: worst })
          : registerAndAsk({
              ...registrationOf(phone),
              ...(lead !== undefined && { lead }),
              deadline: ask.state.deadline,
            }).then(
              (outcome): TierOutcome => {
                ask.returnSegments(worst - (outcome.sent?.segments ?? 0));
                return outcome;
              },
              (err: unknown): TierOutcome => {
                ask.returnSegments(worst);
                return { codes: [], sendError: causeMessage(err) };
              },
            ),
      ),
    );
    phones.forEach((phone, i) => {
      if (outcomes[i]?.skipped === undefined) registered.add(phone);
    });
    ask.startTier(
      tier,
      outcomes.map((o) => o.codes),
      dueAt,
    );
    registeringTier = false;
    // Those questions went out with the registration: record how each went instead of sending it again.
    const asked = new Map(phones.map((phone, i) => [phone, outcomes[i]!]));
    const now = new Date();
    for (const sms of ask.outbox.splice(0)) {
      const outcome = sms.kind === 'question' && !sms.again ? asked.get(sms.to) : undefined;
      if (!outcome) ask.outbox.push(sms);
      else if (outcome.skipped !== undefined) ask.skipped(sms, outcome.skipped, now);
      else if (outcome.sent) ask.delivered(sms, now, outcome.sent);
      else ask.notDelivered(sms, outcome.sendError ?? 'not sent', now, outcome.sendErrorCode);
    }
  };

  try {
    await startTier(0, new Date(ask.state.startedAt));
    await sendOutbox();
    // A refusal of the phone under `undelivered: escalate` hands over to the next tier or the default; without
    // them the ask ended unreachable, and a refusal of the deployment's (or an ask from before) fails it, as before.
    if (ask.everySendFailed() && ask.state.status !== 'answered' && ask.state.tierJumpAt === undefined) {
      throw ApplicationFailure.nonRetryable(
        `Could not send the question to any recipient: ${ask.state.recipients.map((r) => `${r.phone}: ${r.sendError}`).join('; ')}`,
        'SendFailed',
      );
    }

    const listing = new ListingPublisher();
    while (ask.state.status === 'waiting') {
      listing.publish(ask.state);
      webhooks.observe(ask.state);
      const due = ask.nextDue();
      const waitMs = due.at - Date.now();
      // Wake early for anything a handler changed: the end, an SMS to send, a new schedule, or a
      // question that turned out undelivered (for the listing and the webhook; rare, so the timer
      // it restarts costs little, whereas a delivered one wakes nothing).
      if (
        waitMs > 0 &&
        (await condition(
          () =>
            ask.state.status !== 'waiting' ||
            ask.outbox.length > 0 ||
            ask.nextDue().at !== due.at ||
            listing.behind(ask.state),
          waitMs,
        ))
      ) {
        await sendOutbox();
        continue;
      }
      if (due.kind === 'deadline') ask.timeOut(new Date());
      else if (due.kind === 'reminder') ask.remind(due.round, new Date(due.at));
      else await startTier(due.tier, new Date(due.at));
      await sendOutbox();
    }
  } catch (err) {
    if (isCancellation(err)) ask.cancel({ by: 'workflow cancellation' }, new Date());
    throw err;
  } finally {
    // Runs even when cancelled: the recipients must free this ask's codes, and hear the outcome.
    await CancellationScope.nonCancellable(async () => {
      const freed = ask.phonesWhoseRecipientFreedTheCodes();
      // The webhook is started, not awaited: its delivery never holds up the result.
      await Promise.all([
        ...[...registered]
          .filter((phone) => !freed.has(phone))
          .map((phone) => signalQuietly(recipientWorkflowId(taskQueue, phone), { askId: workflowId })),
        webhooks.ended(ask.state),
        // Only asks started with `feed`: the others replay as they ran, without this activity.
        ...(input.feed === true ? [recordInFeed(taskQueue, ask.state)] : []),
      ]);
      // Replies that raced the end get their "expired" feedback before the workflow closes.
      while (ask.outbox.length > 0 || !allHandlersFinished()) {
        await sendOutbox();
        await condition(() => ask.outbox.length > 0 || allHandlersFinished());
      }
    });
  }
  return ask.state;
}

// Worker Versioning: an ask ends on the build it started on, so a new build may change its steps freely.
setWorkflowOptions(versioningBehavior('PINNED'), askWorkflow);

/** Appends the ended ask, without codes, to the task queue's feed; a failure is logged, never the ask's. */
async function recordInFeed(taskQueue: string, state: AskState): Promise<void> {
  // Only a send that reached nobody ends an ask without a status; for the feed's reader it is unreachable.
  const status = state.status === 'waiting' ? 'unreachable' : state.status;
  const answer = state.answer;
  const record: EndedAskRecord = {
    askId: state.askId,
    entitlement: state.entitlement,
    status,
    // Field by field: a reply code must never reach the feed.
    ...(answer && {
      answer: {
        option: answer.option,
        optionIndex: answer.optionIndex,
        via: answer.via,
        by: answer.by,
        at: answer.at,
        ...(answer.injectedBy !== undefined && { injectedBy: answer.injectedBy }),
      },
    }),
    question: state.question,
    options: state.options,
    context: state.context,
    endedAt: state.endedAt ?? new Date().toISOString(),
  };
  try {
    await recordAskEnded({ taskQueue, record });
  } catch (err) {
    log.error('the ended ask was not recorded in the feed', { error: causeMessage(err) });
  }
}

/** Sends what the ask's rules queued, and records how each send went. */
async function deliver(ask: AskLog, noticesInTask: boolean): Promise<void> {
  const { sendSms, sendFeedback } = smsActivities(smsOptions);
  // Once the ask has ended, its notices go out within this workflow task where the worker's share of the
  // publish rate allows; else (or should that fail) on the SMS queue.
  const sendNotice = async (notice: FeedbackInput) => {
    if (noticesInTask && ask.state.status !== 'waiting') {
      const now = await sendNoticeNow(notice).catch(() => undefined);
      if (now && !now.deferred) return now;
    }
    return sendFeedback(notice);
  };
  await Promise.all(
    ask.outbox.splice(0).map(async (sms) => {
      // Paid for before it goes out, so that parallel sends never take the ask past its budget.
      const cost =
        sms.kind === 'question' ? smsSegmentInfo(sms.text).segments : Math.min(ask.maxSmsSegments, ask.segmentsLeft());
      if (cost < 1 || !ask.takeSegments(cost)) {
        ask.skipped(sms, sms.kind === 'question' ? cost : 1, new Date());
        log.warn("SMS not sent: the ask's segment budget is spent", { kind: sms.kind });
        return;
      }
      try {
        if (sms.kind === 'question') {
          const sent = await sendSms({
            to: sms.to,
            message: sms.text,
            askId: ask.state.askId,
            kind: sms.again ? 'reminder' : 'question',
            deadline: ask.state.deadline,
          });
          ask.delivered(sms, new Date(), sent);
          return;
        }
        const sent = await sendNotice({
          to: sms.to,
          kind: sms.feedback,
          values: sms.values,
          maxSegments: cost,
          askId: ask.state.askId,
        });
        ask.returnSegments(cost - (sent.sent ? (sent.segments ?? 1) : 0));
        if (sent.sent) ask.delivered(sms, new Date());
        else if (sent.tooLong !== undefined) ask.skipped(sms, sent.tooLong, new Date());
      } catch (err) {
        ask.returnSegments(cost);
        ask.notDelivered(sms, causeMessage(err), new Date(), failureType(err));
      }
    }),
  );
}

/** The deterministic share of validation, for an ask started straight from Temporal with a validated input. */
function refuseMisleadingText(input: NormalizedAsk): NormalizedAsk {
  const problems = askTextProblems({
    question: input.question,
    options: input.options,
    escalation: input.policy.escalation,
  });
  if (problems.length) throw ApplicationFailure.nonRetryable(`Invalid ask: ${problems.join('; ')}`, 'InvalidAsk');
  return input;
}

/**
 * Keeps the search attributes and memo that `pending` reads in step with the ask. Each upsert is a
 * history event, so only what changed is written: the attributes when the tier, reminders or
 * deadline move, or a question turns out undelivered (rare: a delivered one writes nothing); the
 * memo (question and context, never the codes) once, for a child ask that no client started with one.
 */
class ListingPublisher {
  private attributes = '';
  private memoWritten = false;
  private undelivered = 0;

  /** A question turned out undelivered since the last publish: the listing does not show it yet. */
  behind(state: AskState): boolean {
    return state.recipients.filter(isUndelivered).length !== this.undelivered;
  }

  publish(state: AskState): void {
    this.undelivered = state.recipients.filter(isUndelivered).length;
    const pairs = askSearchAttributePairs(state);
    if (JSON.stringify(pairs) !== this.attributes) {
      upsertSearchAttributes(pairs);
      this.attributes = JSON.stringify(pairs);
    }
    if (!this.memoWritten && workflowInfo().memo?.ask === undefined) {
      const memo: AskMemo = { question: state.question, context: state.context };
      upsertMemo({ ask: memo });
    }
    this.memoWritten = true;
  }
}

async function validateOrFail(request: AskRequest): Promise<NormalizedAsk> {
  try {
    return await validateAsk(request);
  } catch (err) {
    // The request's problems, not "activity failed", are what the parent workflow must see.
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      throw ApplicationFailure.nonRetryable(err.cause.message, err.cause.type ?? 'InvalidAsk');
    }
    throw err;
  }
}

async function signalQuietly(recipientId: string, ended: { askId: string }): Promise<void> {
  try {
    await getExternalWorkflowHandle(recipientId).signal(askEndedSignal, ended);
  } catch {
    // The recipient workflow may have been terminated by an operator; nothing is left to free.
  }
}

const DELIVERY_STATUSES: ReadonlySet<unknown> = new Set(['pending', 'delivered', 'undelivered', 'unknown']);

/** What the router sends; anyone who may signal in the namespace could send something else. */
function isDeliveryEventShape(event: unknown): event is DeliveryEvent {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, unknown>;
  return (
    typeof e['messageId'] === 'string' &&
    typeof e['destination'] === 'string' &&
    typeof e['eventType'] === 'string' &&
    typeof e['at'] === 'string' &&
    !Number.isNaN(Date.parse(e['at'])) &&
    DELIVERY_STATUSES.has(e['status']) &&
    (e['priceUsd'] === undefined || (typeof e['priceUsd'] === 'number' && e['priceUsd'] >= 0 && e['priceUsd'] < 1000))
  );
}

/** A signal handler's error is logged, never a failed workflow task that would retry forever. */
function logOnError(signal: string, handle: () => void): void {
  try {
    handle();
  } catch (err) {
    log.error(`${signal} signal not applied`, { error: String(err) });
  }
}

/** The type of the ApplicationFailure an activity failed with (its code), if any. */
function failureType(err: unknown): string | undefined {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

function causeMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
}
