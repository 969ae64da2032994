import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { SmsAskClient } from '../../src/client/sms-ask-client';
import { loadSettings } from '../../src/config';
import type { Settings, SettingsInput } from '../../src/config';
import { resolveTestServerExecutable } from '../../src/local-stack/tools';
import { indexedValueTypes } from '../../src/temporal/search-attribute-registration';
import { createSmsAskWorker } from '../../src/worker/worker';
import { localAws, sharedStack } from './harness';
import type { ReplyTarget } from './harness';

export interface TimeSkippingWorker extends ReplyTarget {
  env: TestWorkflowEnvironment;
  /** The environment's client (`env.client`), for signals such as `deliverReply`. */
  client: Client;
  /** Waiting on a result through this client lets the server skip time while nothing else runs. */
  asks: SmsAskClient;
  settings: Settings;
  taskQueue: string;
  stop(): Promise<void>;
}

/**
 * A real worker on Temporal's time-skipping test server, so that timers of days fire in
 * milliseconds; its activities send SMS to the shared moto like production.
 */
export async function startTimeSkippingWorker(overrides: SettingsInput = {}): Promise<TimeSkippingWorker> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: resolveTestServerExecutable() },
  });
  // The test server cannot list search attributes, only add them.
  await env.client.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: indexedValueTypes(),
  });
  const settings = loadSettings({}, { taskQueue: 'time-skipping', logLevel: 'silent', ...overrides });
  const worker = await createSmsAskWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    client: env.client,
    aws: localAws(),
    settings,
    logger: pino({ level: settings.logLevel }),
    workflows: { workflowBundle: { code: readFileSync(sharedStack().workflowBundlePath, 'utf8') } },
  });
  const running = worker.run();
  return {
    env,
    client: env.client,
    asks: new SmsAskClient(env.client, { taskQueue: settings.taskQueue }),
    settings,
    taskQueue: settings.taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
