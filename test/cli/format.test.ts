/** What `sms-ask status` and `sms-ask pending` print of each recipient's delivery and the ask's cost. */
import { describe, expect, it } from 'vitest';
import type { PendingAsk } from '../../src/client/sms-ask-client';
import { formatPending, formatStatus } from '../../src/cli/format';
import { describeDelivery, formatUsd } from '../../src/domain/delivery-event';
import { askState } from '../support/ask-state';

const ONCALL = '+12065550142';
const LEAD = '+12065550188';
const MANAGER = '+12065550177';
const codes = [
  { option: 'Yes', code: '4821' },
  { option: 'No', code: '7302' },
];

describe('sms-ask status', () => {
  it("shows each recipient's delivery, what their SMS cost, and the ask's cost", () => {
    const text = formatStatus(
      askState(
        [
          {
            phone: ONCALL,
            tier: 0,
            codes,
            delivery: { status: 'delivered', eventType: 'TEXT_DELIVERED', at: '2026-12-01T09:00:04.000Z' },
            costUsd: 0.00581,
          },
          {
            phone: LEAD,
            tier: 0,
            codes,
            delivery: {
              status: 'undelivered',
              eventType: 'TEXT_BLOCKED',
              at: '2026-12-01T09:00:03.000Z',
              reason: 'Blocked as spam by phone carrier',
            },
            costUsd: 0.00581,
          },
          { phone: MANAGER, tier: 0, codes },
        ],
        { costUsd: 0.01162 },
      ),
    );
    const lines = text.split('\n');
    expect(lines).toContain(`  ${ONCALL}  tier 0  Yes=4821 No=7302  (delivered; $0.00581)`);
    expect(lines).toContain(
      `  ${LEAD}  tier 0  Yes=4821 No=7302  (not delivered: TEXT_BLOCKED (Blocked as spam by phone carrier); $0.00581)`,
    );
    // Sent through SNS, or no event yet: nothing is known, nothing is said.
    expect(lines).toContain(`  ${MANAGER}  tier 0  Yes=4821 No=7302`);
    expect(lines).toContain('cost:      $0.01162 (as the delivery events priced its SMS)');
  });

  it('says nothing of delivery or cost for an ask sent through SNS', () => {
    const text = formatStatus(askState([{ phone: ONCALL, tier: 0, codes }]));
    expect(text).not.toMatch(/deliver|cost|\$/);
  });

  it('words every delivery state', () => {
    expect(describeDelivery({ status: 'pending', eventType: 'TEXT_PENDING' })).toBe('delivery pending');
    expect(describeDelivery({ status: 'unknown', eventType: 'TEXT_UNKNOWN' })).toBe('delivery unknown');
    expect(describeDelivery({ status: 'undelivered', eventType: 'TEXT_TTL_EXPIRED' })).toBe(
      'not delivered: TEXT_TTL_EXPIRED',
    );
    expect([0.00581, 0.01, 0, 1.5, 0.1234567].map(formatUsd)).toEqual([
      '$0.00581',
      '$0.01',
      '$0.00',
      '$1.50',
      '$0.12346',
    ]);
  });
});

describe('sms-ask pending', () => {
  const row: PendingAsk = {
    askId: 'ask/e-1',
    entitlement: 'e-1',
    question: 'Isolate WS-042?',
    recipients: [ONCALL, LEAD],
    undelivered: [LEAD],
    startedAt: '2026-12-01T09:00:00.000Z',
    deadline: '2026-12-01T10:00:00.000Z',
    tier: 1,
    remindersSent: 0,
    policy: 'default',
    context: {},
  };
  const now = Date.parse('2026-12-01T09:10:00.000Z');
  const deliveryColumn = (text: string) => {
    const [header, ...rows] = text.split('\n');
    const start = header!.indexOf('DELIVERY');
    const end = header!.indexOf('AGE');
    return rows.map((line) => line.slice(start, end).trim());
  };

  it('marks the recipients the listing names undelivered, and knows nothing more of the others', () => {
    expect(deliveryColumn(formatPending([row], now))).toEqual(['-', 'not delivered']);
  });

  it("shows each recipient's delivery when the codes were read from the ask", () => {
    const withState: PendingAsk = {
      ...row,
      codes: { [ONCALL]: codes, [LEAD]: codes },
      delivery: {
        [ONCALL]: { status: 'delivered', eventType: 'TEXT_DELIVERED', at: '2026-12-01T09:00:04.000Z' },
        [LEAD]: { status: 'undelivered', eventType: 'TEXT_BLOCKED', at: '2026-12-01T09:00:03.000Z', reason: 'spam' },
      },
    };
    expect(deliveryColumn(formatPending([withState], now))).toEqual(['delivered', 'not delivered: TEXT_BLOCKED']);
  });
});
