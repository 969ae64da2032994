/**
 * The limit of this stack, measured in the same run: as many workflows as the burst, each waiting
 * for one signal and then completing, on one worker with the SDK's defaults. From the first signal
 * to the last completion; nothing sms-ask does per reply can go faster.
 */
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { mapConcurrently } from '../pool';
import type { Progress } from '../progress';
import { doneSignal, readyQuery } from '../workflows/limit';
import type { signalToCompleteWorkflow } from '../workflows/limit';
import type { WorkerProcess } from '../worker-process';
import { startCpuMeter } from '../cpu-meter';
import type { CpuPerUnit, StackPids } from '../cpu-meter';

export interface LimitResult {
  workflows: number;
  seconds: number;
  /** Workflows signalled and completed per second. */
  perSecond: number;
  /** Worker CPU per workflow while the signals were handled. */
  cpuMsPerWorkflow: number;
  /** CPU per workflow of the worker and of the Temporal dev server, over the same stretch. */
  cpuPerWorkflow: CpuPerUnit;
}

const CONCURRENCY = 32;

export async function measureLimit(params: {
  client: Client;
  worker: WorkerProcess;
  stackPids: StackPids;
  taskQueue: string;
  count: number;
  progress: Progress;
}): Promise<LimitResult> {
  const { client, worker, stackPids, taskQueue, count, progress } = params;
  const prefix = `bench-limit-${Date.now()}`;
  const handles = await mapConcurrently(
    Array.from({ length: count }, (_, i) => i),
    CONCURRENCY,
    async (i) => {
      const handle = await client.workflow.start<typeof signalToCompleteWorkflow>('signalToCompleteWorkflow', {
        taskQueue,
        workflowId: `${prefix}-${i}`,
      });
      progress.update(`started ${i + 1}/${count}`);
      return handle;
    },
  );
  // Each has run its first task and waits, as a pending ask does.
  await mapConcurrently(handles, CONCURRENCY, (handle) => handle.query(readyQuery));
  const cpu = startCpuMeter({ worker: worker.pid, temporal: stackPids.temporal });
  const start = Date.now();
  await mapConcurrently(handles, CONCURRENCY, (handle) => handle.signal(doneSignal));
  let completed = 0;
  const closed = await mapConcurrently(handles, 100, async (handle) => {
    await handle.result();
    progress.update(`completed ${++completed}/${count}`);
    return tsToMs((await handle.describe()).raw.workflowExecutionInfo?.closeTime);
  });
  const seconds = (Math.max(...closed) - start) / 1000;
  const cpuPerWorkflow = cpu(count);
  const result = {
    workflows: count,
    seconds,
    perSecond: count / seconds,
    cpuMsPerWorkflow: cpuPerWorkflow.worker ?? NaN,
    cpuPerWorkflow,
  };
  progress.done(
    `${count} signal-to-complete workflows in ${seconds.toFixed(1)} s: ${result.perSecond.toFixed(0)}/s, ${result.cpuMsPerWorkflow.toFixed(1)} ms worker CPU each`,
  );
  return result;
}
