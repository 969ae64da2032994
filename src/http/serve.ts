import type { Client } from '@temporalio/client';
import { createAwsClients } from '../aws/clients';
import type { Settings } from '../config';
import { createLogger } from '../observability/logger';
import { connectClient } from '../temporal/connection';
import { runWorker } from '../worker/run-worker';
import { createHttpServer } from './server';

const VERSION: string = (require('../../package.json') as { version: string }).version;

/** Resolves on the first SIGINT or SIGTERM. */
function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
  });
}

/** Serves the HTTP API over a connected client until `until` settles; returns the address it listened on. */
async function serveUntil(
  settings: Settings,
  client: Client,
  until: Promise<unknown>,
  onListening?: (url: string) => void,
): Promise<void> {
  const logger = createLogger(settings.logLevel);
  const app = await createHttpServer({
    settings,
    client,
    sns: createAwsClients(settings).sns,
    logger,
    version: VERSION,
  });
  const url = await app.listen({ host: settings.httpHost, port: settings.httpPort });
  logger.info(
    {
      url,
      keys: settings.httpApiKeys.map((k) => `${k.name} (${k.scope})`),
      twilio: settings.twilioAuthToken !== undefined,
    },
    'sms-ask HTTP API listening',
  );
  onListening?.(url);
  try {
    await until;
  } finally {
    await app.close();
  }
}

/**
 * `sms-ask serve`: the HTTP API until SIGINT/SIGTERM; with serveWorker, the worker in the same
 * process too (otherwise run `sms-ask worker` beside it).
 */
export async function runServe(settings: Settings, onListening?: (url: string) => void): Promise<void> {
  const stop = shutdownSignal();
  if (settings.serveWorker) {
    await runWorker(settings, (client) => serveUntil(settings, client, stop, onListening));
    return;
  }
  const client = await connectClient();
  try {
    await serveUntil(settings, client, stop, onListening);
  } finally {
    await client.connection.close();
  }
}
