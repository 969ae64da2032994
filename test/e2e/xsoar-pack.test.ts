/**
 * The XSOAR pack end to end on the local stack: its own Python, run as XSOAR runs it (the script
 * and commands with demisto.args(), the long-running loop as a process), through the stand-in
 * `demisto` module (XSOAR itself cannot run here), against the HTTP API and a real worker on the
 * Temporal dev server and moto. Each phone reply must complete its playbook task exactly once.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';
import { freeLoopbackPort } from '../../src/worker/monitor-server';
import { webhookSignature } from '../../src/webhooks/signature';
import { ensureInboundPoller } from '../../src/worker/worker';
import { eventually, localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';
import { startTestApi } from '../support/http';
import type { TestApi } from '../support/http';

const ROOT = path.join(__dirname, '..', '..');
const VENV_PYTHON = path.join(ROOT, '.tools', 'xsoar-venv', 'bin', 'python');
const PYTHON = existsSync(VENV_PYTHON) ? VENV_PYTHON : 'python3';
const RUNNER = path.join(ROOT, 'xsoar', 'tests', 'xsoar_runner.py');
const KEY = `xsoar-${randomUUID()}`;
const WEBHOOK_SECRET = `whsec-${randomUUID()}`;

interface Call {
  kind: string;
  at: number;
  [field: string]: unknown;
}

const aws = localAws();
let worker: TestWorker;
let api: TestApi;
let topicArn: string;
let dir: string;

beforeAll(async () => {
  const name = `xsoar-${randomUUID().slice(0, 8)}`;
  const inbound = await provisionInboundResources({
    ...aws,
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 3,
  });
  topicArn = inbound.topicArn;
  worker = await startTestWorker({
    queueUrl: inbound.queueUrl,
    pollWaitSeconds: 1,
    webhookSecrets: { xsoar: WEBHOOK_SECRET },
  });
  await ensureInboundPoller(worker.client, worker.settings);
  api = await startTestApi(worker, {
    httpKeyless: false,
    httpApiKeys: [{ name: 'xsoar-instance', scope: 'operate', key: KEY }],
  });
  dir = mkdtempSync(path.join(tmpdir(), 'sms-ask-xsoar-'));
}, 60_000);
afterAll(async () => {
  await api?.close();
  await worker?.stop();
});

const readCalls = (record: string): Call[] =>
  existsSync(record)
    ? readFileSync(record, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Call)
    : [];
const tasksCompleted = (record: string) => readCalls(record).filter((c) => c.kind === 'handleEntitlementForUser');
const firstTaskCompleted = (record: string) =>
  eventually(async () => tasksCompleted(record)[0], 'the task completed', 30_000);

/** One run of the runner (a command or the script); resolves with its calls once it exits 0. */
function run(config: object): Promise<Call[]> {
  const name = randomUUID();
  const configFile = path.join(dir, `${name}.json`);
  const record = path.join(dir, `${name}.jsonl`);
  writeFileSync(configFile, JSON.stringify(config));
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [RUNNER, '--config', configFile, '--record', record], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(readCalls(record))
        : reject(new Error(`runner exited ${code}: ${stderr}\n${readFileSync(record, 'utf8')}`)),
    );
  });
}

