/** Replies at a steady rate to pending asks: the time from SendMessage to the ask having its answer. */
import { collectAnswers, latencies, sendRepliesAtRate } from '../fleet';
import type { Fleet, PendingAsk } from '../fleet';
import type { Progress } from '../progress';
import { summarize } from '../stats';
import type { LatencySummary } from '../stats';

export interface LatencyResult {
  perSecond: number;
  latency: LatencySummary;
  /** How long the run waited for answers after the last reply; set when some never came. */
  cappedAfterSeconds?: number;
}

export async function measureLatency(params: {
  fleet: Fleet;
  queueUrl: string;
  asks: readonly PendingAsk[];
  perSecond: number;
  capMs: number;
  progress: Progress;
}): Promise<LatencyResult> {
  const { fleet, queueUrl, asks, perSecond, capMs, progress } = params;
  const total = asks.length;
  const samples = await sendRepliesAtRate(fleet, queueUrl, asks, perSecond, (sent) =>
    progress.update(`sent ${sent}/${total} at ${perSecond}/s`),
  );
  await collectAnswers(fleet, samples, Date.now() + capMs, (answered) =>
    progress.update(`answered ${answered}/${total}`),
  );
  const latency = summarize(latencies(samples));
  progress.done(`${latency.completed}/${total} answered, p50 ${latency.p50} ms, p99 ${latency.p99} ms`);
  return { perSecond, latency, ...(latency.completed < total && { cappedAfterSeconds: capMs / 1000 }) };
}
