import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { POLLER_HEARTBEAT_STALE_MS, judgePoller } from '../../src/worker/readiness';

const { PendingActivityState } = temporal.api.enums.v1;
const NOW = Date.parse('2026-11-30T12:00:00Z');
const ago = (ms: number) => msToTs(NOW - ms);
const pollActivity = (fields: temporal.api.workflow.v1.IPendingActivityInfo) => ({
  activityType: { name: 'pollInbound' },
  attempt: 1,
  ...fields,
});

describe("the poller's part of readiness", () => {
  it('is ready while the poll activity heartbeats', () => {
    const activity = pollActivity({
      state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      lastStartedTime: ago(600_000),
      lastHeartbeatTime: ago(20_000),
    });
    expect(judgePoller('RUNNING', [activity], NOW)).toEqual({
      ok: true,
      detail: 'last heartbeat 20 s ago (attempt 1)',
    });
  });

  it('is ready just after the activity starts, before its first heartbeat', () => {
    const activity = pollActivity({
      state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      lastStartedTime: ago(3_000),
    });
    expect(judgePoller('RUNNING', [activity], NOW).ok).toBe(true);
  });

  it("is unready once the heartbeat is older than the server's view allows", () => {
    const activity = pollActivity({
      state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      lastStartedTime: ago(600_000),
      lastHeartbeatTime: ago(POLLER_HEARTBEAT_STALE_MS + 5_000),
    });
    expect(judgePoller('RUNNING', [activity], NOW)).toEqual({
      ok: false,
      detail: 'no heartbeat from the poll activity: last heartbeat 45 s ago (attempt 1)',
    });
  });

  it('is unready when the activity waits for a worker after a heartbeat timeout, and says why', () => {
    const activity = pollActivity({
      state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
      attempt: 3,
      lastAttemptCompleteTime: ago(60_000),
      lastFailure: { message: 'activity Heartbeat timeout' },
    });
    expect(judgePoller('RUNNING', [activity], NOW)).toEqual({
      ok: false,
      detail:
        'no heartbeat from the poll activity: waiting for a worker since 60 s ago (attempt 3; last failure: activity Heartbeat timeout)',
    });
  });

  it('is unready when the activity is paused, or the poller workflow is not running', () => {
    expect(
      judgePoller(
        'RUNNING',
        [pollActivity({ state: PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED, lastHeartbeatTime: ago(1_000) })],
        NOW,
      ).ok,
    ).toBe(false);
    expect(judgePoller('TERMINATED', [], NOW)).toEqual({ ok: false, detail: 'the poller workflow is TERMINATED' });
  });

  it('is ready between two leases, when no activity is pending for a moment', () => {
    expect(judgePoller('RUNNING', [], NOW).ok).toBe(true);
  });
});
