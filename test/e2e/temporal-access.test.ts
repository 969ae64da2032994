/**
 * What a principal with access to the Temporal namespace can do to an ask without an SMS: signals
 * sent as the `temporal` CLI sends them (a plain client, JSON payloads), on the dev server with the
 * real worker. A reply needs the recipient's live code, an opt-out needs SNS to agree, and with
 * payloadRequireEncryption a payload written without the codec carries nothing.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payloadsRefused } from '../../src/observability/metrics';
import { optedOutSignal, replySignal } from '../../src/workflows/definitions';
import type { AskState, RoutedReply } from '../../src/workflows/definitions';
import { eventually, newPhone, sharedStackClient, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

async function codesOf(worker: TestWorker, askId: string): Promise<AskState> {
  return eventually(
    async () => {
      const state = await worker.asks.status(askId);
      return state.recipients.length > 0 && state.recipients.every((r) => r.codes.length === 2) ? state : undefined;
    },
    'the codes handed out',
    20_000,
  );
}

const forged = (phone: string, optionIndex: number, code?: string): RoutedReply => ({
  phone,
  optionIndex,
  ...(code !== undefined && { code }),
  body: code ?? 'yes',
  dedupeKey: `forged-${randomBytes(6).toString('hex')}`,
  receivedAt: new Date().toISOString(),
});

describe('signals from the namespace, without the codec', () => {
  let worker: TestWorker;
  beforeAll(async () => {
    worker = await startTestWorker();
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it('answers nothing for a reply signal without the live code for that option, and logs why', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Isolate host WS-042?', timeout: '1h' });
    const [yes, no] = (await codesOf(worker, askId)).recipients[0]!.codes;
    const outsider = await sharedStackClient();
    try {
      const handle = outsider.workflow.getHandle(askId);
      await handle.signal(replySignal, forged(phone, 0));
      await handle.signal(replySignal, forged(phone, 0, no!.code));
      await handle.signal(replySignal, forged(phone, 0, '0000000'));
      await handle.signal(replySignal, forged(newPhone(), 0, yes!.code));
      const state = await eventually(
        async () => {
          const s = await worker.asks.status(askId);
          return s.events.filter((e) => e.type === 'reply_ignored').length === 4 ? s : undefined;
        },
        'four refusals in the log',
        20_000,
      );
      expect(state.status).toBe('waiting');
      expect(state.answer).toBeUndefined();
      expect(state.events.filter((e) => e.type === 'reply_ignored').map((e) => e.detail)).toEqual([
        'no reply code, and this ask takes no answer without one',
        'not a live code of this recipient for that option',
        'not a live code of this recipient for that option',
        'not a recipient of this ask',
      ]);
    } finally {
      await outsider.connection.close();
      await worker.asks.cancel(askId, { by: 'test' });
    }
  });

  it('skips no tier on an optedOut signal SNS does not confirm, and escalates on one it does', async () => {
    const [oncall, lead] = [newPhone(), newPhone()];
    const { askId } = await worker.asks.start({
      to: oncall,
      question: 'Rotate the root key?',
      timeout: '1h',
      policy: { escalation: [{ after: '50m', to: lead }] },
    });
    await codesOf(worker, askId);
    const outsider = await sharedStackClient();
    try {
      await outsider.workflow.getHandle(askId).signal(optedOutSignal, { phone: oncall, at: new Date().toISOString() });
      const state = await eventually(
        async () => {
          const s = await worker.asks.status(askId);
          return s.events.some((e) => e.type === 'opt_out_unconfirmed') ? s : undefined;
        },
        'the unconfirmed opt-out in the log',
        20_000,
      );
      expect(state.tier).toBe(0);
      expect(state.recipients[0]!.optedOut).toBeUndefined();
      expect(state.events.some((e) => e.type === 'opted_out' || e.type === 'escalated')).toBe(false);

      // The same signal once SNS lists the number: the next tier starts at once.
      worker.optOut(oncall);
      await outsider.workflow.getHandle(askId).signal(optedOutSignal, { phone: oncall, at: new Date().toISOString() });
      const escalated = await eventually(
        async () => {
          const s = await worker.asks.status(askId);
          return s.tier === 1 ? s : undefined;
        },
        'the escalation',
        20_000,
      );
      expect(escalated.recipients.map((r) => r.phone)).toEqual([oncall, lead]);
    } finally {
      await outsider.connection.close();
      await worker.asks.cancel(askId, { by: 'test' });
    }
  });
});

describe('with payload encryption required', () => {
  let worker: TestWorker;
  beforeAll(async () => {
    worker = await startTestWorker({
      payloadKeys: `k1:${randomBytes(32).toString('base64')}`,
      payloadRequireEncryption: true,
    });
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it('takes nothing from a signal written without the codec, even with the right code; one written with it answers', async () => {
    const phone = newPhone();
    const { askId } = await worker.asks.start({ to: phone, question: 'Disable VPN for jdoe?', timeout: '1h' });
    const [yes] = (await codesOf(worker, askId)).recipients[0]!.codes;
    const refusedBefore = (await payloadsRefused.get()).values[0]?.value ?? 0;
    const outsider = await sharedStackClient();
    try {
      await outsider.workflow.getHandle(askId).signal(replySignal, forged(phone, 0, yes!.code));
      await eventually(
        async () => ((await payloadsRefused.get()).values[0]?.value ?? 0) > refusedBefore || undefined,
        'the plaintext payload refused',
        20_000,
      );
      const state = await worker.asks.status(askId);
      expect(state.status).toBe('waiting');
      expect(state.answer).toBeUndefined();
    } finally {
      await outsider.connection.close();
    }
    // Whoever holds the keys and the namespace has operator power: the README says so.
    await worker.client.workflow.getHandle(askId).signal(replySignal, forged(phone, 0, yes!.code));
    expect((await worker.asks.resultWithin(askId, 20_000))?.answer).toMatchObject({
      option: 'Yes',
      via: 'sms',
      by: phone,
    });
  });
});
