/**
 * CPU time of each process of the stack over a stretch of work, per unit of work: which part (the
 * worker, the Temporal dev server, the AWS emulator) a rate is held by, measured in the same run.
 */
import { processUsage } from './worker-process';

export interface CpuPerUnit {
  /** Milliseconds of CPU per unit; absent where the process is not known or not readable. */
  worker?: number;
  temporal?: number;
  /** moto: SNS, and SQS unless the replies travel through ElasticMQ. */
  aws?: number;
  /** ElasticMQ, when the replies travel through it. */
  sqs?: number;
}

export type StackPids = { [K in keyof CpuPerUnit]?: number };

/** Starts measuring; the function it returns ends the stretch and divides each process's CPU by `units`. */
export function startCpuMeter(pids: StackPids): (units: number) => CpuPerUnit {
  const read = (pid: number | undefined) => {
    if (pid === undefined) return undefined;
    try {
      return processUsage(pid).cpuMs;
    } catch {
      return undefined;
    }
  };
  const parts = Object.keys(pids) as (keyof CpuPerUnit)[];
  const before = new Map(parts.map((part) => [part, read(pids[part])]));
  return (units) => {
    const perUnit: CpuPerUnit = {};
    for (const part of parts) {
      const start = before.get(part);
      const end = read(pids[part]);
      if (start !== undefined && end !== undefined && units > 0) perUnit[part] = (end - start) / units;
    }
    return perUnit;
  };
}

/** "worker 12.0, Temporal 31.5, moto 9.1, ElasticMQ 1.2 ms". */
export function formatCpuPerUnit(cpu: CpuPerUnit): string {
  const parts = [
    ['worker', cpu.worker],
    ['Temporal', cpu.temporal],
    ['moto', cpu.aws],
    ['ElasticMQ', cpu.sqs],
  ].flatMap(([name, ms]) => (ms === undefined ? [] : [`${name} ${(ms as number).toFixed(1)}`]));
  return parts.length ? `${parts.join(', ')} ms` : 'not measured';
}
