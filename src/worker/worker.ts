import path from 'node:path';
import type { Client } from '@temporalio/client';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { NativeConnection, WorkerOptions, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import type { AwsClients } from '../aws/clients';
import type { Settings } from '../config';
import { inboundPollerWorkflowId } from '../workflows/definitions';
import type { inboundPollerWorkflow } from '../workflows/inbound-poller';

// A directory, not require.resolve: the bundler resolves index.ts or index.js itself.
const WORKFLOWS_PATH = path.resolve(__dirname, '../workflows');

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflow code once per process; every worker in it reuses the bundle. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

export interface SmsAskWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  client: Client;
  aws: AwsClients;
  settings: Settings;
  logger: Logger;
  /** Where the workflow code comes from. Default: this package's workflows, bundled once per process. */
  workflows?: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>;
}

export async function createSmsAskWorker({ connection, namespace, client, aws, settings, logger, workflows }: SmsAskWorkerDeps) {
  return Worker.create({
    connection,
    namespace,
    taskQueue: settings.taskQueue,
    ...(workflows ?? { workflowBundle: await workflowBundle() }),
    activities: createActivities({ ...aws, client, settings, logger }),
  });
}

/** Starts the queue's poller workflow unless it is already running: never two for one queue. */
export async function ensureInboundPoller(client: Client, settings: Settings): Promise<string> {
  if (!settings.queueUrl) throw new Error('SMS_ASK_QUEUE_URL is not set: the worker needs the URL of the inbound SQS queue.');
  const workflowId = inboundPollerWorkflowId(settings.taskQueue, settings.queueUrl);
  // USE_EXISTING: a running poller is kept, so starting many workers never makes a second one.
  await client.workflow.start<typeof inboundPollerWorkflow>('inboundPollerWorkflow', {
    workflowId,
    taskQueue: settings.taskQueue,
    args: [{ queueUrl: settings.queueUrl }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return workflowId;
}
