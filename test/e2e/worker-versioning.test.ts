/**
 * A roll-out with Worker Versioning on a dev server of its own: workers of build A, then workers of
 * a build B whose ask takes one step more, made current. The ask started on A stays pinned to A
 * and ends there; a new ask runs on B; the phone's workflow moves to B as it continues as new; a
 * reply reaches each ask once, and no workflow task fails (no non-determinism). The server
 * suggests continue-as-new after a few events, so the phone's workflow goes through several runs.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack } from '../../src/local-stack/local-stack';
import type { LocalStack } from '../../src/local-stack/local-stack';
import { readDeploymentReport, setCurrentVersion } from '../../src/temporal/worker-deployment';
import { workflowBundleOptions } from '../../src/worker/workflow-bundle';
import { recipientWorkflowId } from '../../src/workflows/definitions';
import type { AskState } from '../../src/workflows/definitions';
import { deliverReply, eventually, newPhone, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

const { EventType } = temporal.api.enums.v1;

let stack: LocalStack;
let buildA: TestWorker;
let buildB: TestWorker | undefined;
let nextBundle: string;
const taskQueue = `versioning-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const [started, bundle] = await Promise.all([
    startLocalStack({
      extraTemporalArgs: [
        // A phone's workflow continues as new after a handful of events, not thousands.
        ...['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=12'],
      ],
    }),
    bundleWorkflowCode(workflowBundleOptions(path.resolve(__dirname, '../support/workflows-next-build.ts'))),
  ]);
  stack = started;
  nextBundle = bundle.code;
  buildA = await startTestWorker({ taskQueue, workerVersioning: true }, { stack });
}, 120_000);

afterAll(async () => {
  await buildB?.stop();
  await buildA?.stop();
  await stack?.stop();
});

/** Makes the build current once the server has seen its workers poll. */
async function makeCurrent(client: Client, buildId: string): Promise<void> {
  await eventually(
    () => setCurrentVersion(client, taskQueue, buildId).then(() => true as const),
    `version ${buildId} made current`,
    20_000,
  );
}

async function sentAsk(worker: TestWorker, phone: string, question: string) {
  const { askId } = await worker.asks.start({ to: phone, question, timeout: '1h' });
  const state = await eventually(async () => {
    const s = await worker.asks.status(askId);
    return s.events.some((e) => e.type === 'sent') ? s : undefined;
  }, `the SMS of ${askId}`);
  const code = (option: string) => state.recipients[0]!.codes.find((c) => c.option === option)!.code;
  return { askId, yes: code('Yes'), no: code('No') };
}

