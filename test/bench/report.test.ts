import { describe, expect, it } from 'vitest';
import { niceCeiling } from '../../bench/chart';
import { checkTargets, formatMs, formatRatio, markdownTable } from '../../bench/report';
import type { BenchResults } from '../../bench/report';
import { busiestWindow, mostBeyondRate } from '../../bench/scenarios/outbound';
import { percentile, summarize } from '../../bench/stats';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('counts a sample that never completed as slower than all the others', () => {
    const summary = summarize([30, 10, Infinity, 20]);
    expect(summary).toMatchObject({ count: 4, completed: 3, p50: 20, max: Infinity });
    expect(summary.p99).toBe(Infinity);
  });

  it('finds the busiest one-second window of send times', () => {
    expect(busiestWindow([0, 100, 999, 1000, 1500, 1999, 2000], 1000)).toBe(3);
    expect(busiestWindow([0, 10, 20, 30], 1000)).toBe(4);
    expect(busiestWindow([], 1000)).toBe(0);
  });

  it('measures how far send times went beyond a rate: what a token bucket must have had saved up', () => {
    // 20/s with a full bucket of 20: 20 at once, then one every 50 ms, is exactly within it.
    const withinBucket = [
      ...Array.from({ length: 20 }, () => 0),
      ...Array.from({ length: 20 }, (_, i) => 50 * (i + 1)),
    ];
    expect(mostBeyondRate(withinBucket, 20)).toBe(20);
    // Spread evenly at the rate, only one at a time is beyond it.
    expect(
      mostBeyondRate(
        Array.from({ length: 40 }, (_, i) => 50 * i),
        20,
      ),
    ).toBeCloseTo(1);
    // 40 at 40/s for a second: 20 beyond a 20/s rate.
    expect(
      mostBeyondRate(
        Array.from({ length: 41 }, (_, i) => 25 * i),
        20,
      ),
    ).toBeCloseTo(21);
    expect(mostBeyondRate([], 20)).toBe(0);
  });
});

describe('bench report', () => {
  it('formats durations, capped samples and ratios', () => {
    expect(formatMs(48.4)).toBe('48 ms');
    expect(formatMs(7250)).toBe('7.3 s');
    expect(formatMs(Infinity, 45)).toBe('> 45 s (capped)');
    expect(formatRatio(50, 7000)).toBe('140×');
    expect(formatRatio(50, 120)).toBe('2.4×');
    expect(formatRatio(50, Infinity, 45)).toBe('> 900×');
    expect(formatRatio(undefined, 10)).toBe('—');
  });

  it('checks each target against the measured numbers', () => {
    const latency = { count: 600, completed: 600, p50: 40, p95: 90, p99: 480, max: 700 };
    const results = {
      latency: { ours: { perSecond: 20, latency } },
      scale: {
        ours: [
          {
            pending: 100,
            latency: { ...latency, p50: 40 },
            rssBytes: 300 * 2 ** 20,
            peakRssBytes: 310 * 2 ** 20,
            cpuMsPerReply: 5,
          },
          {
            pending: 10_000,
            latency: { ...latency, p50: 90 },
            rssBytes: 600 * 2 ** 20,
            peakRssBytes: 650 * 2 ** 20,
            cpuMsPerReply: 6,
          },
        ],
      },
    } as unknown as BenchResults;
    expect(checkTargets(results).map((t) => [t.target, t.met])).toEqual([
      ['p99 reply latency at 20 replies/s at most 100 ms', false],
      ['routing latency within 2× from 100 to 10000 pending asks', false],
      ['worker memory at most 512 MiB with 10000 asks pending', false],
      ['worker CPU per reply at most 10 ms', true],
    ]);
  });

  it('measures the burst and the campaign against the limit of the same run', () => {
    const results = {
      limit: { workflows: 300, seconds: 3, perSecond: 100, cpuMsPerWorkflow: 5 },
      throughput: { ours: { replies: 300, answered: 300, seconds: 5, injectSeconds: 1, perSecond: 60 } },
      campaign: {
        asks: 2000,
        sent: 2000,
        failed: 0,
        refused: 0,
        seconds: 100,
        perSecond: 20,
        peakRssBytes: 0,
        rssAfterBytes: 400 * 2 ** 20,
        replies: {},
        replyP99Ms: 80,
      },
      worker: { startSeconds: 2.5, rssAtStartBytes: 0 },
    } as unknown as BenchResults;
    expect(checkTargets(results).map((t) => [t.target, t.met])).toEqual([
      ['a burst of replies at 50 % or more of the limit', true],
      ['a campaign of 2000 asks at once: every question sent, none failed', true],
      ['campaign sustained asks/s at 25 % or more of the limit', false],
      ['worker memory with 2000 asks pending at most 512 MiB', true],
      ['worker start to ready at most 2 s', false],
    ]);
  });

  it('writes a Markdown table', () => {
    expect(markdownTable(['a', 'b'], [['1', '2']])).toBe('| a | b |\n| --- | --- |\n| 1 | 2 |\n');
  });

  it('rounds chart axes up to 1, 2 or 5 times a power of ten', () => {
    expect([niceCeiling(0.7), niceCeiling(130), niceCeiling(480), niceCeiling(512)]).toEqual([1, 200, 500, 1000]);
  });
});
