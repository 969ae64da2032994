/**
 * The worker under test, as `sms-ask worker` in a child process: its resident memory is its own,
 * and the benchmark driver never competes with it for an event loop.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const CLI = path.resolve(__dirname, '..', 'bin', 'sms-ask');
const LIMIT_WORKER = path.resolve(__dirname, 'limit-worker.ts');
const READY_MESSAGE = 'sms-ask worker running';
const LIMIT_READY_MESSAGE = 'limit worker running';
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;
/**
 * The Node options the image runs the worker with (the Dockerfile's NODE_OPTIONS; a test keeps the
 * two equal), so that the memory measured is the memory deployed. Without a heap size, V8 sizes
 * each heap from the machine's memory (4 GiB here) and lets garbage pile up towards it.
 */
export const DEPLOYED_NODE_OPTIONS = '--max-old-space-size=256';

export interface ProcessUsage {
  /** Resident memory now (VmRSS). */
  rssBytes: number;
  /** Peak resident memory so far (VmHWM). */
  peakRssBytes: number;
  /** User + system CPU time so far. */
  cpuMs: number;
}

/** What a worker process looked like when it reported that it runs. */
export interface WorkerStart {
  /** From spawn to the ready message: loading, bundling or loading the workflow code, connecting. */
  startSeconds: number;
  rssAtStartBytes: number;
}

export class WorkerProcess {
  startup: WorkerStart = { startSeconds: NaN, rssAtStartBytes: NaN };

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly lines: readline.Interface,
  ) {}

  /**
   * Starts `sms-ask worker` as the image runs it, with the given environment (and Node flags, e.g.
   * --cpu-prof); resolves once it reports that it runs.
   */
  static async start(
    name: string,
    env: Record<string, string>,
    logFile: string,
    nodeArgs: readonly string[] = [],
  ): Promise<WorkerProcess> {
    return WorkerProcess.spawn(
      name,
      [...nodeArgs, CLI, 'worker'],
      READY_MESSAGE,
      { NODE_OPTIONS: DEPLOYED_NODE_OPTIONS, ...env },
      logFile,
    );
  }

  /** Starts the `limit` scenario's worker: the SDK's defaults and a trivial workflow. */
  static async startLimitWorker(
    name: string,
    env: Record<string, string>,
    logFile: string,
    nodeArgs: readonly string[] = [],
  ): Promise<WorkerProcess> {
    return WorkerProcess.spawn(
      name,
      [...nodeArgs, '--require', 'tsx/cjs', LIMIT_WORKER],
      LIMIT_READY_MESSAGE,
      env,
      logFile,
    );
  }

  private static async spawn(
    name: string,
    args: string[],
    readyMessage: string,
    env: Record<string, string>,
    logFile: string,
  ): Promise<WorkerProcess> {
    const spawnedAt = Date.now();
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, args, {
      env: { ...process.env, SMS_ASK_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        process.off('exit', killOnExit);
        log.end();
        resolve();
      }),
    );
    child.stdout?.pipe(log, { end: false });
    // The worker logs JSON lines on stderr.
    const lines = readline.createInterface({ input: child.stderr! });
    const ready = new Promise<void>((resolve, reject) => {
      let pending = '';
      const timer = setTimeout(
        () => reject(new Error(`worker ${name} did not start within ${START_TIMEOUT_MS / 1000} s; see ${logFile}`)),
        START_TIMEOUT_MS,
      );
      child.stderr?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        pending += chunk.toString();
        if (pending.includes(readyMessage)) {
          clearTimeout(timer);
          resolve();
        }
        pending = pending.slice(-readyMessage.length);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`worker ${name} exited (${code ?? signal}) before it was ready; see ${logFile}`));
      });
    });
    const worker = new WorkerProcess(name, child, exited, lines);
    try {
      await ready;
      worker.startup = { startSeconds: (Date.now() - spawnedAt) / 1000, rssAtStartBytes: worker.usage().rssBytes };
    } catch (err) {
      await worker.stop();
      throw err;
    }
    return worker;
  }

  /**
   * The log times of the worker's lines with this message from now on, as they are written: the
   * instants the worker did something, without reading any emulator.
   */
  logTimes(msg: string): { times: number[]; stop: () => void } {
    const times: number[] = [];
    const onLine = (line: string) => {
      if (!line.includes(msg)) return;
      try {
        const entry = JSON.parse(line) as { msg?: string; time?: number };
        if (entry.msg === msg && typeof entry.time === 'number') times.push(entry.time);
      } catch {
        // Not a log line of the worker's (e.g. a warning printed by Node).
      }
    };
    this.lines.on('line', onLine);
    return { times, stop: () => this.lines.off('line', onLine) };
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Memory and CPU from /proc (Linux), where the benchmark is meant to run. */
  usage(): ProcessUsage {
    return processUsage(this.pid);
  }

  /** SIGTERM, which the worker takes as a graceful shutdown; SIGKILL if it hangs. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

/** A process's memory and CPU so far, from /proc (Linux, where the benchmark is meant to run). */
export function processUsage(pid: number): ProcessUsage {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name: state is field 3, utime and stime are fields 14 and 15, in clock ticks (100 Hz on Linux).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM'), cpuMs: ticks * 10 };
}
