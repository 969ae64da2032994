/**
 * The worker processes under test, each `sms-ask worker` in a child process, kept running the way a
 * process supervisor would: one that exits (or is killed) is started again at once.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const CLI = path.resolve(__dirname, '..', 'bin', 'sms-ask');
const READY_MESSAGE = 'sms-ask worker running';

class SupervisedWorker {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  starts = 0;
  ready: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly logFile: string,
  ) {}

  start(): Promise<void> {
    this.starts++;
    const log = fs.createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [CLI, 'worker'], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.stdout?.pipe(log, { end: false });
    let tail = '';
    this.ready = new Promise<void>((resolve) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        tail = (tail + chunk.toString()).slice(-4096);
        if (tail.includes(READY_MESSAGE)) resolve();
      });
      child.once('exit', () => resolve());
    });
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        process.off('exit', killOnExit);
        log.end();
        resolve();
        // A supervisor starts a worker that died again; a second later, as systemd's Restart=always would.
        if (!this.stopping) setTimeout(() => void (this.stopping || this.start()), 1_000);
      }),
    );
    return this.ready;
  }

  /** SIGKILL: no shutdown, no drain, whatever it held is left as a crash leaves it. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(force);
  }
}

export class WorkerPool {
  readonly workers: SupervisedWorker[];

  constructor(count: number, env: Record<string, string>, logDir: string) {
    this.workers = Array.from(
      { length: count },
      (_, i) => new SupervisedWorker(`worker-${i + 1}`, env, path.join(logDir, `worker-${i + 1}.log`)),
    );
  }

  async start(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.start()));
  }

  get restarts(): number {
    return this.workers.reduce((sum, worker) => sum + worker.starts - 1, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }
}
