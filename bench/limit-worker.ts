/**
 * The worker of the `limit` scenario, in its own process like sms-ask's: the SDK's defaults, and
 * only the trivial signal-to-complete workflow. Stops on SIGTERM.
 */
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { installQuietRuntime } from '../src/worker/runtime';

/** What bench/worker-process.ts waits for. */
const READY_MESSAGE = 'limit worker running';

async function main(): Promise<void> {
  installQuietRuntime();
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  try {
    const worker = await Worker.create({
      connection,
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: process.env.BENCH_LIMIT_TASK_QUEUE ?? 'bench-limit',
      workflowsPath: path.resolve(__dirname, 'workflows/limit.ts'),
    });
    process.once('SIGTERM', () => worker.shutdown());
    process.once('SIGINT', () => worker.shutdown());
    process.stderr.write(`${READY_MESSAGE}\n`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
