/** The `sms-ask` command as a user runs it, against the local stack and a real worker. */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsAskClient } from '../../src/client/sms-ask-client';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { waitForSms } from '../../src/local-stack/phone-simulator';
import type { AskState } from '../../src/workflows/definitions';
import { ensureInboundPoller } from '../../src/worker/worker';
import { BIN, cliEnv, runCli, runCliJson } from '../support/cli';
import { eventually, localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

let worker: TestWorker;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const name = `cli-${randomUUID().slice(0, 8)}`;
  const inbound = await provisionInboundResources({
    ...localAws(),
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 3,
  });
  worker = await startTestWorker({ queueUrl: inbound.queueUrl, pollWaitSeconds: 1 });
  await ensureInboundPoller(worker.client, worker.settings);
  env = cliEnv(worker, inbound);
});
afterAll(async () => {
  await worker?.stop();
});

const cli = (...args: string[]) => runCli(env, ...args);
const cliJson = <T>(...args: string[]) => runCliJson<T>(env, ...args);

describe('sms-ask CLI', () => {
  it("prints the whole JSON of a listing far larger than a pipe's buffer, and exits 0 (execFile rejects otherwise), also when the reader closes the pipe early", async () => {
    // Asks on a task queue no worker polls: listed from their start, and nothing is sent.
    const taskQueue = `cli-big-${randomUUID()}`;
    const asks = new SmsAskClient(worker.client, { taskQueue });
    const phone = newPhone();
    const question = `Quarantine these hosts? ${'ws-0042 '.repeat(120)}`;
    const started = await Promise.all(
      Array.from({ length: 100 }, () => asks.start({ to: phone, question, timeout: '1h' })),
    );
    try {
      await eventually(
        async () => ((await asks.listPending({ recipient: phone })).length === 100 ? true : undefined),
        'the 100 asks to be listed',
        30_000,
      );
      // Through a shell pipe, as a user runs it: a pipe holds 64 KiB, the listing is twice that.
      const { stdout } = await promisify(execFile)(
        'bash',
        ['-c', `set -o pipefail; "${BIN}" --json pending --to '${phone}' | cat`],
        {
          env: { ...env, SMS_ASK_TASK_QUEUE: taskQueue },
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      expect(stdout.length).toBeGreaterThan(100_000);
      expect((JSON.parse(stdout) as unknown[]).length).toBe(100);
      // A reader that stops early closes the pipe: the command ends quietly, with no EPIPE stack trace.
      const early = await promisify(execFile)(
        'bash',
        ['-c', `set -o pipefail; "${BIN}" --json pending --to '${phone}' | head -1`],
        {
          env: { ...env, SMS_ASK_TASK_QUEUE: taskQueue },
        },
      );
      expect(early.stdout).toBe('[\n');
      expect(early.stderr).toBe('');
    } finally {
      await Promise.all(started.map(({ askId }) => worker.client.workflow.getHandle(askId).terminate('test done')));
    }
  });

  it('refuses a bad phone number, an empty option list, an oversized question and an unknown priority before sending anything', async () => {
    const badPhone = await cli('ask', 'Reboot?', '--to', '12345');
    expect(badPhone.code).toBe(1);
    expect(badPhone.stderr).toMatch(/to\[0\]: "12345" is not a valid phone number .*E\.164/);

    const oneOption = await cli('--json', 'ask', 'Reboot?', '--to', newPhone(), '--option', 'Yes');
    expect(oneOption.code).toBe(1);
    expect(JSON.parse(oneOption.stdout).error).toMatch(/options: give 2 to 9 options/);

    const huge = await cli('ask', 'x'.repeat(1700), '--to', newPhone());
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/SNS accepts at most 1600/);

    const urgent = await cli('ask', 'Reboot?', '--to', newPhone(), '--priority', 'urgent');
    expect(urgent.code).not.toBe(0);
    expect(urgent.stderr).toMatch(/--priority.*urgent.*high, normal, bulk/s);
  });

  it('starts an ask, lists it as pending with its codes, and takes an operator answer', async () => {
    const phone = newPhone();
    const { askId } = await cliJson<{ askId: string }>(
      'ask',
      'Disable account jdoe?',
      '--to',
      phone,
      '--timeout',
      '1h',
      '--context',
      '{"incident":"77"}',
      '--priority',
      'bulk',
    );
    expect((await worker.client.workflow.getHandle(askId).describe()).priority?.priorityKey).toBe(5);

    const pending = await cliJson<{ askId: string; codes: Record<string, { code: string }[]> }[]>(
      'pending',
      '--to',
      phone,
      '--codes',
    );
    expect(pending.map((p) => p.askId)).toEqual([askId]);
    expect(pending[0]!.codes[phone]).toHaveLength(2);

    const answered = await cliJson<AskState>('answer', askId, 'no', '--by', 'alice');
    expect(answered.answer).toMatchObject({ option: 'No', via: 'manual', by: 'alice' });

    const status = await cli('status', askId);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/status:\s+answered/);
    expect(status.stdout).toMatch(/answered\s+alice\s+No \(manual by alice\)/);

    const again = await cli('answer', askId, 'yes');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has already ended (answered)');
  });

  it('plays the phone with reply, and ask --wait prints the answer that came back by SMS', async () => {
    const phone = newPhone();
    const waiting = cli(
      '--json',
      'ask',
      'Block IP 198.51.100.7?',
      '--to',
      phone,
      '--option',
      'Block',
      '--option',
      'Allow',
      '--wait',
    );
    const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone, 30_000);
    const block = /Block \((\d+)\)/.exec(sms.message)![1]!;

    const replied = await cli('reply', '--from', phone, `${block}`);
    expect(replied.code).toBe(0);
    const result = await waiting;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).answer).toMatchObject({ option: 'Block', via: 'sms', by: phone });
  });

  it('sends a one-way SMS', async () => {
    const phone = newPhone();
    const sent = await cliJson<{ messageId: string; segments: number }>(
      'send',
      '--to',
      phone,
      'Maintenance',
      'tonight',
      'at',
      '22:00',
    );
    expect(sent.segments).toBe(1);
    const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.messageId === sent.messageId);
    expect(sms).toMatchObject({ phoneNumber: phone, message: 'Maintenance tonight at 22:00' });
  });

  it('says which ask was not found', async () => {
    const out = await cli('status', 'no-such-entitlement');
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('No ask with id ask/no-such-entitlement');
  });
});

