import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnection } from '@temporalio/worker';
import { loadSettings } from '../config';
import type { Settings } from '../config';
import { payloadsRefused } from '../observability/metrics';
import { payloadCodecsFor } from './payload-codec';

/** Temporal connection settings from the standard TEMPORAL_* variables and profile file. */
function connectConfig() {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return { connectionOptions, namespace: namespace ?? 'default' };
}

type CodecSettings = Pick<Settings, 'payloadKeys'> & Partial<Pick<Settings, 'payloadRequireEncryption'>>;

/**
 * How payloads are stored: encrypted with SMS_ASK_PAYLOAD_KEYS when set. Every entry point (the
 * worker, the CLI, a server) connects through this module, so they all read and write alike.
 */
export function dataConverterFor(settings: CodecSettings): DataConverter {
  return {
    payloadCodecs: payloadCodecsFor(settings.payloadKeys, {
      requireEncryption: settings.payloadRequireEncryption === true,
      onRefused: () => payloadsRefused.inc(),
    }),
  };
}

export async function connectClient(settings: CodecSettings = loadSettings()): Promise<Client> {
  const { connectionOptions, namespace } = connectConfig();
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace, dataConverter: dataConverterFor(settings) });
}

export async function connectWorker(
  settings: CodecSettings = loadSettings(),
): Promise<{ connection: NativeConnection; namespace: string; dataConverter: DataConverter }> {
  const { connectionOptions, namespace } = connectConfig();
  // Loaded here, not at the top: the worker SDK takes a third of a second to load, and the CLI's
  // other commands never need it.
  const { NativeConnection } = await import('@temporalio/worker');
  return {
    connection: await NativeConnection.connect(connectionOptions),
    namespace,
    dataConverter: dataConverterFor(settings),
  };
}
