import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { NativeConnection, WorkerOptions, WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, createSmsActivities } from '../activities';
import { createSmsSpendGuard } from '../activities/sms-spend';
import type { AwsClients } from '../aws/clients';
import type { Settings } from '../config';
import { POLLER_PRIORITY_KEY } from '../domain/ask-priority';
import { smsTaskQueue } from '../temporal/task-queue';
import { inboundPollerWorkflowId } from '../workflows/definitions';
import type { inboundPollerWorkflow } from '../workflows/inbound-poller';
import { instrumentSqsReceives, metricsSinks, smsMetricsInterceptor } from './metrics-hooks';
import { deploymentOptionsFor, versioningSupport, workerVersionOf, workflowBundleDigest } from './versioning';
import {
  RUNNING_COMPILED,
  WORKFLOW_INTERCEPTOR_MODULES,
  builtWorkflowBundle,
  bundleWorkflows,
} from './workflow-bundle';

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

/** What sms-ask needs of an SDK worker (the SDK's Worker; a stand-in in unit tests). */
export type RunnableWorker = Pick<Worker, 'run' | 'shutdown' | 'getState'> & {
  readonly options: { readonly taskQueue: string };
};

export interface Liveness {
  live: boolean;
  detail: string;
}

/**
 * How long a failed SDK worker may take to finish its shutdown. The SDK's own shutdown can hang
 * after a fatal error (a workflow thread that ran out of memory never answers the request to tear
 * it down), which would leave a process that polls nothing but looks alive.
 */
const FAILED_WORKER_GRACE_MS = 10_000;
const STATE_CHECK_MS = 1_000;

/** An SDK worker failed and its shutdown did not finish: the process must exit so it can be restarted. */
export class WorkerFailedError extends Error {
  constructor(taskQueue: string, graceMs: number) {
    super(
      `the Temporal worker on task queue ${taskQueue} failed (its error is logged above) and did not shut down within ${graceMs / 1000} s; exiting so the worker can be restarted`,
    );
    this.name = 'WorkerFailedError';
  }
}

/** The two workers of one sms-ask process, run and stopped together. */
export class SmsAskWorker {
  constructor(
    private readonly workers: readonly RunnableWorker[],
    private readonly failedWorkerGraceMs = FAILED_WORKER_GRACE_MS,
    /** The worker deployment version both workers poll as; undefined when unversioned. */
    readonly version?: WorkerDeploymentVersion,
  ) {}

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

  /** Live while no SDK worker has failed (for /healthz): a failed one takes no more tasks. */
  liveness(): Liveness {
    const failed = this.workers.filter((worker) => worker.getState() === 'FAILED');
    if (failed.length > 0)
      return { live: false, detail: `failed: the worker on ${failed.map((w) => w.options.taskQueue).join(', ')}` };
    return { live: true, detail: 'ok' };
  }

  /** If one worker fails, the others are stopped too, so the process never runs half a worker. */
  private async runAll(run: (worker: RunnableWorker) => Promise<void>): Promise<void> {
    const watch = this.watchForStuckFailure();
    try {
      const results = await Promise.race([
        Promise.allSettled(
          this.workers.map((worker) =>
            run(worker).catch((err: unknown) => {
              this.shutdown();
              throw err;
            }),
          ),
        ),
        watch.stuck,
      ]);
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      watch.stop();
    }
  }

  /** Rejects once a worker has been FAILED for the grace period without its run() ending. */
  private watchForStuckFailure(): { stuck: Promise<never>; stop: () => void } {
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      const failedSince = new Map<RunnableWorker, number>();
      timer = setInterval(
        () => {
          for (const worker of this.workers) {
            if (worker.getState() !== 'FAILED') continue;
            const since = failedSince.get(worker) ?? Date.now();
            failedSince.set(worker, since);
            if (Date.now() - since >= this.failedWorkerGraceMs) {
              this.shutdown();
              reject(new WorkerFailedError(worker.options.taskQueue, this.failedWorkerGraceMs));
            }
          }
        },
        Math.min(STATE_CHECK_MS, this.failedWorkerGraceMs),
      );
    });
    return { stuck, stop: () => clearInterval(timer) };
  }
}

/**
 * The workflows and most activities on the task queue; the SMS-publishing activities on the SMS
 * task queue, whose dispatch rate the server limits to `smsPublishRate` for all workers together.
 */
export async function createSmsAskWorker({
  connection,
  namespace,
  client,
  aws,
  settings,
  logger,
  workflows,
  dataConverter,
}: SmsAskWorkerDeps) {
  const deps = { ...aws, client, settings, logger, spendGuard: createSmsSpendGuard({ client, settings, logger }) };
  instrumentSqsReceives(aws.sqs);
  const code: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = workflows ?? {
    workflowBundle: await workflowBundle(),
  };
  const version = await deploymentVersion(client, settings, code, logger);
  // Both task queues are in the version: a pinned ask's SMS go out from a worker of its own build.
  const versioning = version && { workerDeploymentOptions: deploymentOptionsFor(version) };
  const [main, sms] = await Promise.all([
    Worker.create({
      connection,
      namespace,
      taskQueue: settings.taskQueue,
      dataConverter,
      ...code,
      // A prebuilt bundle holds the workflow interceptors; the worker bundles them with a workflowsPath.
      // The SMS metrics count the ended asks' notices, sent here as local activities.
      interceptors: {
        activity: [smsMetricsInterceptor],
        ...(code.workflowsPath && { workflowModules: [...WORKFLOW_INTERCEPTOR_MODULES] }),
      },
      sinks: metricsSinks,
      ...versioning,
      activities: createActivities(deps),
      maxCachedWorkflows: settings.workflowCacheSize,
      // The SDK refuses more concurrent workflow tasks than cached workflows.
      ...(settings.workflowCacheSize > 0 &&
        settings.workflowCacheSize < 40 && {
          maxConcurrentWorkflowTaskExecutions: Math.max(settings.workflowCacheSize, 2),
        }),
    }),
    Worker.create({
      connection,
      namespace,
      taskQueue: smsTaskQueue(settings.taskQueue),
      dataConverter,
      activities: createSmsActivities(deps),
      interceptors: { activity: [smsMetricsInterceptor] },
      maxTaskQueueActivitiesPerSecond: settings.smsPublishRate,
      ...versioning,
    }),
  ]);
  return new SmsAskWorker([main, sms], FAILED_WORKER_GRACE_MS, version);
}

/**
 * The version this worker runs as: none when versioning is off, or when the server has no worker
 * deployments (then it runs unversioned, as before, and says why).
 */
async function deploymentVersion(
  client: Client,
  settings: Settings,
  code: Pick<WorkerOptions, 'workflowBundle'>,
  logger: Logger,
): Promise<WorkerDeploymentVersion | undefined> {
  const version = workerVersionOf(settings, workflowBundleDigest(code.workflowBundle));
  if (!version) return undefined;
  const support = await versioningSupport(client, version.deploymentName);
  if (support.supported) return version;
  logger.warn(
    { deploymentName: version.deploymentName, buildId: version.buildId, reason: support.reason },
    'SMS_ASK_WORKER_VERSIONING is on, but the worker runs unversioned: every worker takes every task',
  );
  return undefined;
}

/** Starts the queue's poller workflow unless it is already running: never two for one queue. */
export async function ensureInboundPoller(client: Client, settings: Settings): Promise<string> {
  if (!settings.queueUrl)
    throw new Error('SMS_ASK_QUEUE_URL is not set: the worker needs the URL of the inbound SQS queue.');
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
