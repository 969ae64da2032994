import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { versioningBehavior } from './versioning-behavior';
import { leaseSegmentsUpdate } from './definitions';
import type { DailySpendInput, SegmentLease } from './definitions';

/** Kept open this long past its day, so a worker whose clock lags still finds it instead of a fresh budget. */
const GRACE_MS = 6 * 60 * 60 * 1000;
const MAX_HISTORY_EVENTS = 10_000;

/**
 * One per task queue and UTC day: the day's segment budget, handed to workers in blocks (leases),
 * so a workflow task is spent per block, not per SMS. It never grants more than the budget, so the
 * day never overshoots; a worker that dies with part of a block unused only leaves the day short.
 */
export async function dailySpendWorkflow(input: DailySpendInput): Promise<void> {
  let granted = input.granted ?? 0;
  setHandler(leaseSegmentsUpdate, ({ segments, budget }): SegmentLease => {
    // The budget of the asking worker: a setting lowered during the day takes effect at once.
    const grant = Math.max(0, Math.min(segments, budget - granted));
    granted += grant;
    return { granted: grant, spent: granted, budget };
  });
  const endsAt = Date.parse(`${input.day}T00:00:00Z`) + 24 * 60 * 60 * 1000 + GRACE_MS;
  const tooLong = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;
  await condition(tooLong, Math.max(endsAt - Date.now(), 1));
  await condition(allHandlersFinished);
  if (tooLong()) await continueAsNew<typeof dailySpendWorkflow>({ day: input.day, granted });
}

// Worker Versioning: a day's budget outlives the build it started on, so it moves to the current build.
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), dailySpendWorkflow);
