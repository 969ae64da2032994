import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { NativeConnection, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import type { AwsClients } from '../aws/clients';
import type { Settings } from '../config';
import { inboundPollerWorkflowId } from '../workflows/definitions';

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
}

export async function createSmsAskWorker({ connection, namespace, client, aws, settings, logger }: SmsAskWorkerDeps) {
  return Worker.create({
    connection,
    namespace,
    taskQueue: settings.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ ...aws, client, settings, logger }),
  });
}

/** Starts the queue's poller workflow unless it is already running: never two for one queue. */
export async function ensureInboundPoller(client: Client, settings: Settings): Promise<string> {
  if (!settings.queueUrl) throw new Error('SMS_ASK_QUEUE_URL is not set: the worker needs the URL of the inbound SQS queue.');
  const workflowId = inboundPollerWorkflowId(settings.taskQueue, settings.queueUrl);
  try {
    await client.workflow.start('inboundPollerWorkflow', {
      workflowId,
      taskQueue: settings.taskQueue,
      args: [{ queueUrl: settings.queueUrl }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return workflowId;
}
