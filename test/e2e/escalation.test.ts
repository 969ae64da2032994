/**
 * An escalated ask end to end on the local stack: the question, the escalation and the replies go
 * through moto's SNS and SQS and the real poller; `pending` reads Temporal visibility.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PendingAsk } from '../../src/client/sms-ask-client';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';
import type { AskState } from '../../src/workflows/definitions';
import { ensureInboundPoller } from '../../src/worker/worker';
import { cliEnv, runCli, runCliJson } from '../support/cli';
import { eventually, localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

const aws = localAws();
let worker: TestWorker;
let inbound: Awaited<ReturnType<typeof provisionInboundResources>>;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const name = `escalation-${randomUUID().slice(0, 8)}`;
  inbound = await provisionInboundResources({
    ...aws,
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 3,
  });
  worker = await startTestWorker({ queueUrl: inbound.queueUrl, pollWaitSeconds: 1 });
  await ensureInboundPoller(worker.client, worker.settings);
  const policyFile = path.join(mkdtempSync(path.join(tmpdir(), 'sms-ask-policies-')), 'policies.yaml');
  writeFileSync(
    policyFile,
    'presets:\n  critical-approval:\n    timeout: 1m\n    reminders: { every: 20s, max: 2 }\n    onTimeout: { answer: No }\n',
  );
  env = cliEnv(worker, inbound, { SMS_ASK_POLICY_FILE: policyFile });
});
afterAll(async () => {
  await worker?.stop();
});

const smsTo = (phone: string, match: (text: string) => boolean) =>
  waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone && match(m.message), 20_000);
const codeIn = (sms: string, option: string) => new RegExp(`${option} \\((\\d+)\\)`).exec(sms)![1]!;

/** Waits until the listing (eventually consistent) satisfies `check`. */
function listingUntil(
  check: (rows: PendingAsk[]) => boolean,
  what: string,
  list: () => Promise<PendingAsk[]>,
): Promise<PendingAsk[]> {
  return eventually(
    async () => {
      const rows = await list();
      return check(rows) ? rows : undefined;
    },
    what,
    20_000,
  );
}

