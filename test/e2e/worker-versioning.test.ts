/**
 * A roll-out with Worker Versioning on a local stack of its own, as an operator runs it: `sms-ask
 * worker` of the built release (build A, a child process), then workers of a build B whose ask
 * takes one step more, made current with `sms-ask deploy current`. The ask started on A stays
 * pinned to A and ends there, also after A's worker is SIGKILLed and started again; a new ask runs
 * on B; the phone's workflow moves to B as it continues as new; each reply, sent twice through the
 * inbound topic and queue, answers its ask once; no workflow task fails, no worker log names a
 * non-determinism error, and nothing reaches the DLQ. The server suggests continue-as-new after a
 * few events, so the phone's workflow goes through several runs.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients';
import { SmsAskClient } from '../../src/client/sms-ask-client';
import { loadSettings } from '../../src/config';
import { workerVersioningCheck } from '../../src/doctor/checks';
import { createDoctorContext } from '../../src/doctor/context';
import { runChecks } from '../../src/doctor/run-checks';
import { startLocalStack } from '../../src/local-stack/local-stack';
import type { LocalStack } from '../../src/local-stack/local-stack';
import { publishPhoneReply } from '../../src/local-stack/phone-simulator';
import { readDeploymentReport } from '../../src/temporal/worker-deployment';
import type { DeploymentReport } from '../../src/temporal/worker-deployment';
import { workflowBundleOptions } from '../../src/worker/workflow-bundle';
import { recipientWorkflowId } from '../../src/workflows/definitions';
import type { AskState } from '../../src/workflows/definitions';
import { eventually, localAws, newPhone, sharedStackClient, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';
import { BIN, WorkerProcess } from '../support/worker-process';

const { EventType, VersioningBehavior } = temporal.api.enums.v1;
const run = promisify(execFile);

let stack: LocalStack;
let client: Client;
let asks: SmsAskClient;
let nextBundle: string;
let buildB: TestWorker | undefined;
const buildAWorkers: WorkerProcess[] = [];
const taskQueue = `versioning-${randomUUID().slice(0, 8)}`;

/** The environment an operator's shell holds for this stack, with versioning on. */
function operatorEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...stack.env,
    SMS_ASK_TASK_QUEUE: taskQueue,
    SMS_ASK_WORKER_VERSIONING: 'true',
    SMS_ASK_POLL_WAIT_SECONDS: '1',
  };
}

async function startBuildA(): Promise<{ worker: WorkerProcess; buildId: string }> {
  const worker = await WorkerProcess.start([BIN, 'worker'], operatorEnv());
  buildAWorkers.push(worker);
  const line = worker.log.split('\n').find((l) => l.includes('sms-ask worker running'));
  const buildId = (JSON.parse(line!) as { buildId?: string }).buildId;
  if (!buildId) throw new Error(`the worker ran unversioned:\n${worker.log}`);
  return { worker, buildId };
}

/** `sms-ask deploy …` as an operator runs it, with --json. */
async function deploy(...args: string[]): Promise<DeploymentReport> {
  const { stdout } = await run(BIN, ['--json', 'deploy', ...args], { env: operatorEnv() });
  return JSON.parse(stdout) as DeploymentReport;
}

async function doctorSays() {
  const settings = loadSettings({}, { taskQueue, workerVersioning: true, queueUrl: stack.queueUrl });
  const report = await runChecks(
    [workerVersioningCheck],
    createDoctorContext(settings, createAwsClients(settings), async () => client),
  );
  return report.checks[0]!;
}

beforeAll(async () => {
  const [started, bundle] = await Promise.all([
    startLocalStack({
      // A phone's workflow continues as new after a handful of events, not thousands.
      extraTemporalArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=12'],
      // A reply a killed worker had received comes back to the queue soon.
      visibilityTimeoutSeconds: 5,
    }),
    bundleWorkflowCode(workflowBundleOptions(path.resolve(__dirname, '../support/workflows-next-build.ts'))),
  ]);
  stack = started;
  nextBundle = bundle.code;
  client = await sharedStackClient(stack);
  asks = new SmsAskClient(client, { taskQueue });
}, 120_000);

afterAll(async () => {
  await buildB?.stop();
  await Promise.all(buildAWorkers.map((w) => w.stop()));
  await client?.connection.close();
  await stack?.stop();
});

async function sentAsk(phone: string, question: string) {
  const { askId } = await asks.start({ to: phone, question, timeout: '1h' });
  const state = await eventually(
    async () => {
      const s = await asks.status(askId);
      return s.events.some((e) => e.type === 'sent') ? s : undefined;
    },
    `the SMS of ${askId}`,
    30_000,
  );
  const code = (option: string) => state.recipients[0]!.codes.find((c) => c.option === option)!.code;
  return { askId, yes: code('Yes'), no: code('No') };
}

/** A reply as AWS two-way SMS publishes it, twice with one inbound message id, as SQS may deliver it. */
async function replyTwice(from: string, body: string): Promise<void> {
  const inboundMessageId = randomUUID();
  const { sns } = localAws(stack);
  for (let i = 0; i < 2; i++) await publishPhoneReply(sns, stack.topicArn, { from, body, inboundMessageId });
}

