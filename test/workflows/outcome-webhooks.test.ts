/** Which webhook deliveries an ask starts as its log grows, and what the ended one carries. */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type * as workflow from '@temporalio/workflow';
import type { AskEvent, AskState, RecipientState, WebhookDeliveryInput } from '../../src/workflows/definitions';
import { OutcomeWebhooks } from '../../src/workflows/outcome-webhooks';
import { askState } from '../support/ask-state';

const started = vi.hoisted((): WebhookDeliveryInput[] => []);
// Only startChild is played here: it records the delivery instead of starting a child workflow.
vi.mock('@temporalio/workflow', async (original) => ({
  ...(await original<typeof workflow>()),
  startChild: (_workflow: unknown, options: { args: [WebhookDeliveryInput] }) => {
    started.push(options.args[0]);
    return Promise.resolve();
  },
}));

const ONCALL = '+12065550142';
const LEAD = '+12065550188';
const at = '2026-12-01T09:00:03.000Z';
const callback = (events: ('ended' | 'undelivered')[]) => ({
  url: 'https://soar.example.com/hooks/sms-ask',
  secretName: 'soar',
  events,
  retryForMs: 3600_000,
});

function recipient(phone: string, extra: Partial<RecipientState> = {}): RecipientState {
  return { phone, tier: 0, codes: [{ option: 'Yes', code: '4821' }], ...extra };
}

function stateOf(recipients: RecipientState[], events: AskEvent[], status: AskState['status'] = 'waiting'): AskState {
  return askState(recipients, { events, status });
}

const blocked = { status: 'undelivered', eventType: 'TEXT_BLOCKED', at, reason: 'Blocked as spam' } as const;

describe('outcome webhooks', () => {
  beforeEach(() => {
    started.length = 0;
  });

  it("sends ask.undelivered once per phone whose question never reached it, not for a reminder's failure", async () => {
    const webhooks = new OutcomeWebhooks('ask/e-1', callback(['undelivered']));
    const events: AskEvent[] = [
      { at, type: 'sent', phone: ONCALL },
      { at, type: 'sent', phone: LEAD },
      // LEAD's question was delivered; only a reminder of theirs failed.
      { at, type: 'undelivered', phone: LEAD, detail: 'reminder not delivered: TEXT_UNREACHABLE' },
      { at, type: 'undelivered', phone: ONCALL, detail: 'question not delivered: TEXT_BLOCKED (Blocked as spam)' },
    ];
    const recipients = [
      recipient(ONCALL, { delivery: blocked }),
      recipient(LEAD, { delivery: { status: 'delivered', eventType: 'TEXT_DELIVERED', at } }),
    ];
    webhooks.observe(stateOf(recipients, events));
    webhooks.observe(
      stateOf(recipients, [...events, { at, type: 'undelivered', phone: ONCALL, detail: 'reminder not delivered' }]),
    );
    await webhooks.ended(stateOf(recipients, events, 'unreachable'));
    expect(started.map((d) => [d.deliveryId, d.type])).toEqual([['webhook/ask/e-1/undelivered/3', 'ask.undelivered']]);
    expect(started[0]!.ask.recipients[0]).toMatchObject({ phone: ONCALL, delivery: blocked, codes: [] });
  });

  it("carries each recipient's delivery and cost in the ended webhook, without codes", async () => {
    const webhooks = new OutcomeWebhooks('ask/e-1', callback(['ended']));
    const recipients = [recipient(ONCALL, { delivery: blocked, costUsd: 0.00581 })];
    const events: AskEvent[] = [{ at, type: 'undelivered', phone: ONCALL }];
    await webhooks.ended({ ...stateOf(recipients, events, 'unreachable'), costUsd: 0.00581 });
    expect(started.map((d) => d.type)).toEqual(['ask.ended']);
    expect(started[0]!.ask).toMatchObject({
      costUsd: 0.00581,
      recipients: [{ phone: ONCALL, codes: [], delivery: blocked, costUsd: 0.00581 }],
    });
  });
});
