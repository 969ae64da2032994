import { Context } from '@temporalio/activity';
import { ApplicationFailure, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { replyRulesFrom } from '../config';
import { sendTextMessage } from '../aws/end-user-messaging';
import { awsCallWorstCaseMs, publishSms } from '../aws/sms-publisher';
import type { SentSms } from '../aws/sms-publisher';
import { SmsSendError } from '../aws/sns-errors';
import { MessageTooLongError, composeQuestionSms, smsSegmentInfo } from '../domain/sms-text';
import { RECIPIENT_PRIORITY_KEY } from '../domain/ask-priority';
import { maskPhone } from '../domain/phone-mask';
import { renderTemplate } from '../domain/templates';
import { registerUpdate } from '../workflows/definitions';
import { SMS_ATTEMPT_MARGIN_MS, SMS_ATTEMPT_START_TO_CLOSE_MS } from '../workflows/sms-attempt';
import type {
  AskSmsInput,
  FeedbackInput,
  NoticeSent,
  FeedbackSent,
  OptionCode,
  RegisterAndAskInput,
  RegisteredAndAsked,
  SmsActivities,
} from '../workflows/definitions';
import type { SmsKind } from '../domain/delivery-event';
import type { ActivityDeps } from './deps';
import { BoundedMap } from '../domain/bounded-map';
import { createSmsSpendGuard } from './sms-spend';
import type { SmsSpendGuard } from './sms-spend';
import type { OneWaySmsInput } from '../workflows/definitions';

/** Well inside the ask workflow's heartbeat timeout for a registration (1 minute). */
const REGISTRATION_HEARTBEAT_MS = 5_000;

function asActivityFailure(err: unknown): unknown {
  if (err instanceof SmsSendError && err.permanent) return ApplicationFailure.nonRetryable(err.message, err.code);
  if (err instanceof MessageTooLongError) return ApplicationFailure.nonRetryable(err.message, 'MessageTooLong');
  return err;
}

/**
 * Registers an ask with the phone's recipient workflow, starting it if needed; returns the codes.
 * Idempotent per ask: a retry gets the same codes. Waits as long as the recipient's turn takes,
 * heartbeating meanwhile.
 */
async function registerWithRecipient(
  { client, settings }: Pick<ActivityDeps, 'client' | 'settings'>,
  { taskQueue, recipientWorkflowId, phone, registration }: RegisterAndAskInput,
): Promise<OptionCode[]> {
  const ctx = Context.current();
  const heartbeat = setInterval(() => ctx.heartbeat(), REGISTRATION_HEARTBEAT_MS);
  try {
    return await client.workflow.executeUpdateWithStart(registerUpdate, {
      // Sequential codes only for an ask that accepts them (its validation refuses one that does not).
      args: [
        {
          ...registration,
          codeMode: registration.sequentialCodes ? settings.codeMode : 'random',
          codeLength: settings.codeLength,
          rules: replyRulesFrom(settings),
        },
      ],
      updateId: `register/${registration.askId}${registration.renewal ? `/renewal-${registration.renewal}` : ''}`,
      startWorkflowOperation: new WithStartWorkflowOperation('recipientWorkflow', {
        workflowId: recipientWorkflowId,
        taskQueue,
        args: [{ phone, wakeTimer: 'kept' }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        priority: { priorityKey: RECIPIENT_PRIORITY_KEY },
      }),
    });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw ApplicationFailure.nonRetryable(
        `Recipient ${maskPhone(phone)} refused the ask: ${err.cause?.message ?? err.message}`,
        'RegistrationRefused',
      );
    }
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
}

const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Runs one SMS attempt's AWS calls with a signal that aborts them when the activity is cancelled
 * (or its worker shuts down) and shortly before its start-to-close timeout: a retry must never
 * publish while this attempt still does. Heartbeats meanwhile, so a crashed worker is noticed.
 */
async function withinAttempt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const heartbeat = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await withinLocalAttempt(work);
  } finally {
    clearInterval(heartbeat);
  }
}

/** withinAttempt for a local activity, which has no heartbeat: its AWS calls end with it, and shortly before its timeout. */
async function withinLocalAttempt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const budgetMs = Math.max(ctx.info.startToCloseTimeoutMs - SMS_ATTEMPT_MARGIN_MS, 1_000);
  return work(AbortSignal.any([ctx.cancellationSignal, AbortSignal.timeout(budgetMs)]));
}

/** What an SMS is and which ask it belongs to, for its delivery events; the ask's deadline bounds its time to live. */
interface SmsPurpose {
  kind: SmsKind;
  askId?: string;
  deadline?: string;
  /** SNS only: ask SNS first whether the number opted out (End User Messaging refuses such a send itself). */
  checkOptOut?: boolean;
}

