/**
 * Where the worker's metrics are counted without code of their own in the activities and
 * workflows: the workflows' metrics sink, an interceptor around the SMS activities, and a
 * middleware on the poller's SQS client.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptors, InjectedSinks } from '@temporalio/worker';
import {
  asksEnded,
  asksStarted,
  pollerLastReceive,
  pollerReceiveErrors,
  repliesDuplicate,
  repliesReceived,
  replyGuessLimitReached,
  replyToAnswerSeconds,
  smsFailed,
  smsSent,
} from '../observability/metrics';
import { BoundedMap } from '../domain/bounded-map';
import type { SmsAskMetricsSinks } from '../workflows/metrics-sink';

/**
 * Runs that have ended on this worker lately: a workflow task whose completion the server refused
 * (a signal came meanwhile) runs its end again, and its sink calls with it.
 */
const endedRuns = new BoundedMap<string, true>(10_000);

/** The workflows' metrics sink; not called while a workflow replays, and an end counted once per run. */
export const metricsSinks: InjectedSinks<SmsAskMetricsSinks> = {
  smsAskMetrics: {
    askStarted: { fn: () => asksStarted.inc() },
    askEnded: {
      fn: (info, outcome) => {
        if (endedRuns.has(info.runId)) return;
        endedRuns.set(info.runId, true);
        asksEnded.inc({ outcome });
      },
    },
    replyDuplicate: { fn: () => repliesDuplicate.inc() },
    guessLimitReached: { fn: (_info, asks) => replyGuessLimitReached.inc(asks) },
    replyToAnswer: { fn: (_info, seconds) => replyToAnswerSeconds.observe(seconds) },
  },
};

/** The kind of SMS an SMS activity sends: question (sendSms, registerAndAsk) or the feedback kind; undefined for other activities. */
function smsKind(activityType: string, args: readonly unknown[]): string | undefined {
  if (activityType === 'sendSms' || activityType === 'registerAndAsk') return 'question';
  if (activityType === 'sendFeedback' || activityType === 'sendNoticeNow')
    return String((args[0] as { kind?: unknown } | undefined)?.kind ?? 'feedback');
  return undefined;
}

/** Counts each SMS activity's outcome: sent, or failed (permanent when it will not be retried). */
export function smsMetricsInterceptor(ctx: Context): ActivityInterceptors {
  return {
    inbound: {
      async execute(input, next) {
        const kind = smsKind(ctx.info.activityType, input.args);
        if (!kind) return next(input);
        try {
          const result = (await next(input)) as { sent?: unknown; sendError?: string; again?: boolean } | undefined;
          // registerAndAsk returns a permanent send failure instead of throwing it, so the
          // registration it made stands.
          if (result?.sendError !== undefined) smsFailed.inc({ kind, permanent: 'true' });
          // A feedback kind that is turned off sends nothing.
          else if (result?.sent !== false && result?.again !== true) smsSent.inc({ kind });
          return result;
        } catch (err) {
          smsFailed.inc({ kind, permanent: String(err instanceof ApplicationFailure && err.nonRetryable) });
          throw err;
        }
      },
    },
  };
}

const instrumented = new WeakSet<SQSClient>();

/** Counts the poller's receives on its SQS client: messages received, failures, and the time of the last success. */
export function instrumentSqsReceives(sqs: SQSClient): void {
  if (instrumented.has(sqs)) return;
  instrumented.add(sqs);
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'ReceiveMessageCommand') return next(args);
      try {
        const result = await next(args);
        pollerLastReceive.setToCurrentTime();
        repliesReceived.inc((result.output as { Messages?: unknown[] }).Messages?.length ?? 0);
        return result;
      } catch (err) {
        // Stopping the poller aborts its long poll on purpose.
        if ((err as Error | undefined)?.name !== 'AbortError') pollerReceiveErrors.inc();
        throw err;
      }
    },
    { step: 'initialize', name: 'smsAskReceiveMetrics' },
  );
}
