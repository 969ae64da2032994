import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

/** Temporal connection settings from the standard TEMPORAL_* variables and profile file. */
function connectConfig() {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return { connectionOptions, namespace: namespace ?? 'default' };
}

export async function connectClient(): Promise<Client> {
  const { connectionOptions, namespace } = connectConfig();
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace });
}

export async function connectWorker(): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = connectConfig();
  return { connection: await NativeConnection.connect(connectionOptions), namespace };
}