/** The instance's long-running loop as a process, as XSOAR runs it, until stop(). */
async function startLoop(params: object, record: string, contextFile: string) {
  const configFile = path.join(dir, `${randomUUID()}.json`);
  const stopFile = `${configFile}.stop`;
  writeFileSync(configFile, JSON.stringify({ target: 'integration', params }));
  const child = spawn(
    PYTHON,
    [
      RUNNER,
      '--config',
      configFile,
      '--record',
      record,
      '--long-running',
      '--stop-file',
      stopFile,
      '--context-file',
      contextFile,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const started = readCalls(record).filter((c) => c.kind === 'runner' && c.event === 'started').length;
  await eventually(
    async () =>
      readCalls(record).filter((c) => c.kind === 'runner' && c.event === 'started').length > started ? true : undefined,
    'the loop to start',
    20_000,
  );
  return {
    async stop() {
      writeFileSync(stopFile, '');
      const code = await exited;
      if (code !== 0) throw new Error(`the loop exited ${code}: ${stderr}`);
    },
  };
}

const params = (extra: object = {}) => ({
  url: api.url,
  apiKey: { identifier: '', password: KEY },
  feedWait: 1,
  entitlementTTL: '1',
  ...extra,
});

/** SMSAskUser in a playbook task: the entitlement, then the ask; returns the GUID, the phone's SMS and the ask id. */
async function askUser(phone: string, task: string, extraArgs: object = {}, extraParams: object = {}) {
  const guid = randomUUID();
  const calls = await run({
    target: 'script',
    args: { phone, message: `Isolate host WS-${task}?`, option1: 'Yes', option2: 'No', task, ...extraArgs },
    params: params(extraParams),
    investigation: { id: '1042' },
    entitlementGuid: guid,
  });
  const sent = calls.find((c) => c.kind === 'executeCommand' && c.command === 'send-notification');
  expect(sent?.args).toMatchObject({ to: phone, entitlement: `${guid}@1042|${task}` });
  const askId = `ask/${guid}@1042|${task}`;
  const sms = await waitForSms(
    sharedStack().awsEndpoint,
    (m) => m.phoneNumber === phone && m.message.startsWith(`Isolate host WS-${task}?`),
    30_000,
  );
  return { guid, askId, sms: sms.message };
}

const codeIn = (sms: string, option: string) => new RegExp(`${option} \\((\\d+)\\)`).exec(sms)![1]!;
const reply = (from: string, body: string) => publishPhoneReply(aws.sns, topicArn, { from, body });

describe('poll mode (the feed)', () => {
  it('completes the task once on the SMS answer, and once each for asks answered while the loop was down', async () => {
    const record = path.join(dir, 'poll.jsonl');
    const context = path.join(dir, 'poll-context.json');
    let loop = await startLoop(params(), record, context);

    const phone = newPhone();
    const first = await askUser(phone, '7');
    const repliedAt = Date.now();
    await reply(phone, codeIn(first.sms, 'Yes'));
    const done = await firstTaskCompleted(record);
    expect(done).toMatchObject({ incidentID: '1042', guid: first.guid, email: phone, content: 'Yes', taskID: '7' });
    console.log(
      `xsoar poll mode: phone reply to handleEntitlementForUser ${Math.round(done.at * 1000 - repliedAt)} ms`,
    );

    // The instance stops; meanwhile a phone answers one ask and an operator another.
    await loop.stop();
    const secondPhone = newPhone();
    const [second, third] = [await askUser(secondPhone, '8'), await askUser(newPhone(), '9')];
    await reply(secondPhone, codeIn(second.sms, 'No'));
    await worker.asks.resultWithin(second.askId, 30_000);
    expect(
      (
        await api.call('POST', `/v1/asks/${encodeURIComponent(third.askId)}/answer`, {
          key: KEY,
          body: { option: 'Yes', reason: 'called the SOC' },
        })
      ).status,
    ).toBe(200);

    loop = await startLoop(params(), record, context);
    await eventually(
      async () => (tasksCompleted(record).length >= 3 ? true : undefined),
      'both tasks completed after the restart',
      30_000,
    );
    await new Promise((r) => setTimeout(r, 2_500)); // a repeat would come within the next long polls
    await loop.stop();
    const calls = tasksCompleted(record).map(({ incidentID, guid, email, content, taskID }) => ({
      incidentID,
      guid,
      email,
      content,
      taskID,
    }));
    expect(calls).toEqual([
      { incidentID: '1042', guid: first.guid, email: phone, content: 'Yes', taskID: '7' },
      { incidentID: '1042', guid: second.guid, email: secondPhone, content: 'No', taskID: '8' },
      { incidentID: '1042', guid: third.guid, email: 'xsoar-instance', content: 'Yes', taskID: '9' },
    ]);
  }, 180_000);

  it("completes the task with a timeout's default answer and says so; without a default completes nothing and says why", async () => {
    const record = path.join(dir, 'timeout.jsonl');
    const loop = await startLoop(params(), record, path.join(dir, 'timeout-context.json'));
    try {
      const withDefault = await askUser(newPhone(), '21', { timeout: '3s', defaultOption: 'No' });
      const withoutDefault = await askUser(newPhone(), '22', { timeout: '3s' });
      await eventually(
        async () => (readCalls(record).filter((c) => c.kind === 'addEntry').length >= 2 ? true : undefined),
        'two war-room entries',
        30_000,
      );
      // A new instance reads the feed from its oldest entry: the asks of the test before are in it too.
      const mine = tasksCompleted(record).filter((c) => c.guid === withDefault.guid || c.guid === withoutDefault.guid);
      expect(mine).toEqual([
        expect.objectContaining({ guid: withDefault.guid, content: 'No', email: 'default', taskID: '21' }),
      ]);
      const entries = readCalls(record).filter((c) => c.kind === 'addEntry');
      expect(entries.find((e) => String(e.entry).includes('WS-21'))?.entry).toMatch(/default answer \*\*No\*\*/);
      expect(entries.find((e) => String(e.entry).includes('WS-22'))?.entry).toMatch(/not\*\* completed/);
      expect(tasksCompleted(record).some((c) => c.guid === withoutDefault.guid)).toBe(false);
    } finally {
      await loop.stop();
    }
  }, 120_000);
});

describe('webhook mode (a listener on the long-running port)', () => {
  it('completes the task once on the signed delivery, and refuses a forged one', async () => {
    const port = await freeLoopbackPort();
    const webhook = params({
      mode: 'webhook',
      longRunningPort: String(port),
      webhookSecret: { identifier: '', password: WEBHOOK_SECRET },
      callbackUrl: `http://127.0.0.1:${port}/`,
      callbackSecretName: 'xsoar',
    });
    const record = path.join(dir, 'webhook.jsonl');
    const loop = await startLoop(webhook, record, path.join(dir, 'webhook-context.json'));
    try {
      await eventually(
        async () => (readCalls(record).some((c) => c.kind === 'runner' && c.event === 'listening') ? true : undefined),
        'the listener',
        20_000,
      );

      // Forged: the body of a real delivery, signed with another secret; then unsigned.
      const phone = newPhone();
      const forgedBody = JSON.stringify({
        id: `webhook/forged-${randomUUID()}`,
        type: 'ask.ended',
        createdAt: new Date().toISOString(),
        ask: {
          askId: 'ask/x',
          entitlement: `${randomUUID()}@1042|5`,
          status: 'answered',
          answer: { option: 'Yes', via: 'sms', by: phone },
        },
      });
      const now = Math.floor(Date.now() / 1000);
      for (const signature of [webhookSignature('not the secret at all', now, forgedBody), undefined]) {
        const res = await fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'sms-ask-event': 'ask.ended',
            'sms-ask-delivery': `webhook/forged-${randomUUID()}`,
            ...(signature && { 'sms-ask-signature': signature }),
          },
          body: forgedBody,
        });
        expect(res.status).toBe(401);
      }

      const asked = await askUser(phone, '31', {}, webhook);
      const repliedAt = Date.now();
      await reply(phone, codeIn(asked.sms, 'No'));
      const done = await firstTaskCompleted(record);
      console.log(
        `xsoar webhook mode: phone reply to handleEntitlementForUser ${Math.round(done.at * 1000 - repliedAt)} ms`,
      );
      await new Promise((r) => setTimeout(r, 1_500));
      expect(
        tasksCompleted(record).map(({ incidentID, guid, email, content, taskID }) => ({
          incidentID,
          guid,
          email,
          content,
          taskID,
        })),
      ).toEqual([{ incidentID: '1042', guid: asked.guid, email: phone, content: 'No', taskID: '31' }]);
    } finally {
      await loop.stop();
    }
  }, 120_000);
});