async function historyOf(workflowId: string, runId?: string) {
  return (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

/** Build IDs of the workers that completed the run's workflow tasks, and the tasks that failed. */
async function taskBuilds(workflowId: string, runId?: string) {
  const events = await historyOf(workflowId, runId);
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

async function pinnedBuildOf(workflowId: string, runId?: string) {
  const { raw } = await client.workflow.getHandle(workflowId, runId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  return { buildId: info?.deploymentVersion?.buildId, behavior: info?.behavior };
}

const repliesTaken = (state: AskState) => state.events.filter((e) => e.type === 'reply_received').length;
const versionOf = (report: DeploymentReport, buildId: string) => report.versions.find((v) => v.buildId === buildId);

describe('a roll-out with Worker Versioning', () => {
  it('keeps an ask on the build it started on through a kill, runs new asks and the phone on the current build, and answers each reply once', async () => {
    const { buildId: a } = await startBuildA();
    // No version is current yet: new asks would wait, and doctor says so.
    expect(
      await eventually(
        async () => ((await doctorSays()).saw.includes('no current version') ? true : undefined),
        'doctor',
      ),
    ).toBe(true);
    const first = await eventually(() => deploy('current'), `build ${a} made current`, 20_000);
    expect(first.currentBuildId).toBe(a);

    const phone = newPhone();
    const onA = await sentAsk(phone, 'Isolate host WS-042?');
    expect(await pinnedBuildOf(onA.askId)).toEqual({
      buildId: a,
      behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
    });
    const recipientId = recipientWorkflowId(taskQueue, phone);
    const { runId: recipientRunOnA } = await client.workflow.getHandle(recipientId).describe();

    buildB = await startTestWorker(
      { taskQueue, workerVersioning: true, queueUrl: stack.queueUrl, pollWaitSeconds: 1 },
      { stack, workflowBundle: { code: nextBundle } },
    );
    const b = buildB.version!.buildId;
    expect(b).not.toBe(a);
    // The one polled build that is not current is the one `deploy current` rolls out.
    const rolled = await eventually(() => deploy('current'), `build ${b} made current`, 20_000);
    expect(rolled.currentBuildId).toBe(b);

    const onB = await sentAsk(phone, 'Disable account jdoe?');
    expect((await pinnedBuildOf(onB.askId)).buildId).toBe(b);
    expect((await pinnedBuildOf(onA.askId)).buildId).toBe(a);

    const during = await eventually(async () => {
      const report = await deploy();
      return versionOf(report, a)?.pendingAsks === 1 && versionOf(report, b)?.pendingAsks === 1 ? report : undefined;
    }, 'one pending ask counted on each build');
    expect(versionOf(during, a)).toMatchObject({ state: 'draining', polled: true, canStop: false });
    expect(versionOf(during, b)).toMatchObject({ state: 'current', polled: true });

    // Build A's worker dies with its ask waiting; both replies come while it is down.
    await buildAWorkers[0]!.kill('SIGKILL');
    await replyTwice(phone, onB.no);
    await replyTwice(phone, onA.yes);
    const onBState = await client.workflow.getHandle<() => Promise<AskState>>(onB.askId).result();
    expect(onBState).toMatchObject({ status: 'answered', answer: { option: 'No', via: 'sms' } });
    // The ask pinned to A waits for a worker of A, whatever B has: it answers once A is back.
    expect((await client.workflow.getHandle(onA.askId).describe()).status.name).toBe('RUNNING');
    const restarted = await startBuildA();
    expect(restarted.buildId).toBe(a);
    const onAState = await client.workflow.getHandle<() => Promise<AskState>>(onA.askId).result();
    expect(onAState).toMatchObject({ status: 'answered', answer: { option: 'Yes', via: 'sms' } });
    expect([repliesTaken(onAState), repliesTaken(onBState)]).toEqual([1, 1]);

    // The first ask ran on A only, the second on B only, with B's extra step; no task failed.
    const firstTasks = await taskBuilds(onA.askId);
    const secondTasks = await taskBuilds(onB.askId);
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
    expect(await pinnedBuildOf(recipientId)).toEqual({
      buildId: b,
      behavior: VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE,
    });
    const { runId: latestRun } = await client.workflow.getHandle(recipientId).describe();
    expect(latestRun).not.toBe(recipientRunOnA);
    expect((await taskBuilds(recipientId, recipientRunOnA)).builds.has(a)).toBe(true);
    const runs = [];
    for await (const r of client.workflow.list({ query: `WorkflowId = '${recipientId}'` })) runs.push(r);
    expect(runs.length).toBeGreaterThan(1);
    for (const r of runs) expect((await taskBuilds(recipientId, r.runId)).failures).toEqual([]);

    // Build A has nothing left: the report says its workers can stop; nothing went to the DLQ.
    const after = await eventually(
      async () => {
        const report = await readDeploymentReport(client, taskQueue, taskQueue, { graceMs: 1000 });
        return versionOf(report, a)?.canStop ? report : undefined;
      },
      'build A drained',
      8_000,
    );
    expect(versionOf(after, a)).toMatchObject({ pendingAsks: 0, pinnedWorkflows: 0 });
    expect((await doctorSays()).status).toBe('pass');
    const { Attributes } = await localAws(stack).sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.dlqUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
    for (const worker of buildAWorkers) expect(worker.log).not.toMatch(/nondetermin|TMPRL1100/i);
  }, 240_000);
});
