/**
 * A campaign: N asks started at once (one per phone, as when every employee of a department is
 * asked), on a fresh worker whose SMS publish rate is set high. Measures how long every question
 * takes to go out, the sustained rate, asks that failed, the worker's peak memory, and the latency
 * of replies to asks that were already out, sent while the campaign is sending.
 */
import type { AskPriority } from '../../src/domain/ask-priority';
import { SentSmsReader, collectAnswers, latencies, sendReply } from '../fleet';
import type { Fleet, PendingAsk, ReplySample } from '../fleet';
import { mapConcurrently, sleep } from '../pool';
import type { Progress } from '../progress';
import { summarize } from '../stats';
import type { LatencySummary } from '../stats';
import type { WorkerProcess } from '../worker-process';
import { formatCpuPerUnit, startCpuMeter } from '../cpu-meter';
import type { CpuPerUnit, StackPids } from '../cpu-meter';

export interface CampaignResult {
  asks: number;
  /** The priority the campaign's asks started with; the asks already out are normal. */
  priority: AskPriority;
  /** Asks whose question SMS reached the emulator. */
  sent: number;
  /** Asks that ended (failed, timed out, terminated) instead of waiting for their answer. */
  failed: number;
  /** Asks the client could not start. */
  refused: number;
  /** From the first start to the last question SMS. */
  seconds: number;
  /** Question SMS per second over that time. */
  perSecond: number;
  /** From the first start to the first question SMS. */
  firstSmsSeconds?: number;
  /** From the first start until the first 1,000 questions (all of them, in a smaller campaign) were out. */
  firstThousandSeconds?: number;
  /** Questions per second over the campaign's second half: the rate the stack holds once it is sending. */
  sustainedPerSecond?: number;
  /** The longest time, once the first question was out and before the last, without a new one. */
  longestGapSeconds?: number;
  /** Highest resident memory of the campaign's worker, from its start. */
  peakRssBytes: number;
  /** Resident memory once every question is out, with the campaign's asks pending. */
  rssAfterBytes: number;
  /** Replies to asks already out, sent while the campaign was sending. */
  replies: LatencySummary;
  replyP99Ms: number;
  /**
   * CPU per question sent of the worker, the Temporal dev server and moto, from the first start to
   * the last question (moto's includes the harness's paced reads of its SMS record).
   */
  cpuPerAsk?: CpuPerUnit;
  /** Set when nothing started and no question went out for the stall limit, and the run gave up waiting. */
  stalledAfterSeconds?: number;
}

const QUESTION = 'Campaign: did you click the link in the email from payroll@? Reply with a code.';
const START_CONCURRENCY = 64;
const STALL_MS = 180_000;
const REPLY_CAP_MS = 120_000;

