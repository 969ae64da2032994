import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection, WorkerOptions, WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, createSmsActivities } from '../activities';
import type { AwsClients } from '../aws/clients';
import type { Settings } from '../config';
import { POLLER_PRIORITY_KEY } from '../domain/ask-priority';
import { smsTaskQueue } from '../task-queue';
import { inboundPollerWorkflowId } from '../workflows/definitions';
import type { inboundPollerWorkflow } from '../workflows/inbound-poller';
import { instrumentSqsReceives, metricsSinks, smsMetricsInterceptor } from './metrics-hooks';
import { RUNNING_COMPILED, WORKFLOW_INTERCEPTOR_MODULES, builtWorkflowBundle, bundleWorkflows } from './workflow-bundle';

let bundle: Promise<WorkflowBundleOption> | undefined;

/**
 * The workflow code: compiled, the bundle that `npm run build` wrote, by path (checked current,
 * never rebuilt at start); from the TypeScript sources, bundled from them once per process.
 */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  bundle ??= RUNNING_COMPILED ? Promise.resolve().then(builtWorkflowBundle) : bundleWorkflows();
  return bundle;
}

export interface SmsAskWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  client: Client;
  aws: AwsClients;
  settings: Settings;
  logger: Logger;
  /** How payloads are stored (encryption); the client's must match. Default: in clear. */
  dataConverter?: DataConverter;
  /** Where the workflow code comes from. Default: this package's workflows (workflowBundle()). */
  workflows?: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>;
}

/** The two workers of one sms-ask process, run and stopped together. */
export class SmsAskWorker {
  constructor(private readonly workers: readonly Worker[]) {}

  async run(): Promise<void> {
    await this.runAll((worker) => worker.run());
  }

  /** Runs until `until` settles, then shuts down; rethrows its rejection. */
  async runUntil<R>(until: Promise<R>): Promise<R> {
    let settled = false;
    const running = this.runAll((worker) => worker.run());
    const stoppedEarly = running.then(() => {
      if (!settled) throw new Error('the sms-ask worker stopped before its work was done');
    });
    try {
      return await Promise.race([until, stoppedEarly.then(() => until)]);
    } finally {
      settled = true;
      this.shutdown();
      await running;
    }
  }

  shutdown(): void {
    for (const worker of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  }

  /** If one worker fails, the others are stopped too, so the process never runs half a worker. */
  private async runAll(run: (worker: Worker) => Promise<void>): Promise<void> {
    const results = await Promise.allSettled(
      this.workers.map((worker) =>
        run(worker).catch((err: unknown) => {
          this.shutdown();
          throw err;
        }),
      ),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/**
 * The workflows and most activities on the task queue; the SMS-publishing activities on the SMS
 * task queue, whose dispatch rate the server limits to `smsPublishRate` for all workers together.
 */
export async function createSmsAskWorker({ connection, namespace, client, aws, settings, logger, workflows, dataConverter }: SmsAskWorkerDeps) {
  const deps = { ...aws, client, settings, logger };
  instrumentSqsReceives(aws.sqs);
  const code: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = workflows ?? { workflowBundle: await workflowBundle() };
  const [main, sms] = await Promise.all([
    Worker.create({
      connection,
      namespace,
      taskQueue: settings.taskQueue,
      dataConverter,
      ...code,
      // A prebuilt bundle holds the workflow interceptors; the worker bundles them with a workflowsPath.
      ...(code.workflowsPath && { interceptors: { workflowModules: [...WORKFLOW_INTERCEPTOR_MODULES] } }),
      sinks: metricsSinks,
      activities: createActivities(deps),
      maxCachedWorkflows: settings.workflowCacheSize,
      // The SDK refuses more concurrent workflow tasks than cached workflows.
      ...(settings.workflowCacheSize > 0 && settings.workflowCacheSize < 40 && { maxConcurrentWorkflowTaskExecutions: Math.max(settings.workflowCacheSize, 2) }),
    }),
    Worker.create({
      connection,
      namespace,
      taskQueue: smsTaskQueue(settings.taskQueue),
      dataConverter,
      activities: createSmsActivities(deps),
      interceptors: { activity: [smsMetricsInterceptor] },
      maxTaskQueueActivitiesPerSecond: settings.smsPublishRate,
    }),
  ]);
  return new SmsAskWorker([main, sms]);
}

/** Starts the queue's poller workflow unless it is already running: never two for one queue. */
export async function ensureInboundPoller(client: Client, settings: Settings): Promise<string> {
  if (!settings.queueUrl) throw new Error('SMS_ASK_QUEUE_URL is not set: the worker needs the URL of the inbound SQS queue.');
  const workflowId = inboundPollerWorkflowId(settings.taskQueue, settings.queueUrl);
  // USE_EXISTING: a running poller is kept, so starting many workers never makes a second one.
  await client.workflow.start<typeof inboundPollerWorkflow>('inboundPollerWorkflow', {
    workflowId,
    taskQueue: settings.taskQueue,
    args: [{ queueUrl: settings.queueUrl, pollers: settings.pollers }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    // Receives replies: ahead of the asks of a campaign that is still being sent.
    priority: { priorityKey: POLLER_PRIORITY_KEY },
  });
  return workflowId;
}