async function historyOf(client: Client, workflowId: string, runId?: string) {
  return (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

/** Build IDs of the workers that completed the run's workflow tasks, and whether any task failed. */
async function taskBuilds(client: Client, workflowId: string, runId?: string) {
  const events = await historyOf(client, workflowId, runId);
  return {
    builds: new Set(
      events
        .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
        .map((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId),
    ),
    failures: events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
      .map((e) => e.workflowTaskFailedEventAttributes?.failure?.message)
      // A signal that arrives while a task completes makes the server refuse that completion, and
      // the task runs again: no failure of the code.
      .filter((message) => message !== 'UnhandledCommand'),
    events,
  };
}

async function pinnedBuildOf(client: Client, workflowId: string, runId?: string) {
  const { raw } = await client.workflow.getHandle(workflowId, runId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  return { buildId: info?.deploymentVersion?.buildId, behavior: info?.behavior };
}

const repliesTaken = (state: AskState) => state.events.filter((e) => e.type === 'reply_received').length;

describe('a roll-out with Worker Versioning', () => {
  it('keeps an ask on the build it started on, runs new asks and the phone on the current build, and answers each reply once', async () => {
    const { client } = buildA;
    const a = buildA.version!.buildId;
    await makeCurrent(client, a);

    const phone = newPhone();
    const first = await sentAsk(buildA, phone, 'Isolate host WS-042?');
    expect(await pinnedBuildOf(client, first.askId)).toEqual({
      buildId: a,
      behavior: temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
    });
    const recipientId = recipientWorkflowId(taskQueue, phone);
    const { runId: recipientRunOnA } = await client.workflow.getHandle(recipientId).describe();

    buildB = await startTestWorker(
      { taskQueue, workerVersioning: true },
      { stack, workflowBundle: { code: nextBundle } },
    );
    const b = buildB.version!.buildId;
    expect(b).not.toBe(a);
    await makeCurrent(client, b);

    const second = await sentAsk(buildA, phone, 'Disable account jdoe?');
    expect((await pinnedBuildOf(client, second.askId)).buildId).toBe(b);
    expect((await pinnedBuildOf(client, first.askId)).buildId).toBe(a);

    const during = await eventually(async () => {
      const report = await readDeploymentReport(client, taskQueue, taskQueue, { graceMs: 1000 });
      const versionA = report.versions.find((v) => v.buildId === a);
      return report.currentBuildId === b && versionA?.pendingAsks === 1 ? report : undefined;
    }, 'the pinned ask counted on build A');
    expect(during.versions.find((v) => v.buildId === a)).toMatchObject({ pendingAsks: 1, canStop: false });
    expect(during.versions.find((v) => v.buildId === b)).toMatchObject({ state: 'current', pendingAsks: 1 });

    // Each reply twice, as SQS may deliver it: the first ask answers Yes on A, the second No on B.
    const firstReply = randomUUID();
    const secondReply = randomUUID();
    await deliverReply(buildB, phone, first.yes, firstReply);
    await deliverReply(buildB, phone, second.no, secondReply);
    await deliverReply(buildA, phone, first.yes, firstReply);
    await deliverReply(buildA, phone, second.no, secondReply);

    const firstState = await client.workflow.getHandle<() => Promise<AskState>>(first.askId).result();
    const secondState = await client.workflow.getHandle<() => Promise<AskState>>(second.askId).result();
    expect(firstState).toMatchObject({ status: 'answered', answer: { option: 'Yes', via: 'sms' } });
    expect(secondState).toMatchObject({ status: 'answered', answer: { option: 'No', via: 'sms' } });
    expect([repliesTaken(firstState), repliesTaken(secondState)]).toEqual([1, 1]);

    // The first ask ran on A only, the second on B only, with B's extra step; no task failed.
    const firstTasks = await taskBuilds(client, first.askId);
    const secondTasks = await taskBuilds(client, second.askId);
    expect(firstTasks.builds).toEqual(new Set([a]));
    expect(secondTasks.builds).toEqual(new Set([b]));
    const probed = (events: typeof firstTasks.events) =>
      events.some((e) =>
        JSON.stringify(e.activityTaskScheduledEventAttributes?.activityType ?? {}).includes('isPhoneOptedOut'),
      );
    expect(probed(secondTasks.events)).toBe(true);
    expect(probed(firstTasks.events)).toBe(false);
    expect([...firstTasks.failures, ...secondTasks.failures]).toEqual([]);

    // The phone's workflow started on A, continued as new, and its latest run is on B.
    const recipient = await pinnedBuildOf(client, recipientId);
    expect(recipient).toEqual({
      buildId: b,
      behavior: temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE,
    });
    const { runId: latestRun } = await client.workflow.getHandle(recipientId).describe();
    expect(latestRun).not.toBe(recipientRunOnA);
    expect((await taskBuilds(client, recipientId, recipientRunOnA)).builds.has(a)).toBe(true);
    const runs = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = '${recipientId}'` })) runs.push(run);
    for (const run of runs) expect((await taskBuilds(client, recipientId, run.runId)).failures).toEqual([]);
    expect(runs.length).toBeGreaterThan(1);

    // Build A has nothing left: the report says its workers can stop.
    const after = await eventually(
      async () => {
        const report = await readDeploymentReport(client, taskQueue, taskQueue, { graceMs: 1000 });
        return report.versions.find((v) => v.buildId === a)?.canStop ? report : undefined;
      },
      'build A drained',
      8_000,
    );
    expect(after.versions.find((v) => v.buildId === a)).toMatchObject({ pendingAsks: 0, pinnedWorkflows: 0 });
  });
});
