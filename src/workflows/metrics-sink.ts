/**
 * How workflow code counts for the worker's metrics: calls to a sink, which the worker runs
 * outside the sandbox (src/worker/metrics-hooks.ts) and skips while a workflow replays.
 */
import { proxySinks } from '@temporalio/workflow';
import type { Sinks } from '@temporalio/workflow';

export interface SmsAskMetricsSinks extends Sinks {
  smsAskMetrics: {
    askStarted(): void;
    askEnded(outcome: string): void;
    replyDuplicate(): void;
    /** Asks whose codes stopped working for a phone at the guess limit. */
    guessLimitReached(asks: number): void;
    replyToAnswer(seconds: number): void;
  };
}

export const workflowMetrics = proxySinks<SmsAskMetricsSinks>().smsAskMetrics;
