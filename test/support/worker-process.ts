/** `sms-ask worker` as a user runs it: a child process, started and stopped with SIGTERM as a supervisor does. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { SharedStack } from './global-setup';

export const BIN = path.resolve(__dirname, '../../bin/sms-ask');
const READY_MESSAGE = 'sms-ask worker running';

/** What a user's shell holds to point sms-ask at the shared stack, and nothing else of the test's environment. */
export function stackEnv(stack: SharedStack, settings: { taskQueue: string; queueUrl: string }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: stack.namespace,
    AWS_REGION: stack.region,
    AWS_ENDPOINT_URL: stack.awsEndpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    SMS_ASK_TASK_QUEUE: settings.taskQueue,
    SMS_ASK_QUEUE_URL: settings.queueUrl,
  };
}

/** The environment that points a worker at the shared stack, its own task queue and queue. */
export function workerEnv(
  stack: SharedStack,
  settings: { taskQueue: string; queueUrl: string },
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return { ...stackEnv(stack, settings), SMS_ASK_POLL_WAIT_SECONDS: '1', ...extra };
}

export class WorkerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly output: { text: string },
    private readonly exited: Promise<number | null>,
  ) {}

  /** Starts `command` (e.g. [node, bin/sms-ask, 'worker']); resolves once the worker says it runs. */
  static async start(
    command: readonly string[],
    env: NodeJS.ProcessEnv,
    cwd?: string,
    timeoutMs = 120_000,
  ): Promise<WorkerProcess> {
    const child = spawn(command[0]!, command.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { text: '' };
    child.stdout?.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const worker = new WorkerProcess(child, output, exited);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the worker did not start within ${timeoutMs / 1000} s:\n${output.text}`)),
        timeoutMs,
      );
      child.stderr?.on('data', (chunk: Buffer) => {
        output.text += chunk.toString();
        if (output.text.includes(READY_MESSAGE)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the worker exited (${code}) before it ran:\n${output.text}`));
      });
    }).catch(async (err: unknown) => {
      await worker.stop();
      throw err;
    });
    return worker;
  }

  /** What the worker has written so far (its JSON log lines). */
  get log(): string {
    return this.output.text;
  }

  /** Sends `signal` (a crash: SIGKILL) and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then the exit code; SIGKILL if it has not exited after `timeoutMs`. */
  async stop(timeoutMs = 60_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
