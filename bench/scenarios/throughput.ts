/** A burst of replies to as many pending asks: the time until every ask has its answer. */
import { collectAnswers, sendBurst } from '../fleet';
import type { Fleet, PendingAsk } from '../fleet';
import type { Progress } from '../progress';
import { formatCpuPerUnit, startCpuMeter } from '../cpu-meter';
import type { CpuPerUnit, StackPids } from '../cpu-meter';

export interface ThroughputResult {
  replies: number;
  answered: number;
  /** From the first SendMessage to the last answer (or to the cap). */
  seconds: number;
  /** How long it took to put the burst on the queue. */
  injectSeconds: number;
  perSecond: number;
  /** perSecond ÷ the limit's, measured in the same run. */
  fractionOfLimit?: number;
  /** Set when the run stopped waiting before every ask was answered. */
  cappedAfterSeconds?: number;
  /** CPU per answered reply of the worker, the Temporal dev server and the AWS emulator, from the first send to the last answer. */
  cpuPerReply?: CpuPerUnit;
}

export async function measureThroughput(params: {
  fleet: Fleet;
  queueUrl: string;
  asks: readonly PendingAsk[];
  capMs: number;
  progress: Progress;
  /** Processes whose CPU to count over the burst. */
  pids?: StackPids;
}): Promise<ThroughputResult> {
  const { fleet, queueUrl, asks, capMs, progress, pids } = params;
  const replies = asks.length;
  const cpu = pids && startCpuMeter(pids);
  const start = Date.now();
  progress.update(`sending ${replies} replies`);
  const samples = await sendBurst(fleet, queueUrl, asks);
  const injectSeconds = (Date.now() - start) / 1000;
  const deadline = start + capMs;
  await collectAnswers(fleet, samples, deadline, (answered) => progress.update(`answered ${answered}/${replies}`));
  const answerTimes = samples.flatMap((s) => (s.answeredAt === undefined ? [] : [s.answeredAt]));
  const cpuPerReply = cpu?.(answerTimes.length);
  const capped = answerTimes.length < replies;
  const end = capped ? deadline : Math.max(...answerTimes);
  const seconds = (end - start) / 1000;
  const perSecond = answerTimes.length / seconds;
  progress.done(
    `${answerTimes.length}/${replies} answered in ${seconds.toFixed(1)} s: ${perSecond.toFixed(1)} replies/s${cpuPerReply ? `; CPU per reply: ${formatCpuPerUnit(cpuPerReply)}` : ''}`,
  );
  return {
    replies,
    answered: answerTimes.length,
    seconds,
    injectSeconds,
    perSecond,
    ...(capped && { cappedAfterSeconds: capMs / 1000 }),
    ...(cpuPerReply && { cpuPerReply }),
  };
}