describe('aws-sns-sms-inject-reply', () => {
  it('is refused where the deployment does not allow injected replies, and says which setting allows them', async () => {
    const phone = newPhone();
    const asked = await askUser(phone, '41');
    const calls = await run({
      target: 'integration',
      command: 'aws-sns-sms-inject-reply',
      args: { phone_number: phone, reply_code: codeIn(asked.sms, 'Yes') },
      params: params(),
    });
    const results = JSON.stringify(calls.filter((c) => c.kind === 'results'));
    expect(results).toMatch(/SMS_ASK_HTTP_ALLOW_INJECTED_REPLIES/);
    expect((await worker.asks.status(asked.askId)).status).toBe('waiting');
    await worker.asks.cancel(asked.askId, { by: 'test' });
  }, 60_000);

  it("where allowed, goes through sms-ask's reply routing: a wrong code is a refused guess, the right one answers as the key", async () => {
    const allowing = await startTestApi(worker, {
      httpKeyless: false,
      httpAllowInjectedReplies: true,
      httpApiKeys: [{ name: 'xsoar-tests', scope: 'operate', key: KEY }],
    });
    try {
      const phone = newPhone();
      const asked = await askUser(phone, '42');
      const inject = async (code: string) => {
        const calls = await run({
          target: 'integration',
          command: 'aws-sns-sms-inject-reply',
          args: { phone_number: phone, reply_code: code },
          params: { ...params(), url: allowing.url },
        });
        const entry = calls.find((c) => c.kind === 'results')?.results as { EntryContext?: Record<string, unknown> };
        return Object.values(entry?.EntryContext ?? {})[0] as Record<string, unknown>;
      };
      const wrong = await inject(codeIn(asked.sms, 'Yes') === '1111111' ? '2222222' : '1111111');
      expect(wrong).toMatchObject({
        Success: false,
        PhoneNumber: phone,
        Error: expect.stringMatching(/not an open code/),
      });
      expect(JSON.stringify(wrong)).not.toContain(codeIn(asked.sms, 'No'));
      expect((await worker.asks.status(asked.askId)).status).toBe('waiting');
      const right = await inject(codeIn(asked.sms, 'No'));
      expect(right).toMatchObject({
        Success: true,
        ChosenOption: 'No',
        EntitlementGUID: asked.guid,
        IncidentID: '1042',
        TaskID: '42',
        Error: null,
      });
      expect((await worker.asks.resultWithin(asked.askId, 20_000))?.answer).toMatchObject({
        option: 'No',
        injectedBy: 'xsoar-tests',
      });
    } finally {
      await allowing.close();
    }
  }, 60_000);
});
