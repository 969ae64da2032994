/** The run's results: bench.json, the scale chart beside it, and the Markdown summary. */
import fs from 'node:fs';
import path from 'node:path';
import { scaleChartSvg } from './chart';
import type { BenchOptions } from './options';
import { formatTimeline } from './scenarios/campaign';
import type { CampaignResult } from './scenarios/campaign';
import type { WorkCost } from './scenarios/costs';
import type { FloorResult } from './scenarios/floor';
import { formatCpuPerUnit } from './cpu-meter';
import type { LimitResult } from './scenarios/limit';
import type { ReceiptsResult } from './scenarios/receipts';
import type { LatencyResult } from './scenarios/latency';
import type { OutboundResult } from './scenarios/outbound';
import type { ScalePoint } from './scenarios/scale';
import type { ThroughputResult } from './scenarios/throughput';
import type { WorkerStart } from './worker-process';

export interface BenchResults {
  startedAt: string;
  runSeconds: number;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  options: BenchOptions;
  /** The SQS server the replies travelled through: moto, or ElasticMQ (--sqs). */
  replySqs?: string;
  floor?: FloorResult;
  limit?: LimitResult;
  latency?: { ours?: LatencyResult; xsoar?: LatencyResult };
  throughput?: { ours?: ThroughputResult; xsoar?: ThroughputResult };
  scale?: { ours: ScalePoint[]; xsoar?: ScalePoint[] };
  outbound?: OutboundResult;
  /** The largest campaign of the run; every size is in `campaigns`. */
  campaign?: CampaignResult;
  campaigns?: CampaignResult[];
  /** Averages over `sample` asks: to start one and send its question, and to route one reply to the ask's end. */
  costs?: { sample: number; perAsk: WorkCost; perReply: WorkCost };
  /** Asks sent through End User Messaging, with delivery receipts. */
  receipts?: ReceiptsResult;
  /** The first sms-ask worker of the run, when it reported that it runs. */
  worker?: WorkerStart;
  targets?: TargetCheck[];
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

export const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** Milliseconds for people: "48 ms", "7.2 s"; a sample that never completed reads "> cap". */
export function formatMs(ms: number, capSeconds?: number): string {
  if (!Number.isFinite(ms)) return capSeconds === undefined ? 'not answered' : `> ${capSeconds} s (capped)`;
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * How many times `larger` is `smaller`, e.g. "12×". A larger side that never completed (Infinity)
 * is at least its cap, so the ratio reads "> N×"; "—" when there is nothing to compare.
 */
export function formatRatio(smaller: number | undefined, larger: number | undefined, capSeconds?: number): string {
  if (smaller === undefined || larger === undefined || !(smaller > 0)) return '—';
  if (!Number.isFinite(larger)) return capSeconds === undefined ? '—' : `> ${times((capSeconds * 1000) / smaller)}`;
  return times(larger / smaller);
}

const times = (ratio: number) => `${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(1)}×`;

export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const limit = results.limit;
  const latency = results.latency?.ours;
  if (latency) {
    checks.push({
      target: `p99 reply latency at ${latency.perSecond} replies/s at most 100 ms`,
      measured: formatMs(latency.latency.p99),
      met: latency.latency.p99 <= 100,
    });
  }
  const burst = results.throughput?.ours;
  if (burst && limit) {
    const fraction = burst.perSecond / limit.perSecond;
    checks.push({
      target: 'a burst of replies at 50 % or more of the limit',
      measured: `${burst.perSecond.toFixed(0)} replies/s, ${percent(fraction)} of ${limit.perSecond.toFixed(0)}/s`,
      met: fraction >= 0.5 && burst.answered === burst.replies,
    });
  }
  const scale = results.scale?.ours ?? [];
  const first = scale[0];
  const last = scale[scale.length - 1];
  if (first && last && scale.length > 1) {
    const growth = last.latency.p50 / first.latency.p50;
    checks.push({
      target: `routing latency within 2× from ${first.pending} to ${last.pending} pending asks`,
      measured: `p50 ${formatMs(first.latency.p50)} → ${formatMs(last.latency.p50)} (${growth.toFixed(2)}×)`,
      met: growth <= 2,
    });
  }
  if (last) {
    checks.push({
      target: `worker memory at most 512 MiB with ${last.pending} asks pending`,
      measured: `${mib(last.rssBytes)} MiB resident (peak ${mib(last.peakRssBytes)} MiB)`,
      met: mib(last.rssBytes) <= 512,
    });
  }
  if (scale.length > 0) {
    const worst = Math.max(...scale.map((point) => point.cpuMsPerReply));
    checks.push({
      target: 'worker CPU per reply at most 10 ms',
      measured: `${worst.toFixed(1)} ms (the highest of the scale sizes)`,
      met: worst <= 10,
    });
  }
  const campaign = results.campaign;
  if (campaign) {
    checks.push({
      target: `a campaign of ${campaign.asks} asks at once: every question sent, none failed`,
      measured: `${campaign.sent}/${campaign.asks} sent in ${campaign.seconds.toFixed(0)} s, ${campaign.failed} failed${campaign.refused ? `, ${campaign.refused} refused` : ''}`,
      met: campaign.sent === campaign.asks && campaign.failed === 0 && campaign.refused === 0,
    });
    if (limit) {
      const fraction = campaign.perSecond / limit.perSecond;
      checks.push({
        target: 'campaign sustained asks/s at 25 % or more of the limit',
        measured: `${campaign.perSecond.toFixed(1)} asks/s, ${percent(fraction)} of ${limit.perSecond.toFixed(0)}/s`,
        met: fraction >= 0.25,
      });
    }
    const atThousand = scale.find((point) => point.pending >= 900 && point.pending <= 1100);
    const within = atThousand ? campaign.rssAfterBytes / atThousand.rssBytes : undefined;
    checks.push({
      target: `worker memory with ${campaign.sent} asks pending at most 512 MiB${atThousand ? `, within 1.2× of ${atThousand.pending} pending` : ''}`,
      measured: `${mib(campaign.rssAfterBytes)} MiB${within === undefined ? '' : ` (${within.toFixed(2)}× ${mib(atThousand!.rssBytes)} MiB)`}`,
      met: mib(campaign.rssAfterBytes) <= 512 && (within === undefined || within <= 1.2),
    });
  }
  for (const run of results.campaigns ?? []) {
    const { firstThousandSeconds, sustainedPerSecond, longestGapSeconds } = run;
    const first = Math.min(1000, run.asks);
    if (firstThousandSeconds !== undefined && sustainedPerSecond !== undefined) {
      const ratio = (firstThousandSeconds * sustainedPerSecond) / first;
      checks.push({
        target: `campaign at ${run.priority}: the first ${first} questions out within 1.5× what its own sustained rate allows`,
        measured: `${firstThousandSeconds.toFixed(1)} s, ${ratio.toFixed(2)}× ${first} ÷ ${sustainedPerSecond.toFixed(1)}/s`,
        met: ratio <= 1.5,
      });
    }
    if (longestGapSeconds !== undefined) {
      checks.push({
        target: `campaign at ${run.priority}: no gap of more than 2 s between question SMS`,
        measured: `longest ${longestGapSeconds.toFixed(1)} s`,
        met: longestGapSeconds <= 2,
      });
    }
  }
  if (results.worker) {
    checks.push({
      target: 'worker start to ready at most 2 s',
      measured: `${results.worker.startSeconds.toFixed(1)} s`,
      met: results.worker.startSeconds <= 2,
    });
  }
  const outbound = results.outbound;
  if (outbound) {
    checks.push({
      target: `SMS publish rate limit (${outbound.limitPerSecond}/s) holds and no ask is dropped`,
      measured: `busiest second ${outbound.maxInOneSecond} (allowed ${outbound.allowedInOneSecond}), at most ${Math.round(outbound.mostBeyondLimit)} beyond the rate over any stretch (a second's worth, ${outbound.limitPerSecond}, allowed); ${outbound.smsRecorded} SMS for ${outbound.asks} asks`,
      met: outbound.limitHeld && outbound.nothingDropped,
    });
  }
  return checks;
}

const percent = (fraction: number) => `${Math.round(fraction * 100)} %`;

function describeCost(cost: WorkCost): string {
  return `${cost.workflowTasks} workflow tasks, ${cost.historyEvents} history events, ${cost.actions} actions`;
}

/** The summary table: one row per measure, sms-ask next to XSOAR-style polling and the floor. */
export function markdownSummary(results: BenchResults): string {
  const rows: string[][] = [];
  const floor = results.floor;
  const floorCell = floor
    ? `${formatMs(floor.p50Sum)} (SQS ${formatMs(floor.sqsHandoff.p50)} + signal ${formatMs(floor.temporalSignal.p50)})`
    : '—';
  const limit = results.limit;
  if (limit) {
    rows.push([
      `limit: ${limit.workflows} signal-to-complete workflows at once`,
      `${limit.perSecond.toFixed(0)} workflows/s (CPU each: ${formatCpuPerUnit(limit.cpuPerWorkflow)})`,
      '—',
      '—',
      '',
    ]);
  }
  const { ours: latency, xsoar: xsoarLatency } = results.latency ?? {};
  if (latency) {
    const xsoarCap = xsoarLatency?.cappedAfterSeconds;
    const label = `reply latency at ${latency.perSecond}/s`;
    for (const p of ['p50', 'p95', 'p99', 'max'] as const) {
      rows.push([
        `${label}, ${p}`,
        formatMs(latency.latency[p]),
        xsoarLatency ? formatMs(xsoarLatency.latency[p], xsoarCap) : '—',
        xsoarLatency ? `${formatRatio(latency.latency[p], xsoarLatency.latency[p], xsoarCap)} faster` : '—',
        p === 'p50' ? floorCell : '',
      ]);
    }
    if (floor)
      rows.push([
        'reply latency p50 ÷ floor',
        `${(latency.latency.p50 / floor.p50Sum).toFixed(1)}×`,
        xsoarLatency ? `${(xsoarLatency.latency.p50 / floor.p50Sum).toFixed(0)}×` : '—',
        '',
        '1×',
      ]);
  }
  const { ours: burst, xsoar: xsoarBurst } = results.throughput ?? {};
  if (burst) {
    const describe = (t: ThroughputResult) =>
      `${t.perSecond.toFixed(t.perSecond >= 10 ? 0 : 1)} replies/s (${t.answered}/${t.replies} in ${t.seconds.toFixed(1)} s${t.cappedAfterSeconds ? ', capped' : ''}${t.fractionOfLimit === undefined ? '' : `; ${percent(t.fractionOfLimit)} of the limit`})`;
    rows.push([
      `burst of ${burst.replies} replies`,
      describe(burst),
      xsoarBurst ? describe(xsoarBurst) : '—',
      xsoarBurst ? `${formatRatio(xsoarBurst.perSecond, burst.perSecond)} more` : '—',
      '',
    ]);
    if (burst.cpuPerReply) rows.push([`CPU per reply in the burst`, formatCpuPerUnit(burst.cpuPerReply), '—', '—', '']);
  }
  const scale = results.scale?.ours ?? [];
  const xsoarScale = results.scale?.xsoar?.[0];
  for (const point of scale) {
    const xsoarHere = xsoarScale && point === scale[scale.length - 1] ? xsoarScale : undefined;
    rows.push([
      `routing p50 / p99, ${point.pending} pending`,
      `${formatMs(point.latency.p50)} / ${formatMs(point.latency.p99)}`,
      xsoarHere
        ? `${formatMs(xsoarHere.latency.p50, xsoarHere.cappedAfterSeconds)} / ${formatMs(xsoarHere.latency.p99, xsoarHere.cappedAfterSeconds)}`
        : '—',
      xsoarHere ? `${formatRatio(point.latency.p50, xsoarHere.latency.p50, xsoarHere.cappedAfterSeconds)} faster` : '—',
      floorCell,
    ]);
  }
  for (const point of scale) {
    const perAsk =
      point.bytesPerPendingAsk === undefined
        ? ''
        : `, ${Math.round(point.bytesPerPendingAsk / 1024)} KiB per pending ask`;
    rows.push([
      `worker memory, ${point.pending} pending`,
      `${mib(point.rssBytes)} MiB (${point.cpuMsPerReply.toFixed(1)} ms CPU/reply${perAsk})`,
      '—',
      '—',
      '',
    ]);
  }
  if (results.costs) {
    rows.push([`cost per ask (mean of ${results.costs.sample})`, describeCost(results.costs.perAsk), '—', '—', '']);
    rows.push([`cost per reply (mean of ${results.costs.sample})`, describeCost(results.costs.perReply), '—', '—', '']);
  }
  const receipts = results.receipts;
  if (receipts) {
    const p50p99 = (l: { p50: number; p99: number }) => `${formatMs(l.p50)} / ${formatMs(l.p99)}`;
    rows.push([
      `delivery receipts: send → delivered recorded, p50 / p99 (${receipts.asks} asks)`,
      `${p50p99(receipts.sendToDelivered)} (the stand-in waits ${receipts.eventDelayMs} ms before each of 2 events; event → recorded ${p50p99(receipts.eventToRecorded)})`,
      'none (no receipts)',
      '—',
      '',
    ]);
    rows.push([
      `delivery receipts: blocked event → next tier's SMS, p50 / p99 (${receipts.failureToNextTier.count} asks)`,
      p50p99(receipts.failureToNextTier),
      "the tier's timer",
      '—',
      '',
    ]);
    const without = results.costs ? ` (without receipts: ${describeCost(results.costs.perAsk)})` : '';
    const withoutReply = results.costs ? ` (without receipts: ${describeCost(results.costs.perReply)})` : '';
    rows.push([
      `cost per ask with receipts (mean of ${receipts.costs.sample})`,
      `${describeCost(receipts.costs.perAsk)}${without}`,
      '—',
      '—',
      '',
    ]);
    rows.push([
      `cost per reply with receipts (mean of ${receipts.costs.sample})`,
      `${describeCost(receipts.costs.perReply)}${withoutReply}`,
      '—',
      '—',
      '',
    ]);
  }
  if (results.worker) {
    rows.push([
      'worker start to ready',
      `${results.worker.startSeconds.toFixed(1)} s, ${mib(results.worker.rssAtStartBytes)} MiB resident`,
      '—',
      '—',
      '',
    ]);
  }
  const outbound = results.outbound;
  if (outbound) {
    rows.push([
      `outbound: ${outbound.asks} asks at once, limit ${outbound.limitPerSecond}/s`,
      `${outbound.sustainedPerSecond.toFixed(1)} SMS/s, busiest second ${outbound.maxInOneSecond} (allowed ${outbound.allowedInOneSecond}), ${outbound.sent}/${outbound.asks} sent, ${outbound.smsRecorded} SMS recorded`,
      'same (polling does not affect sending)',
      '—',
      '',
    ]);
  }
  for (const campaign of results.campaigns ?? []) {
    rows.push([
      `campaign: ${campaign.asks} asks at once, ${campaign.priority}`,
      `${campaign.sent}/${campaign.asks} sent in ${campaign.seconds.toFixed(1)} s (${campaign.perSecond.toFixed(1)} asks/s${limit ? `, ${percent(campaign.perSecond / limit.perSecond)} of the limit` : ''}; ${formatTimeline(campaign)}), ${campaign.failed} failed${campaign.stalledAfterSeconds ? ', stalled' : ''}; peak ${mib(campaign.peakRssBytes)} MiB, ${mib(campaign.rssAfterBytes)} MiB after; replies meanwhile p50 / p99 ${formatMs(campaign.replies.p50)} / ${formatMs(campaign.replyP99Ms)}${campaign.cpuPerAsk ? `; CPU per ask: ${formatCpuPerUnit(campaign.cpuPerAsk)}` : ''}`,
      'same (polling does not affect sending)',
      '—',
      '',
    ]);
  }
  const table = markdownTable(['scenario', 'sms-ask', 'XSOAR-style polling', 'ratio', 'floor'], rows);
  const targets = markdownTable(
    ['target', 'measured', 'met'],
    (results.targets ?? []).map((t) => [t.target, t.measured, t.met ? 'yes' : '**no**']),
  );
  const { machine } = results;
  const footer = `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; whole run ${(results.runSeconds / 60).toFixed(1)} min${results.options.quick ? ' (--quick)' : ''}; replies through ${results.replySqs ?? 'moto'}'s SQS, SNS on moto.`;
  return `${table}\n${targets}\n${footer}\n`;
}

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

/** Writes bench.json and scale.svg into `outDir`; returns the Markdown summary. */
export function writeReport(results: BenchResults, outDir: string): string {
  results.targets = checkTargets(results);
  fs.writeFileSync(
    path.join(outDir, 'bench.json'),
    JSON.stringify(results, (_key, value: unknown) => (value === Infinity ? null : value), 2) + '\n',
  );
  fs.writeFileSync(path.join(outDir, 'scale.svg'), scaleChartSvg(results.scale?.ours ?? [], results.floor?.p50Sum));
  const markdown = markdownSummary(results);
  fs.writeFileSync(path.join(outDir, 'bench.md'), markdown);
  return markdown;
}