describe('sms-ask stack up / down', () => {
  it('runs a stack with a worker in the background, writes its settings, and stops it all', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sms-ask-stack-'));
    const envFile = path.join(dir, 'env');
    const up = spawn(BIN, ['stack', 'up', '--env-path', envFile], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Its last lines, so that a stack that fails to come up says why.
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(...chunk.toString().split('\n').filter(Boolean));
      output.splice(0, Math.max(0, output.length - 40));
    };
    up.stdout.on('data', keep);
    up.stderr.on('data', keep);
    const exitedEarly = new Promise<never>((_, reject) =>
      up.once('exit', (code, signal) =>
        reject(
          new Error(
            `stack up exited (${code ?? signal}) before writing its env file; its last output:\n${output.join('\n')}`,
          ),
        ),
      ),
    );
    exitedEarly.catch(() => undefined);
    try {
      const written = await Promise.race([
        eventually(
          async () => (existsSync(envFile) ? readFileSync(envFile, 'utf8') : undefined),
          'the env file',
          60_000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}; the stack's last output:\n${output.join('\n')}`);
        }),
        exitedEarly,
      ]);
      const stackEnv = Object.fromEntries(
        written
          .trim()
          .split('\n')
          .map((line) => line.split(/=(.*)/s).slice(0, 2)),
      );
      expect(Object.keys(stackEnv).sort()).toEqual([
        'AWS_ACCESS_KEY_ID',
        'AWS_ENDPOINT_URL',
        'AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2',
        'AWS_REGION',
        'AWS_SECRET_ACCESS_KEY',
        'SMS_ASK_HTTP_KEYLESS',
        'SMS_ASK_INBOUND_FORMATS',
        'SMS_ASK_INBOUND_TOPIC_ARN',
        'SMS_ASK_QUEUE_URL',
        'SMS_ASK_WEBHOOK_ALLOW_HTTP_LOOPBACK',
        'TEMPORAL_ADDRESS',
        'TEMPORAL_NAMESPACE',
      ]);

      // The stack's own worker answers: ask, play the phone, and wait for the result.
      const phone = newPhone();
      const run = (...args: string[]) =>
        promisify(execFile)(BIN, ['--json', ...args], { env: { ...env, ...stackEnv, SMS_ASK_TASK_QUEUE: '' } });
      const asked = run('ask', 'Background stack?', '--to', phone, '--wait');
      const sms = await waitForSms(stackEnv.AWS_ENDPOINT_URL!, (m) => m.phoneNumber === phone, 60_000);
      await run('reply', '--from', phone, /Yes \((\d+)\)/.exec(sms.message)![1]!);
      expect(JSON.parse((await asked).stdout).answer.option).toBe('Yes');

      const down = await promisify(execFile)(BIN, ['stack', 'down', '--env-path', envFile], { env });
      expect(down.stdout).toMatch(/stopped/);
      await eventually(async () => (up.exitCode !== null ? true : undefined), 'the stack process to exit', 30_000);
      expect(existsSync(envFile)).toBe(false);
      await expect(fetch(`${stackEnv.AWS_ENDPOINT_URL}/moto-api/data.json`)).rejects.toThrow();
    } finally {
      up.kill('SIGKILL');
    }
  }, 120_000);
});