type SendOne = (to: string, message: string, purpose: SmsPurpose, abortSignal: AbortSignal) => Promise<SentSms>;

/** The smsSender setting's way to send one SMS. */
function smsSender({ sns, smsVoice, settings }: Pick<ActivityDeps, 'sns' | 'smsVoice' | 'settings'>): SendOne {
  if (settings.smsSender === 'end-user-messaging') {
    if (!smsVoice)
      throw new Error('smsSender is end-user-messaging, but the worker was given no End User Messaging client');
    return (to, message, { kind, askId, deadline }, abortSignal) =>
      sendTextMessage(smsVoice, settings, to, message, { kind, askId, deadline, abortSignal });
  }
  return (to, message, { checkOptOut }, abortSignal) =>
    publishSms(sns, settings, to, message, { checkOptOut, abortSignal });
}

/** Renders a feedback template and sends it, unless that kind is turned off or the ask has no room for it. */
function feedbackSender(
  { settings, logger }: Pick<ActivityDeps, 'settings' | 'logger'>,
  guard: SmsSpendGuard,
  send: SendOne,
  attempt: <T>(work: (signal: AbortSignal) => Promise<T>) => Promise<T>,
) {
  return async ({ to, kind, values, maxSegments, askId }: FeedbackInput): Promise<FeedbackSent> => {
    const feedback = settings.feedback[kind];
    if (!feedback.enabled) return { sent: false };
    const message = renderTemplate(feedback.template, { phone_number: to, ...values });
    const { segments } = smsSegmentInfo(message);
    if (maxSegments !== undefined && segments > maxSegments) {
      logger.warn(
        { to: maskPhone(to), kind, segments, maxSegments },
        "feedback SMS not sent: the ask's segment budget has no room for it",
      );
      return { sent: false, tooLong: segments };
    }
    try {
      await guard.admit(to, message);
      const { messageId } = await attempt((abortSignal) => send(to, message, { kind: 'feedback', askId }, abortSignal));
      logger.info({ to: maskPhone(to), kind, messageId }, 'feedback SMS sent');
      return { sent: true, messageId, segments };
    } catch (err) {
      throw asActivityFailure(err);
    }
  };
}

/**
 * Notices a worker sends within workflow tasks at once. A task waits for its notice, and the answer
 * is recorded only when that task completes: beyond a few at once (a burst of answers, a slow SNS)
 * the SMS queue takes them, so that no task waits behind a queue of this worker's own sends.
 */
export const NOTICES_IN_TASKS_AT_ONCE = 8;

/**
 * This worker's share of the SMS publish rate for notices sent as local activities, which the SMS
 * task queue's dispatch limit does not see: a token bucket of one second's worth, and at most
 * `maxAtOnce` notices in flight. The server's limit is for all workers together; this one is per worker.
 */
export class PublishAllowance {
  private tokens: number;
  private last = Date.now();
  private inFlight = 0;

  constructor(
    private readonly perSecond: number,
    private readonly maxAtOnce = NOTICES_IN_TASKS_AT_ONCE,
  ) {
    this.tokens = perSecond;
  }

  /** Takes a token and a place in flight, to be given back with `release`; false when either is spent. */
  take(): boolean {
    if (this.inFlight >= this.maxAtOnce) return false;
    const now = Date.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    this.inFlight += 1;
    return true;
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }
}

/**
 * An ask's last notices (success, outcome), sent as a local activity within the workflow task
 * that ends it: one workflow task fewer per reply. Within this worker's share of the publish rate
 * and NOTICES_IN_TASKS_AT_ONCE; beyond them the ask sends them on the SMS queue as before.
 */
export function createNoticeActivities({ sns, smsVoice, client, settings, logger, spendGuard }: ActivityDeps) {
  const guard = spendGuard ?? createSmsSpendGuard({ client, settings, logger });
  const sendFeedback = feedbackSender(
    { settings, logger },
    guard,
    smsSender({ sns, smsVoice, settings }),
    withinLocalAttempt,
  );
  const allowance = new PublishAllowance(settings.smsPublishRate);
  // Notices this worker sent lately, by ask, phone and kind.
  const sent = new BoundedMap<string, NoticeSent>(10_000);
  return {
    async sendNoticeNow(input: FeedbackInput): Promise<NoticeSent> {
      if (!settings.feedback[input.kind].enabled) return { sent: false };
      // The task that ran this may run again (its completion refused because a signal came meanwhile):
      // an ask's success or outcome notice, which goes to a phone once, is not sent twice from this worker.
      const once = input.askId !== undefined && (input.kind === 'success' || input.kind === 'outcome');
      const key = `${input.askId}/${input.to}/${input.kind}`;
      const earlier = once ? sent.get(key) : undefined;
      if (earlier) return { ...earlier, again: true };
      if (!allowance.take()) return { sent: false, deferred: true };
      try {
        const result = await sendFeedback(input);
        if (once && result.sent) sent.set(key, result);
        return result;
      } finally {
        allowance.release();
      }
    },
  };
}

