import { describe, expect, it } from 'vitest';
import { AskFeed, FEED_MAX_CARRIED_BYTES, FEED_MAX_ENTRIES } from '../../src/workflows/ask-feed';
import type { EndedAskRecord } from '../../src/workflows/definitions';

const ended = (n: number, context: Record<string, unknown> = {}): EndedAskRecord => ({
  askId: `ask/e${n}`,
  entitlement: `e${n}`,
  status: 'answered',
  answer: { option: 'Yes', optionIndex: 0, via: 'manual', by: 'op', at: '2026-01-01T00:00:00.000Z' },
  question: 'Isolate?',
  options: ['Yes', 'No'],
  context,
  endedAt: '2026-01-01T00:00:00.000Z',
});

describe('the ended-asks feed', () => {
  it('numbers entries in order and drops a repeat by ask id', () => {
    const feed = new AskFeed();
    expect(feed.append(ended(1))).toBe(true);
    expect(feed.append(ended(2))).toBe(true);
    expect(feed.append(ended(1))).toBe(false);
    const page = feed.after('0', 100);
    expect(page.entries.map((e) => [e.seq, e.askId])).toEqual([
      [1, 'ask/e1'],
      [2, 'ask/e2'],
    ]);
    expect(page).toMatchObject({ next: '2', gap: false });
    expect(feed.after('2', 100)).toEqual({ entries: [], next: '2', gap: false });
    expect(feed.after('1', 1).entries.map((e) => e.seq)).toEqual([2]);
  });

  it('keeps the latest 1,000 entries and tells a reader behind them of the gap', () => {
    const feed = new AskFeed();
    for (let n = 1; n <= FEED_MAX_ENTRIES + 5; n++) feed.append(ended(n));
    const page = feed.after('0', 500);
    expect(page.entries[0]?.seq).toBe(6);
    expect(page.gap).toBe(true);
    expect(feed.after('5', 10).gap).toBe(false);
    const behind = feed.after('4', 10);
    expect(behind.gap).toBe(true);
    expect(behind.entries[0]?.seq).toBe(6);
  });

  it('reads a feed that began again from its start, with the gap, for a reader whose cursor is ahead of it', () => {
    const feed = new AskFeed();
    expect(feed.after('500', 10)).toEqual({ entries: [], next: '0', gap: true });
    feed.append(ended(1));
    feed.append(ended(2));
    const page = feed.after('500', 10);
    expect(page.entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(page).toMatchObject({ next: '2', gap: true });
    expect(feed.after('3', 10)).toMatchObject({ entries: [{ seq: 1 }, { seq: 2 }], gap: true });
  });

  it('carries its entries and numbering across continue-as-new, within the payload limit', () => {
    const feed = new AskFeed();
    const big = { notes: 'x'.repeat(50_000) };
    for (let n = 1; n <= 60; n++) feed.append(ended(n, big));
    const carried = feed.snapshot();
    expect(JSON.stringify(carried).length).toBeLessThan(FEED_MAX_CARRIED_BYTES + 60_000);
    const next = new AskFeed(JSON.parse(JSON.stringify(carried)));
    expect(next.append(ended(60))).toBe(false);
    next.append(ended(61));
    expect(next.after('60', 10).entries.map((e) => e.seq)).toEqual([61]);
    expect(next.after('0', 10).gap).toBe(true);
  });
});
