import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertMemo,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { InvalidAskError, normalizeAskRequest } from '../domain/ask-request';
import type { AskRequest } from '../domain/ask-request';
import { MessageTooLongError, assertSmsFits, composeAskSms } from '../domain/sms-text';
import { AskLog } from './ask-log';
import { smsActivities } from './sms-activities';
import {
  answerUpdate,
  askEndedSignal,
  cancelUpdate,
  optedOutSignal,
  recipientWorkflowId,
  replySignal,
  statusQuery,
} from './definitions';
import type { AskMemo, AskState, ManualAnswer, OptionCode, RoutedReply } from './definitions';

type Activities = ReturnType<typeof createActivities>;

// Bounded, so that an ask whose recipients cannot be reached fails instead of hanging.
const { registerAsk } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '1s', maximumInterval: '10s' },
});

// Bounded: a permanent SNS error fails fast; a long outage must not keep the ask from timing out.
const smsOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
} as const;

/**
 * One question to one or more phones. Registers with each recipient's workflow (which hands out
 * reply codes), sends the SMS, then waits for a reply, an operator, a cancel or the timeout.
 * Accepts the user-facing request so that it can run as a child of a user's workflow.
 */
export async function askWorkflow(request: AskRequest): Promise<AskState> {
  const input = normalizeOrFail(request);
  const { workflowId, taskQueue } = workflowInfo();
  const { sendSms } = smsActivities(smsOptions);
  const ask = new AskLog(workflowId, input, new Date());
  const lateReplies: RoutedReply[] = [];

  setHandler(statusQuery, () => ask.state);
  setHandler(replySignal, (reply) => {
    if (!ask.acceptReply(reply, new Date())) lateReplies.push(reply);
  });
  setHandler(optedOutSignal, ({ phone }) => ask.markOptedOut(phone, new Date()));
  setHandler(
    answerUpdate,
    (manual: ManualAnswer) => {
      ask.answerManually(manual, new Date());
      return ask.state;
    },
    { validator: (manual) => ask.checkManualAnswer(manual) },
  );
  setHandler(
    cancelUpdate,
    (req) => {
      ask.cancel(req, new Date());
      return ask.state;
    },
    { validator: (_req) => ask.checkStillWaiting('cancel') },
  );

  const recipientIds = input.recipients.map((phone) => recipientWorkflowId(taskQueue, phone));
  try {
    const codes = await Promise.all(
      input.recipients.map((phone, i) =>
        registerAsk({
          recipientWorkflowId: recipientIds[i]!,
          phone,
          registration: { askId: workflowId, question: input.question, options: input.options },
        }),
      ),
    );
    const texts = codes.map((optionCodes) => smsFor(input.question, optionCodes));
    ask.setCodes(codes);
    upsertMemo(memoOf(ask.state));

    await Promise.all(
      input.recipients.map(async (phone, i) => {
        try {
          const sent = await sendSms({ to: phone, message: texts[i]! });
          ask.markSent(phone, sent, new Date());
        } catch (err) {
          ask.markSendFailed(phone, causeMessage(err), new Date());
        }
      }),
    );
    if (ask.everySendFailed()) {
      throw ApplicationFailure.nonRetryable(
        `Could not send the question to any recipient: ${ask.state.recipients.map((r) => `${r.phone}: ${r.sendError}`).join('; ')}`,
        'SendFailed',
      );
    }

    const remainingMs = Date.parse(ask.state.deadline) - Date.now();
    const ended = await condition(() => ask.state.status !== 'waiting', Math.max(remainingMs, 0));
    if (!ended) ask.timeOut(new Date());

    const answer = ask.state.answer;
    if (answer?.via === 'sms') {
      await tell(ask, answer.by, 'success', { chosen_option: answer.option, question: input.question, reply_code: answer.code ?? '' });
    }
  } catch (err) {
    if (isCancellation(err)) ask.cancel({ by: 'workflow cancellation' }, new Date());
    throw err;
  } finally {
    // Runs even when cancelled: the recipients must free this ask's codes.
    await CancellationScope.nonCancellable(async () => {
      await Promise.all(recipientIds.map((id) => signalQuietly(id, { askId: workflowId })));
      // Replies that raced the end get their "expired" feedback before the workflow closes.
      while (lateReplies.length > 0 || !allHandlersFinished()) {
        for (const reply of lateReplies.splice(0)) await tell(ask, reply.phone, 'expired', { question: input.question });
        await condition(() => lateReplies.length > 0 || allHandlersFinished());
      }
    });
  }
  return ask.state;
}

function normalizeOrFail(request: AskRequest) {
  try {
    // A client-started ask arrives normalized; normalizing again is a no-op. Child asks may not be.
    return normalizeAskRequest(request, { newEntitlement: uuid4 });
  } catch (err) {
    if (err instanceof InvalidAskError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidAsk');
    throw err;
  }
}

function smsFor(question: string, codes: OptionCode[]): string {
  const text = composeAskSms(question, codes.map(({ option, code }) => ({ label: option, code })));
  try {
    assertSmsFits(text);
  } catch (err) {
    if (err instanceof MessageTooLongError) throw ApplicationFailure.nonRetryable(err.message, 'MessageTooLong');
    throw err;
  }
  return text;
}

/** Feedback is a courtesy: a failure to send it is not a failure of the ask. */
async function tell(ask: AskLog, phone: string, kind: 'success' | 'expired', values: Record<string, string>): Promise<void> {
  const result = await smsActivities(smsOptions)
    .sendFeedback({ to: phone, kind, values }).catch(() => ({ sent: false }));
  if (result.sent) ask.recordFeedback(phone, kind, new Date());
}

async function signalQuietly(recipientId: string, ended: { askId: string }): Promise<void> {
  try {
    await getExternalWorkflowHandle(recipientId).signal(askEndedSignal, ended);
  } catch {
    // The recipient workflow may have been terminated by an operator; nothing is left to free.
  }
}

function memoOf(state: AskState): { ask: AskMemo } {
  return {
    ask: {
      entitlement: state.entitlement,
      question: state.question,
      recipients: state.recipients.map((r) => r.phone),
      codes: Object.fromEntries(state.recipients.map((r) => [r.phone, r.codes])),
      deadline: state.deadline,
      context: state.context,
    },
  };
}

function causeMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
}