/** Every SMS goes through these, on the SMS task queue, where the publish rate limit holds. */
export function createSmsActivities({
  sns,
  smsVoice,
  client,
  settings,
  logger,
  spendGuard,
}: ActivityDeps): SmsActivities {
  const guard = spendGuard ?? createSmsSpendGuard({ client, settings, logger });
  const send = smsSender({ sns, smsVoice, settings });
  const sendFeedback = feedbackSender({ settings, logger }, guard, send, withinAttempt);
  // The opt-out check and the publish are two AWS calls, each with the SDK's retries.
  const worstCaseMs = 2 * awsCallWorstCaseMs(settings);
  const attemptBudgetMs = SMS_ATTEMPT_START_TO_CLOSE_MS - SMS_ATTEMPT_MARGIN_MS;
  if (worstCaseMs > attemptBudgetMs) {
    logger.warn(
      { worstCaseMs, attemptBudgetMs },
      'with these AWS retry and timeout settings an SMS attempt may be cut short before the AWS SDK gives up; lower SMS_ASK_AWS_MAX_ATTEMPTS or the AWS timeouts',
    );
  }
  return {
    /**
     * A recipient's first question: registers the ask with the phone's recipient workflow (which
     * hands out the codes), then sends the question with them. One activity instead of two, on the
     * rate-limited SMS queue, so a campaign's registrations go no faster than its questions can.
     * A permanent SNS refusal is returned, not thrown: the codes are registered, and the ask must
     * know them to free them. Other failures are retried (registration is idempotent).
     */
    async registerAndAsk(input: RegisterAndAskInput): Promise<RegisteredAndAsked> {
      const codes = await registerWithRecipient({ client, settings }, input);
      const text = composeQuestionSms(
        input.registration.question,
        codes.map(({ option, code }) => ({ label: option, code })),
        { lead: input.lead },
      );
      try {
        await guard.admit(input.phone, text);
        const purpose = {
          kind: 'question',
          askId: input.registration.askId,
          deadline: input.deadline,
          checkOptOut: true,
        } as const;
        const sent = await withinAttempt((abortSignal) => send(input.phone, text, purpose, abortSignal));
        logger.info(
          { to: maskPhone(input.phone), messageId: sent.messageId, segments: sent.segments },
          'question SMS sent',
        );
        return { codes, sent };
      } catch (err) {
        const failure = asActivityFailure(err);
        if (failure instanceof ApplicationFailure)
          return { codes, sendError: failure.message, ...(failure.type && { sendErrorCode: failure.type }) };
        throw err;
      }
    },

    /**
     * New codes for an ask's phone that reached the guess limit, for an operator's re-send (which
     * sends the question with them). Idempotent per renewal number.
     */
    async renewCodes(input: RegisterAndAskInput): Promise<OptionCode[]> {
      return registerWithRecipient({ client, settings }, input);
    },

    /** Sends the question SMS. Permanent SNS errors fail at once; the rest are retried. */
    async sendSms({ to, message, askId, kind = 'question', deadline }: AskSmsInput): Promise<SentSms> {
      try {
        await guard.admit(to, message);
        const purpose = { kind, askId, deadline, checkOptOut: true };
        const sent = await withinAttempt((abortSignal) => send(to, message, purpose, abortSignal));
        logger.info({ to: maskPhone(to), messageId: sent.messageId, segments: sent.segments }, 'question SMS sent');
        return sent;
      } catch (err) {
        throw asActivityFailure(err);
      }
    },

    /** Sends a feedback SMS from a configured template, unless that kind of feedback is turned off. */
    sendFeedback,

    /** A one-way SMS (the API's and the CLI's `send`), logged with who sent it. */
    async sendOneWaySms({ to, message, by }: OneWaySmsInput): Promise<SentSms> {
      try {
        await guard.admit(to, message);
        const sent = await withinAttempt((abortSignal) =>
          send(to, message, { kind: 'one-way', checkOptOut: true }, abortSignal),
        );
        logger.info({ to: maskPhone(to), by, messageId: sent.messageId, segments: sent.segments }, 'one-way SMS sent');
        return sent;
      } catch (err) {
        throw asActivityFailure(err);
      }
    },
  };
}
