import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Settings } from '../config';
import { inboundPollerWorkflowId } from '../workflows/definitions';
import { ensureInboundPoller } from './worker';

const CHECK_EVERY_MS = 60_000;

export interface PollerWatchdog {
  stop(): void;
}

/**
 * Every running worker makes sure, once a minute, that the queue's poller workflow runs, and
 * starts it again if it is gone (terminated by hand, or failed): a worker's start is not the only
 * moment it can go. The start is idempotent, so any number of workers checking never makes two.
 */
export function startPollerWatchdog(
  client: Client,
  settings: Settings,
  logger: Logger,
  everyMs = CHECK_EVERY_MS,
): PollerWatchdog {
  let checking = false;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      if (await pollerRuns(client, settings)) return;
      const workflowId = await ensureInboundPoller(client, settings);
      logger.warn({ poller: workflowId }, 'the inbound poller workflow was gone; started it again');
    } catch (err) {
      // Temporal may be down for a while; the next check tries again.
      logger.warn({ err: (err as Error).message }, 'could not check the inbound poller workflow');
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

async function pollerRuns(client: Client, settings: Settings): Promise<boolean> {
  if (!settings.queueUrl) return false;
  try {
    const description = await client.workflow
      .getHandle(inboundPollerWorkflowId(settings.taskQueue, settings.queueUrl))
      .describe();
    return description.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
