/** What the console shows, from the API's data: the same masks as the logs, countdowns, outcomes. */
import { describe, expect, it } from 'vitest';
import {
  describeDelivery as domainDescribeDelivery,
  formatUsd as domainFormatUsd,
} from '../../src/domain/delivery-event';
import { maskPhone as domainMaskPhone, maskPhonesIn as domainMaskPhonesIn } from '../../src/domain/phone-mask';

// The page's own module, as the browser loads it: an ES module, so imported dynamically from here.
const loadFormat = () => import('../../src/http/console/format.mjs');

describe('the console formatting', () => {
  it('masks phone numbers exactly as the logs do', async () => {
    const { maskPhone, maskPhonesIn } = await loadFormat();
    for (const phone of ['+12065550142', '+447700900123', '+33612345678'])
      expect(maskPhone(phone)).toBe(domainMaskPhone(phone));
    const text = 'SNS refused +12065550142 (opted out); +447700900123 answered; order 12345678 is not a phone';
    expect(maskPhonesIn(text)).toBe(domainMaskPhonesIn(text));
    expect(maskPhonesIn(text)).not.toMatch(/2065550142|7700900123/);
  });

  it('counts down to a deadline, and says overdue once it has passed', async () => {
    const { formatDuration, timeLeft } = await loadFormat();
    const deadline = '2026-12-01T10:00:00.000Z';
    expect(timeLeft(deadline, Date.parse('2026-12-01T09:45:55Z'))).toEqual({ text: '14m 05s', overdue: false });
    expect(timeLeft(deadline, Date.parse('2026-12-01T10:02:10Z'))).toEqual({ text: 'overdue 2m 10s', overdue: true });
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(3 * 3600_000 + 7 * 60_000)).toBe('3h 07m');
    expect(formatDuration(2 * 86_400_000 + 4 * 3600_000)).toBe('2d 4h');
  });

  it('names each outcome, a default answer apart from a real one', async () => {
    const { describeAnswer, outcomeOf } = await loadFormat();
    expect(outcomeOf({ status: 'answered', answer: { option: 'Yes', via: 'sms', by: '+12065550142' } })).toMatchObject({
      label: 'answered',
    });
    expect(outcomeOf({ status: 'timed_out', answer: { option: 'No', via: 'default', by: 'default' } })).toMatchObject({
      label: 'default',
      detail: 'timed out',
    });
    expect(outcomeOf({ status: 'undecided', answer: { option: 'No', via: 'default', by: 'default' } })).toMatchObject({
      label: 'default',
      detail: 'undecided',
    });
    expect(outcomeOf({ status: 'cancelled' })).toMatchObject({ label: 'cancelled' });
    expect(outcomeOf({ status: 'timed_out' })).toMatchObject({ label: 'timed out' });
    expect(describeAnswer({ option: 'Yes', via: 'sms', by: '+12065550142' })).toBe('Yes, by SMS from …0142');
    expect(describeAnswer({ option: 'No', via: 'manual', by: 'shift-lead' })).toBe('No, by shift-lead');
  });

  it('builds the API paths and the pending filters, leaving out what is not set', async () => {
    const { askApiPath, pendingQuery } = await loadFormat();
    expect(askApiPath('ask/9c1f@1042|7')).toBe('/v1/asks/ask%2F9c1f%401042%7C7');
    expect(pendingQuery({})).toBe('');
    expect(pendingQuery({ to: ' +12065550142 ', incident: '', overdue: true, escalated: false })).toBe(
      '?to=%2B12065550142&overdue=true',
    );
    expect(pendingQuery({ incident: '1042' }, 'eyJwIjpbXX0')).toBe('?incident=1042&after=eyJwIjpbXX0');
  });

  it("words a question's delivery as `sms-ask status` does, and puts it in the recipient's note with its cost", async () => {
    const { describeDelivery, formatUsd, recipientNote } = await loadFormat();
    const at = '2026-12-01T09:00:04.000Z';
    for (const delivery of [
      { status: 'delivered', eventType: 'TEXT_DELIVERED', at },
      { status: 'pending', eventType: 'TEXT_PENDING', at },
      { status: 'unknown', eventType: 'TEXT_UNKNOWN', at },
      { status: 'undelivered', eventType: 'TEXT_BLOCKED', at, reason: 'Blocked as spam by phone carrier' },
      { status: 'undelivered', eventType: 'TEXT_TTL_EXPIRED', at },
    ] as const)
      expect(describeDelivery(delivery)).toBe(domainDescribeDelivery(delivery));
    for (const usd of [0.00581, 0.01162, 0, 1.5]) expect(formatUsd(usd)).toBe(domainFormatUsd(usd));

    expect(recipientNote({})).toBe('');
    expect(recipientNote({ optedOut: true })).toBe('opted out');
    expect(
      recipientNote({ delivery: { status: 'delivered', eventType: 'TEXT_DELIVERED', at }, costUsd: 0.00581 }),
    ).toBe('delivered · $0.00581');
    expect(
      recipientNote({
        delivery: { status: 'undelivered', eventType: 'TEXT_INVALID', at, reason: '+12065550142 is not a mobile' },
      }),
    ).toBe('not delivered: TEXT_INVALID (…0142 is not a mobile)');
    expect(recipientNote({ sendError: 'SNS refused +12065550142: opted out' })).toBe('SNS refused …0142: opted out');
  });

  it('marks the pending recipients whose question never reached the phone', async () => {
    const { pendingRecipients } = await loadFormat();
    expect(pendingRecipients({ recipients: ['+12065550142', '+12065550188'], undelivered: ['+12065550188'] })).toBe(
      '…0142, …0188 (not delivered)',
    );
    expect(pendingRecipients({ recipients: ['+12065550142'] })).toBe('…0142');
  });
});
