/** Runs the `sms-ask` command as a user does, with the environment the test gives it. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorker } from './harness';
import { sharedStack } from './harness';
import { stackEnv } from './worker-process';

export const BIN = path.resolve(__dirname, '../../bin/sms-ask');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What a user's shell would hold to point the CLI at the shared stack and this worker. */
export function cliEnv(
  worker: TestWorker,
  inbound: { queueUrl: string; topicArn: string },
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    ...stackEnv(sharedStack(), { taskQueue: worker.taskQueue, queueUrl: inbound.queueUrl }),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SMS_ASK_INBOUND_TOPIC_ARN: inbound.topicArn,
    ...extra,
  };
}

export async function runCli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(BIN, args, { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Runs with --json and parses the output; a non-zero exit fails with what the command said. */
export async function runCliJson<T>(env: NodeJS.ProcessEnv, ...args: string[]): Promise<T> {
  const out = await runCli(env, '--json', ...args);
  if (out.code !== 0) throw new Error(`sms-ask ${args.join(' ')} exited ${out.code}: ${out.stdout}${out.stderr}`);
  return JSON.parse(out.stdout) as T;
}
