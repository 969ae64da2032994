/**
 * The ended-asks feed: one workflow per task queue that numbers the ends of asks started with
 * `feed: true`, in the order they ended, for readers that page through it by cursor (GET
 * /v1/asks/feed). Deterministic code only.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { versioningBehavior } from './versioning-behavior';
import { utf8ByteLength } from '../domain/input-limits';
import { askEndedRecordSignal, entriesAfterQuery } from './definitions';
import type { AskFeedEntry, AskFeedInput, AskFeedPage, EndedAskRecord } from './definitions';

/** The most recent entries kept (the contract's minimum retention). */
export const FEED_MAX_ENTRIES = 1_000;
/**
 * The entries carried across continue-as-new are one payload, which Temporal refuses above 2 MB:
 * with large contexts, fewer than FEED_MAX_ENTRIES are kept (readers behind see `gap`).
 */
export const FEED_MAX_CARRIED_BYTES = 1_500_000;
/** A page answered by the query stays well under gRPC's message limit. */
const PAGE_MAX_BYTES = 1_000_000;
export const FEED_MAX_PAGE = 500;
/** Each recorded end costs a signal and a workflow task; this keeps a run's history short to replay. */
const MAX_HISTORY_EVENTS = 4_000;
const MAX_HISTORY_BYTES = 4_000_000;

/** The feed's entries and their numbering, without the workflow around them. */
export class AskFeed {
  private readonly entries: AskFeedEntry[];
  private readonly sizes: number[];
  private readonly askIds: Set<string>;
  private nextSeq: number;

  constructor(input: AskFeedInput = {}) {
    this.entries = [...(input.entries ?? [])];
    this.sizes = this.entries.map(sizeOf);
    this.askIds = new Set(this.entries.map((e) => e.askId));
    this.nextSeq = input.nextSeq ?? (this.entries.at(-1)?.seq ?? 0) + 1;
  }

  /** Appends an ended ask; false for an ask already in the feed (a retried recording). */
  append(record: EndedAskRecord): boolean {
    if (typeof record?.askId !== 'string' || this.askIds.has(record.askId)) return false;
    const entry: AskFeedEntry = { seq: this.nextSeq++, ...record };
    this.entries.push(entry);
    this.sizes.push(sizeOf(entry));
    this.askIds.add(entry.askId);
    let total = this.sizes.reduce((sum, n) => sum + n, 0);
    // The newest entry always stays, whatever its size.
    while (this.entries.length > 1 && (this.entries.length > FEED_MAX_ENTRIES || total > FEED_MAX_CARRIED_BYTES)) {
      this.askIds.delete(this.entries.shift()!.askId);
      total -= this.sizes.shift()!;
    }
    return true;
  }

  /** Entries strictly after the cursor, oldest first. */
  after(cursor: string, limit: number): AskFeedPage {
    const given = /^\d{1,15}$/.test(String(cursor ?? '')) ? Number(cursor) : 0;
    // A cursor ahead of the feed is one of a feed that began again (its workflow terminated and
    // started anew): read this one from its start, and say that entries may be missing.
    const ahead = given >= this.nextSeq;
    const after = ahead ? 0 : given;
    const max = Math.min(Math.max(Math.floor(Number(limit)) || 100, 1), FEED_MAX_PAGE);
    const oldest = this.entries[0]?.seq ?? this.nextSeq;
    // Entries after the cursor that are no longer kept were dropped before this reader saw them.
    const gap = ahead || (after + 1 < oldest && after + 1 < this.nextSeq);
    const page: AskFeedEntry[] = [];
    let bytes = 0;
    for (let i = 0; i < this.entries.length && page.length < max; i++) {
      const entry = this.entries[i]!;
      if (entry.seq <= after) continue;
      bytes += this.sizes[i]!;
      if (page.length > 0 && bytes > PAGE_MAX_BYTES) break;
      page.push(entry);
    }
    return { entries: page, next: String(page.at(-1)?.seq ?? after), gap };
  }

  snapshot(): AskFeedInput {
    return { entries: this.entries, nextSeq: this.nextSeq };
  }
}

function sizeOf(entry: AskFeedEntry): number {
  return utf8ByteLength(JSON.stringify(entry));
}

export async function askFeedWorkflow(input: AskFeedInput = {}): Promise<void> {
  const feed = new AskFeed(input);
  setHandler(askEndedRecordSignal, (record) => {
    feed.append(record);
  });
  setHandler(entriesAfterQuery, (cursor, limit) => feed.after(cursor, limit));
  await condition(() => {
    const info = workflowInfo();
    return (
      info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS || info.historySize > MAX_HISTORY_BYTES
    );
  });
  await condition(allHandlersFinished);
  await continueAsNew<typeof askFeedWorkflow>(feed.snapshot());
}

// Worker Versioning: the feed runs for as long as the deployment does, so it moves to the current build.
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), askFeedWorkflow);
