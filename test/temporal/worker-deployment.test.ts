import { describe, expect, it } from 'vitest';
import { buildToRollOut } from '../../src/cli/commands/deploy';
import {
  buildDeploymentReport,
  formatDeploymentReport,
  pinnedQueries,
  unversionedAsksQuery,
} from '../../src/temporal/worker-deployment';
import type { ServerVersion, VersionCounts } from '../../src/temporal/worker-deployment';
import { buildIdOfDigest, workerVersionOf, BuildIdUnknownError } from '../../src/worker/versioning';

const now = new Date('2026-12-03T12:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();

function report(versions: ServerVersion[], counts: Record<string, VersionCounts>, unversionedPendingAsks = 0) {
  return buildDeploymentReport({
    deploymentName: 'sms-ask',
    exists: true,
    versions,
    counts: new Map(Object.entries(counts)),
    unversionedPendingAsks,
    now,
  });
}

describe('the deployment report', () => {
  it('lets an old version stop only once nothing pinned to it is open and the grace period has passed', () => {
    const versions: ServerVersion[] = [
      { buildId: 'new', state: 'current' },
      { buildId: 'old', state: 'draining', deactivatedAt: minutesAgo(10) },
      { buildId: 'older', state: 'drained', drainage: 'drained', deactivatedAt: minutesAgo(60) },
      { buildId: 'just-left', state: 'draining', deactivatedAt: minutesAgo(1) },
    ];
    const r = report(versions, {
      new: { pendingAsks: 3, pinnedWorkflows: 3, polled: true },
      old: { pendingAsks: 1, pinnedWorkflows: 2, polled: true },
      older: { pendingAsks: 0, pinnedWorkflows: 0, polled: true },
      'just-left': { pendingAsks: 0, pinnedWorkflows: 0, polled: true },
    });
    expect(r.currentBuildId).toBe('new');
    expect(Object.fromEntries(r.versions.map((v) => [v.buildId, v.canStop]))).toEqual({
      new: false,
      old: false,
      older: true,
      // An ask started just before it stopped taking new ones may not be visible yet.
      'just-left': false,
    });
  });

  it('never lets the current or ramping version stop, however empty', () => {
    const r = report(
      [
        { buildId: 'a', state: 'current', drainage: 'drained' },
        { buildId: 'b', state: 'ramping', rampPercentage: 10, drainage: 'drained' },
      ],
      {},
    );
    expect(r.versions.map((v) => v.canStop)).toEqual([false, false]);
    expect(r.rampingBuildId).toBe('b');
  });

  it('says what runs where, what can stop, and warns of pinned workflows that no worker polls', () => {
    const text = formatDeploymentReport(
      report(
        [
          { buildId: 'b2', state: 'current' },
          { buildId: 'b1', state: 'draining', deactivatedAt: minutesAgo(30) },
          { buildId: 'b0', state: 'drained', drainage: 'drained' },
          { buildId: 'bx', state: 'draining', deactivatedAt: minutesAgo(1) },
        ],
        {
          b2: { pendingAsks: 2, pinnedWorkflows: 2, polled: true },
          b1: { pendingAsks: 1, pinnedWorkflows: 3, polled: false },
          b0: { pendingAsks: 0, pinnedWorkflows: 0, polled: true },
          bx: { pendingAsks: 0, pinnedWorkflows: 0, polled: true },
        },
        4,
      ),
    );
    expect(text.split('\n')).toEqual([
      'deployment sms-ask: current b2',
      '  b2  current, 2 pending asks, workers polling',
      '  b1  draining, 1 pending ask (+2 other pinned workflows), no worker polling',
      '  b0  drained, 0 pending asks, workers polling; nothing left: its workers can stop',
      '  bx  draining, 0 pending asks, workers polling; none open, waiting for visibility to catch up (a few minutes) before its workers can stop',
      '  (unversioned)  4 pending asks',
      'warning: 3 workflows pinned to b1, but no worker of it polls',
    ]);
  });

  it('tells an operator with no current version what to run', () => {
    const text = formatDeploymentReport(
      report([{ buildId: 'b1', state: 'inactive' }], { b1: { pendingAsks: 0, pinnedWorkflows: 0, polled: true } }),
    );
    expect(text.split('\n')).toEqual([
      'deployment sms-ask: current none',
      // Waiting to be rolled out: its workers must not stop.
      '  b1  not current yet, 0 pending asks, workers polling',
      'no current version: new asks wait for an unversioned worker; run `sms-ask deploy current`',
    ]);
    expect(
      formatDeploymentReport({ deploymentName: 'x', exists: false, versions: [], unversionedPendingAsks: 0 }),
    ).toMatch(/no version yet/);
  });

  it('rolls out the one polled build that is not current, and refuses to guess between two', () => {
    const polled = { pendingAsks: 0, pinnedWorkflows: 0, polled: true };
    const idle = { pendingAsks: 0, pinnedWorkflows: 0, polled: false };
    const base: ServerVersion[] = [
      { buildId: 'cur', state: 'current' },
      { buildId: 'next', state: 'inactive' },
      { buildId: 'gone', state: 'drained' },
    ];
    expect(buildToRollOut(report(base, { cur: polled, next: polled, gone: idle }))).toBe('next');
    expect(() => buildToRollOut(report(base, { cur: polled, next: idle, gone: idle }))).toThrow(
      /no version of sms-ask with workers polling is waiting/,
    );
    expect(() => buildToRollOut(report(base, { cur: polled, next: polled, gone: polled }))).toThrow(
      /more than one build .*next, gone.*name the one/,
    );
  });

  it('counts pinned workflows of the version, and the asks of this task queue among them, with quotes escaped', () => {
    const q = pinnedQueries("dep'x", 'b1', 'queue');
    expect(q.pinnedWorkflows).toBe(
      "ExecutionStatus = 'Running' AND TemporalWorkerDeploymentVersion = 'dep\\'x:b1' AND TemporalWorkflowVersioningBehavior = 'Pinned'",
    );
    expect(q.pendingAsks).toBe(`${q.pinnedWorkflows} AND WorkflowType = 'askWorkflow' AND TaskQueue = 'queue'`);
    expect(unversionedAsksQuery('queue')).toMatch(/TemporalWorkerDeploymentVersion IS NULL$/);
  });
});

describe("a worker's version", () => {
  const digest = 'ab'.repeat(32);
  const settings = { workerVersioning: true, deploymentName: undefined, buildId: undefined, taskQueue: 'sms-ask' };

  it('is none when versioning is off', () => {
    expect(workerVersionOf({ ...settings, workerVersioning: false }, digest)).toBeUndefined();
  });

  it("is the task queue's deployment and the bundle digest's first 12 hex digits, unless set", () => {
    expect(workerVersionOf(settings, digest)).toEqual({ deploymentName: 'sms-ask', buildId: 'abababababab' });
    expect(workerVersionOf({ ...settings, deploymentName: 'soc', buildId: 'r42' }, undefined)).toEqual({
      deploymentName: 'soc',
      buildId: 'r42',
    });
  });

  it('refuses to guess a build ID for workflows loaded by path', () => {
    expect(() => workerVersionOf(settings, undefined)).toThrow(BuildIdUnknownError);
    expect(() => buildIdOfDigest('not-a-digest')).toThrow(/not a sha256 digest/);
  });
});
