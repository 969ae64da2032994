/**
 * A reply's way to its ask when routers stop half-way: the recipient decides and returns the
 * answer, the router signals the ask. Every step may run again for a redelivery, and the ask still
 * takes the reply once; a reply whose ask closed without it gets "expired", one that the ask took
 * gets nothing more.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundReply } from '../../src/domain/inbound-message';
import { listSentSms, waitForSms } from '../../src/local-stack/phone-simulator';
import { recipientWorkflowId, routeReplyUpdate } from '../../src/workflows/definitions';
import type { AskState, ReplyRouting } from '../../src/workflows/definitions';
import {
  deliverReply,
  eventually,
  newPhone,
  sharedStack,
  signalReplyAsOlderRouter,
  startTestWorker,
} from '../support/harness';
import type { TestWorker } from '../support/harness';

let worker: TestWorker;

beforeAll(async () => {
  worker = await startTestWorker();
});
afterAll(async () => {
  await worker?.stop();
});

async function sentAsk(phone: string, question: string): Promise<{ askId: string; yes: string }> {
  const { askId } = await worker.asks.start({ to: phone, question, timeout: '1h' });
  const state = await eventually(async () => {
    const s = await worker.asks.status(askId);
    return s.events.some((e) => e.type === 'sent') ? s : undefined;
  }, `the SMS of ${askId}`);
  return { askId, yes: state.recipients[0]!.codes.find((c) => c.option === 'Yes')!.code };
}

/** Only the recipient's decision, as a router that stopped before its signal to the ask. */
function decideOnly(phone: string, body: string, dedupeKey: string): Promise<ReplyRouting> {
  const reply: InboundReply = { from: phone, body, dedupeKey, inboundMessageId: dedupeKey, format: 'raw' };
  return worker.client.workflow
    .getHandle(recipientWorkflowId(worker.taskQueue, phone))
    .executeUpdate(routeReplyUpdate, { args: [reply] });
}

const replyEvents = (state: AskState) => state.events.filter((e) => e.type === 'reply_received');
const smsTo = async (phone: string) =>
  (await listSentSms(sharedStack().awsEndpoint)).filter((m) => m.phoneNumber === phone).map((m) => m.message);

describe('routing a reply when its router stops half-way', () => {
  it('answers the ask once when the router stopped after the decision and SQS redelivers the reply', async () => {
    const phone = newPhone();
    const { askId, yes } = await sentAsk(phone, 'Quarantine laptop L-7?');
    const dedupeKey = randomUUID();
    const routing = await decideOnly(phone, yes, dedupeKey);
    expect(routing.deliver).toMatchObject({ askId, reply: { phone, optionIndex: 0, code: yes, dedupeKey } });
    // Decided, not delivered: the ask still waits.
    expect((await worker.asks.status(askId)).status).toBe('waiting');

    await deliverReply(worker, phone, yes, dedupeKey);
    const result = await worker.asks.result(askId);
    expect(result).toMatchObject({ status: 'answered', answer: { option: 'Yes', via: 'sms' } });
    expect(replyEvents(result)).toHaveLength(1);
  });

  // SQS hands a message to a second receiver once its visibility timeout passes, while the first may still route it.
  it('answers the ask once when two routers route the same reply side by side', async () => {
    const phone = newPhone();
    const { askId, yes } = await sentAsk(phone, 'Disable VPN user jd?');
    const dedupeKey = randomUUID();
    const [first, second] = await Promise.all([decideOnly(phone, yes, dedupeKey), decideOnly(phone, yes, dedupeKey)]);
    expect(second).toEqual(first);
    expect(first.deliver).toMatchObject({ askId, reply: { dedupeKey, optionIndex: 0 } });

    await Promise.all([deliverReply(worker, phone, yes, dedupeKey), deliverReply(worker, phone, yes, dedupeKey)]);
    const result = await worker.asks.result(askId);
    expect(result.answer).toMatchObject({ option: 'Yes' });
    expect(replyEvents(result)).toHaveLength(1);
  });

  it('sends nothing more for a redelivery that comes after the ask closed with that very answer', async () => {
    const phone = newPhone();
    const { askId, yes } = await sentAsk(phone, 'Rotate key K-12?');
    const dedupeKey = randomUUID();
    await deliverReply(worker, phone, yes, dedupeKey);
    await worker.asks.result(askId);
    await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone && m.message.startsWith('Got it'));

    await deliverReply(worker, phone, yes, dedupeKey);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await smsTo(phone)).toHaveLength(2); // the question and one confirmation, no "expired"
  });

  it('answers "expired" when the ask closed between the decision and the hand-over, and the ask never takes the reply', async () => {
    const phone = newPhone();
    const { askId, yes } = await sentAsk(phone, 'Wipe device D-3?');
    const dedupeKey = randomUUID();
    await decideOnly(phone, yes, dedupeKey);
    await worker.asks.cancel(askId, { by: 'test', reason: 'closed before the reply reached it' });
    await worker.asks.result(askId); // closed: its signal now fails (until then, the ask itself answers "expired")

    await deliverReply(worker, phone, yes, dedupeKey);
    await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone && m.message.includes('already closed'));
    const final = await worker.asks.status(askId);
    expect(final.status).toBe('cancelled');
    expect(replyEvents(final)).toHaveLength(0);
  });

  it('still routes replies that a router of the previous release signals to the recipient', async () => {
    const phone = newPhone();
    const { askId, yes } = await sentAsk(phone, 'Block sender S-1?');
    await signalReplyAsOlderRouter(worker, phone, yes);
    expect(await worker.asks.result(askId)).toMatchObject({ status: 'answered', answer: { option: 'Yes' } });
  });
});
