/** What the pending listing's search attributes hold of an ask's recipients. */
import { describe, expect, it } from 'vitest';
import { askSearchAttributePairs, askSearchAttributes } from '../../src/workflows/search-attributes';
import type { AskListing } from '../../src/workflows/search-attributes';

const ONCALL = '+12065550142';
const LEAD = '+12065550188';
const MANAGER = '+12065550177';
const at = '2026-12-01T09:00:03.000Z';

const listing = (recipients: AskListing['recipients']): AskListing => ({
  entitlement: 'e-1',
  context: {},
  deadline: '2026-12-01T10:00:00.000Z',
  tier: 0,
  remindersSent: 0,
  policyName: 'default',
  recipients,
});
const undelivered = (l: AskListing) =>
  askSearchAttributePairs(l).find((pair) => pair.key.name === askSearchAttributes.undelivered.name)?.value;

describe('the ask search attributes', () => {
  it('name the recipients whose question was refused at send or never delivered', () => {
    const pairs = listing([
      { phone: ONCALL, delivery: { status: 'undelivered', eventType: 'TEXT_BLOCKED', at } },
      { phone: LEAD, delivery: { status: 'delivered', eventType: 'TEXT_DELIVERED', at } },
      { phone: MANAGER, sendError: 'SNS refused: opted out' },
    ]);
    expect(undelivered(pairs)).toEqual([ONCALL, MANAGER]);
  });

  it('leave the attribute out while every question is delivered, pending or unknown, so a delivery writes nothing', () => {
    const before = listing([{ phone: ONCALL }, { phone: LEAD }]);
    const after = listing([
      { phone: ONCALL, delivery: { status: 'delivered', eventType: 'TEXT_DELIVERED', at } },
      { phone: LEAD, delivery: { status: 'pending', eventType: 'TEXT_PENDING', at } },
    ]);
    expect(undelivered(after)).toBeUndefined();
    expect(JSON.stringify(askSearchAttributePairs(after))).toBe(JSON.stringify(askSearchAttributePairs(before)));
  });
});