export async function measureCampaign(params: {
  fleet: Fleet;
  queueUrl: string;
  worker: WorkerProcess;
  count: number;
  priority: AskPriority;
  /** Asks already out on the same task queue; one reply each, at `replyPerSecond`, while the campaign sends. */
  replyTo: readonly PendingAsk[];
  replyPerSecond: number;
  progress: Progress;
  /** The stack's servers, whose CPU is counted with the worker's. */
  stackPids?: StackPids;
}): Promise<CampaignResult> {
  const { fleet, queueUrl, worker, count, priority, replyTo, replyPerSecond, progress, stackPids } = params;
  const cpu = startCpuMeter({ worker: worker.pid, ...stackPids });
  const phones = fleet.phones.take(count);
  const campaignPhones = new Set(phones);
  const askIds: string[] = [];
  let refused = 0;
  let starting = true;
  const start = Date.now();
  const starts = mapConcurrently(phones, START_CONCURRENCY, async (phone) => {
    try {
      const { askId } = await fleet.asks.start({
        to: phone,
        question: QUESTION,
        options: ['Yes', 'No'],
        timeout: '24h',
        priority,
      });
      askIds.push(askId);
    } catch {
      refused++;
    }
  }).finally(() => (starting = false));

  // Replies to asks already out, spread over the time the campaign sends.
  let sending = true;
  const replies: Promise<ReplySample>[] = [];
  const replying = (async () => {
    for (const ask of replyTo) {
      if (!sending) break;
      replies.push(sendReply(fleet, queueUrl, ask));
      await sleep(1000 / replyPerSecond);
    }
  })();

  let sent = 0;
  let lastSentAt = start;
  const questionsSent = worker.logTimes('question SMS sent');
  let lastProgressAt = start;
  let started = 0;
  let stalled = false;
  const smsRecord = new SentSmsReader(fleet.awsEndpoint);
  while (sent < count) {
    const now = ((await smsRecord.read()) ?? []).filter(
      (sms) => campaignPhones.has(sms.phoneNumber) && sms.message.startsWith(QUESTION),
    ).length;
    if (now > sent) {
      lastSentAt = lastProgressAt = Date.now();
      sent = now;
    }
    if (askIds.length > started) {
      started = askIds.length;
      lastProgressAt = Date.now();
    }
    progress.update(
      `started ${askIds.length}/${count}${refused ? ` (${refused} refused)` : ''}, questions sent ${sent}/${count}, ${replies.length} replies sent`,
    );
    if (!starting && sent + refused >= count) break;
    // Stalled: nothing started and no question sent for that long.
    if (Date.now() - lastProgressAt > STALL_MS) {
      stalled = true;
      break;
    }
  }
  sending = false;
  questionsSent.stop();
  await Promise.all([starts, replying]);
  const usage = worker.usage();
  const cpuPerAsk = cpu(sent);
  const samples = await Promise.all(replies);
  await collectAnswers(fleet, samples, Date.now() + REPLY_CAP_MS, () => undefined);
  const replyLatency = summarize(latencies(samples));
  const failed = await countEnded(fleet, askIds);
  const seconds = (lastSentAt - start) / 1000;
  const result: CampaignResult = {
    asks: count,
    priority,
    sent,
    failed,
    refused,
    seconds,
    perSecond: sent / seconds,
    ...sendTimeline(start, count, questionsSent.times),
    peakRssBytes: usage.peakRssBytes,
    rssAfterBytes: usage.rssBytes,
    replies: replyLatency,
    replyP99Ms: replyLatency.p99,
    cpuPerAsk,
    ...(stalled && { stalledAfterSeconds: STALL_MS / 1000 }),
  };
  progress.done(
    `${sent}/${count} questions in ${seconds.toFixed(1)} s (${result.perSecond.toFixed(1)}/s), ${formatTimeline(result)}, ${failed} failed; reply p99 ${replyLatency.p99} ms (${replyLatency.completed}/${replyLatency.count}); peak ${Math.round(usage.peakRssBytes / 2 ** 20)} MiB; CPU per ask: ${formatCpuPerUnit(cpuPerAsk)}`,
  );
  return result;
}

/** When the questions went out, from the worker's log of each one sent. */
function sendTimeline(
  startMs: number,
  count: number,
  sentAt: readonly number[],
): Pick<CampaignResult, 'firstSmsSeconds' | 'firstThousandSeconds' | 'sustainedPerSecond' | 'longestGapSeconds'> {
  const times = [...sentAt].sort((a, b) => a - b);
  if (times.length === 0) return {};
  const secondsAt = (atMs: number) => (atMs - startMs) / 1000;
  const thousandth = times[Math.min(1000, count) - 1];
  const half = times[Math.floor(times.length / 2)]!;
  const last = times[times.length - 1]!;
  let longestGapMs = 0;
  for (let i = 1; i < times.length; i++) longestGapMs = Math.max(longestGapMs, times[i]! - times[i - 1]!);
  return {
    firstSmsSeconds: secondsAt(times[0]!),
    ...(thousandth !== undefined && { firstThousandSeconds: secondsAt(thousandth) }),
    ...(last > half && {
      sustainedPerSecond: (times.length - 1 - Math.floor(times.length / 2)) / ((last - half) / 1000),
    }),
    longestGapSeconds: longestGapMs / 1000,
  };
}

export function formatTimeline(result: CampaignResult): string {
  const parts = [
    result.firstSmsSeconds !== undefined && `first SMS at ${result.firstSmsSeconds.toFixed(1)} s`,
    result.firstThousandSeconds !== undefined &&
      `${Math.min(1000, result.asks)} out at ${result.firstThousandSeconds.toFixed(1)} s`,
    result.sustainedPerSecond !== undefined && `then ${result.sustainedPerSecond.toFixed(1)}/s`,
    result.longestGapSeconds !== undefined && `longest gap ${result.longestGapSeconds.toFixed(1)} s`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'no question out';
}

/** Asks of the campaign that are no longer running: each should wait 24 h for its answer. */
async function countEnded(fleet: Fleet, askIds: readonly string[]): Promise<number> {
  const ended = await mapConcurrently(askIds, 32, async (askId) => {
    const { status } = await fleet.client.workflow.getHandle(askId).describe();
    return status.name !== 'RUNNING';
  });
  return ended.filter(Boolean).length;
}
