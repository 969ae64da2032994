import type { Client } from '@temporalio/client';
import { createAwsClients } from '../aws/clients';
import type { Settings } from '../config';
import { createLogger } from '../logger';
import { connectClient, connectWorker } from '../temporal';
import { startPollerWatchdog } from './poller-watchdog';
import { installQuietRuntime } from './runtime';
import { createSmsAskWorker, ensureInboundPoller } from './worker';

/**
 * Runs the worker until SIGINT/SIGTERM, or until `until` (given a connected client) settles; the
 * poller stops cleanly and its messages stay safe.
 */
export async function runWorker(settings: Settings, until?: (client: Client) => Promise<unknown>): Promise<void> {
  const logger = createLogger(settings.logLevel);
  installQuietRuntime();
  const aws = createAwsClients(settings);
  // Fail at startup, naming the sources tried, rather than at the first SMS.
  await aws.credentials();
  const client = await connectClient(settings);
  const { connection, namespace, dataConverter } = await connectWorker(settings);
  try {
    const worker = await createSmsAskWorker({ connection, namespace, client, aws, settings, logger, dataConverter });
    const pollerId = await ensureInboundPoller(client, settings);
    const watchdog = startPollerWatchdog(client, settings, logger);
    logger.info({ taskQueue: settings.taskQueue, namespace, poller: pollerId }, 'sms-ask worker running');
    try {
      await (until ? worker.runUntil(until(client)) : worker.run());
    } finally {
      watchdog.stop();
    }
  } finally {
    await connection.close();
    await client.connection.close();
  }
}