describe('an escalated ask on the local stack', () => {
  it('is answered by the second tier\'s phone; the first phone\'s late reply gets "expired"; pending shows it only while it waits', async () => {
    const [oncall, lead] = [newPhone(), newPhone()];
    const incident = `inc-${randomUUID().slice(0, 8)}`;
    const { askId } = await runCliJson<{ askId: string }>(
      env,
      'ask',
      'Isolate host WS-042?',
      '--to',
      oncall,
      '--policy',
      'critical-approval',
      '--policy-json',
      JSON.stringify({ escalation: [{ after: '3s', to: lead, message: 'Escalated: on-call has not answered.' }] }),
      '--context',
      JSON.stringify({ incident }),
    );
    const question = await smsTo(oncall, (t) => t.startsWith('Isolate host WS-042?'));

    const mine = (rows: PendingAsk[]) => rows.find((r) => r.askId === askId);
    const waiting = await listingUntil(
      (rows) => mine(rows) !== undefined,
      'the ask in pending',
      () => worker.asks.listPending({ incident }),
    );
    expect(mine(waiting)).toMatchObject({ recipients: [oncall], tier: 0, policy: 'critical-approval', incident });

    const escalated = await smsTo(lead, (t) =>
      t.startsWith('Escalated: on-call has not answered.\nIsolate host WS-042?'),
    );
    await smsTo(oncall, (t) => t.startsWith(`Escalated to ...${lead.slice(-4)} (no answer yet): Isolate host WS-042?`));
    const viaCli = await listingUntil(
      (rows) => mine(rows)?.tier === 1,
      'the escalation in pending',
      () => runCliJson<PendingAsk[]>(env, 'pending', '--escalated', '--to', lead, '--codes'),
    );
    expect(mine(viaCli)).toMatchObject({ recipients: [oncall, lead], policy: 'critical-approval' });
    expect(mine(viaCli)!.codes?.[lead]).toHaveLength(2);

    await publishPhoneReply(aws.sns, inbound.topicArn, { from: lead, body: codeIn(escalated.message, 'Yes') });
    const result = await worker.asks.result(askId);
    expect(result).toMatchObject({ status: 'answered', tier: 1, answer: { option: 'Yes', via: 'sms', by: lead } });
    await smsTo(oncall, (t) => t === `Closed: Isolate host WS-042? (Answered by ...${lead.slice(-4)}: Yes)`);

    await publishPhoneReply(aws.sns, inbound.topicArn, { from: oncall, body: codeIn(question.message, 'No') });
    await smsTo(oncall, (t) => t.startsWith('That question has already closed: "Isolate host WS-042?"'));

    await listingUntil(
      (rows) => mine(rows) === undefined,
      'the ask to drop out of pending',
      () => worker.asks.listPending({ incident }),
    );
    expect(await runCliJson<PendingAsk[]>(env, 'pending', '--incident', incident)).toEqual([]);

    const status = await runCli(env, 'status', askId);
    expect(status.stdout).toMatch(
      /policy:\s+critical-approval: timeout 1m, reminders every 20s \(max 2\), tiers at 3s, on timeout No, first answer wins/,
    );
    expect(status.stdout).toMatch(new RegExp(`\\+3s\\s+escalated\\s+tier 1: \\${lead}`));
    expect(status.stdout).toMatch(new RegExp(`answered\\s+\\${lead}\\s+Yes \\(sms by \\${lead}\\)`));
  });

  it('takes extend, resend and cancel from the command line, each logged with who and why', async () => {
    const phone = newPhone();
    const { askId } = await runCliJson<{ askId: string }>(
      env,
      'ask',
      'Rotate the VPN key?',
      '--to',
      phone,
      '--timeout',
      '1h',
    );
    await smsTo(phone, (t) => t.startsWith('Rotate the VPN key?'));

    const extended = await runCliJson<AskState>(
      env,
      'extend',
      askId,
      '--by',
      '2h',
      '--reason',
      'owner travelling',
      '--as',
      'alice',
    );
    expect(Date.parse(extended.deadline) - Date.parse(extended.startedAt)).toBe(3 * 3_600_000);
    const earlier = await runCli(env, 'extend', askId, '--until', new Date(Date.now() + 60_000).toISOString());
    expect(earlier.code).toBe(1);
    expect(earlier.stderr).toMatch(/is not later than the current deadline/);

    await runCliJson(env, 'resend', askId, '--by', 'bob', '--reason', 'phone was off');
    await smsTo(phone, (t) => t.startsWith('Reminder: Rotate the VPN key?'));
    await runCliJson(env, 'cancel', askId, '--by', 'carol', '--reason', 'duplicate ticket');
    await smsTo(phone, (t) => t === 'Closed: Rotate the VPN key? (Cancelled: duplicate ticket)');

    const after = await runCli(env, 'extend', askId, '--by', '1h');
    expect(after.stderr).toContain('has already ended (cancelled)');
    const state = await worker.asks.result(askId);
    expect(state.events.filter((e) => e.by).map((e) => `${e.type} ${e.by}: ${e.detail}`)).toEqual([
      expect.stringMatching(/^extended alice: deadline .* -> .*: owner travelling$/),
      'resent bob: phone was off',
      'cancelled carol: duplicate ticket',
    ]);
  });

  it('refuses a bad policy before anything is sent, naming the field', async () => {
    const phone = newPhone();
    const out = await runCli(
      env,
      'ask',
      'Reboot?',
      '--to',
      phone,
      '--policy',
      'critical-aproval',
      '--policy-json',
      '{"escalation":[{"after":"2h","to":"+12065550100"}]}',
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(
      'preset: unknown preset "critical-aproval"; the policy file defines critical-approval',
    );
    const tooLate = await runCli(
      env,
      'ask',
      'Reboot?',
      '--to',
      phone,
      '--policy',
      'critical-approval',
      '--policy-json',
      '{"escalation":[{"after":"2h","to":"+12065550100"}]}',
    );
    expect(tooLate.stderr).toContain('policy.escalation[0].after: 2h is not before the timeout (1m)');
  });
});
