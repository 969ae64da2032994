import v8 from 'node:v8';
import type { Client } from '@temporalio/client';
import { createAwsClients } from '../aws/clients';
import type { Settings } from '../config';
import { createLogger } from '../observability/logger';
import { connectClient, connectWorker } from '../temporal/connection';
import { MonitorServer, freeLoopbackPort } from './monitor-server';
import { checkReadiness } from './readiness';
import { startPollerWatchdog } from './poller-watchdog';
import { installQuietRuntime } from './runtime';
import { createSmsAskWorker, ensureInboundPoller } from './worker';

let sdkMetricsUrl: string | undefined;

/**
 * Installs Temporal's runtime for a worker process: quiet logs and, with a monitoring endpoint,
 * the SDK's Prometheus exporter on a free loopback port for /metrics to relay. Call it before
 * anything else touches Temporal (the local stack does, to start its dev server).
 */
export async function installWorkerRuntime(settings: Pick<Settings, 'metricsAddress'>): Promise<void> {
  const port = settings.metricsAddress ? await freeLoopbackPort() : undefined;
  if (installQuietRuntime(port ? { prometheusBindAddress: `127.0.0.1:${port}` } : {}) && port)
    sdkMetricsUrl = `http://127.0.0.1:${port}/metrics`;
}

/**
 * Runs the worker until SIGINT/SIGTERM, or until `until` (given a connected client) settles. On a
 * signal it drains: /readyz turns 503, the poller stops receiving, the batch in hand finishes
 * signalling and deleting, running activities end, then it returns.
 */
export async function runWorker(settings: Settings, until?: (client: Client) => Promise<unknown>): Promise<void> {
  const logger = createLogger(settings.logLevel);
  await installWorkerRuntime(settings);
  const aws = createAwsClients(settings);
  // Fail at startup, naming the sources tried, rather than at the first SMS.
  await aws.credentials();
  const client = await connectClient(settings);
  const { connection, namespace, dataConverter } = await connectWorker(settings);
  let monitor: MonitorServer | undefined;
  // Temporal's runtime takes the same signals and shuts the workers down; this only tells the probes and the log.
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info(
      { signal },
      'draining: the poller stops receiving, replies in hand are finished, then the worker exits',
    );
    monitor?.startDraining();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const worker = await createSmsAskWorker({ connection, namespace, client, aws, settings, logger, dataConverter });
    const pollerId = await ensureInboundPoller(client, settings);
    if (settings.metricsAddress) {
      monitor = await MonitorServer.start({
        address: settings.metricsAddress,
        readiness: () => checkReadiness({ client, sqs: aws.sqs, settings }),
        liveness: () => worker.liveness(),
        temporalMetricsUrl: sdkMetricsUrl,
        logger,
      });
    }
    const watchdog = startPollerWatchdog(client, settings, logger);
    // Each heap's limit, which the worker's memory grows towards (NODE_OPTIONS=--max-old-space-size sets it).
    const heapLimitMiB = Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
    logger.info(
      {
        taskQueue: settings.taskQueue,
        namespace,
        poller: pollerId,
        heapLimitMiB,
        ...(worker.version && { deploymentName: worker.version.deploymentName, buildId: worker.version.buildId }),
      },
      'sms-ask worker running',
    );
    try {
      await (until ? worker.runUntil(until(client)) : worker.run());
    } finally {
      watchdog.stop();
    }
    logger.info('sms-ask worker stopped');
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await monitor?.close();
    // After a failed worker the SDK may still hold the connection: that must not hide why the run ended.
    await connection
      .close()
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'could not close the worker connection'));
    await client.connection.close();
  }
}
