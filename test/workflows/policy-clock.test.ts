import { describe, expect, it } from 'vitest';
import { nextDue } from '../../src/workflows/policy-clock';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const start = Date.parse('2025-01-06T09:00:00Z');
const policy = {
  reminders: { every: 6 * HOUR, max: 3 },
  escalation: [
    { after: 1 * DAY, to: ['+12065550188'] },
    { after: 2 * DAY, to: ['+12065550177'] },
  ],
};
const at = (ms: number) => new Date(start + ms).toISOString().slice(0, 16);

describe('policy clock', () => {
  it('schedules reminders, then tiers in order, then the deadline, over days', () => {
    const reading = { startedAt: start, deadline: start + 3 * DAY, tier: 0, remindersSent: 0 };
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const due = nextDue(policy, reading);
      seen.push(
        `${due.kind}${'round' in due ? ` ${due.round}` : ''}${'tier' in due ? ` ${due.tier}` : ''} @ ${at(due.at - start)}`,
      );
      if (due.kind === 'deadline') break;
      if (due.kind === 'reminder') reading.remindersSent = due.round;
      else reading.tier = due.tier;
    }
    expect(seen).toEqual([
      'reminder 1 @ 2025-01-06T15:00',
      'reminder 2 @ 2025-01-06T21:00',
      'reminder 3 @ 2025-01-07T03:00',
      'tier 1 @ 2025-01-07T09:00',
      'tier 2 @ 2025-01-08T09:00',
      'deadline @ 2025-01-09T09:00',
    ]);
  });

  it('starts the next tier at once after an opt-out, keeping later tiers on their schedule', () => {
    const optOut = start + 2 * HOUR;
    expect(
      nextDue(policy, { startedAt: start, deadline: start + 3 * DAY, tier: 0, remindersSent: 0, tierJumpAt: optOut }),
    ).toEqual({ kind: 'tier', tier: 1, at: optOut });
    expect(
      nextDue(
        { escalation: policy.escalation },
        { startedAt: start, deadline: start + 3 * DAY, tier: 1, remindersSent: 0 },
      ),
    ).toEqual({ kind: 'tier', tier: 2, at: start + 2 * DAY });
  });

  it('moves the deadline when it is extended, and sends no reminder due at the deadline', () => {
    expect(
      nextDue({ escalation: [] }, { startedAt: start, deadline: start + 5 * DAY, tier: 0, remindersSent: 0 }),
    ).toEqual({ kind: 'deadline', at: start + 5 * DAY });
    expect(
      nextDue(
        { escalation: [], reminders: { every: DAY, max: 5 } },
        { startedAt: start, deadline: start + DAY, tier: 0, remindersSent: 0 },
      ),
    ).toMatchObject({ kind: 'deadline' });
  });

  it('stops reminding after max rounds', () => {
    expect(
      nextDue(
        { escalation: [], reminders: { every: HOUR, max: 2 } },
        { startedAt: start, deadline: start + DAY, tier: 0, remindersSent: 2 },
      ),
    ).toMatchObject({ kind: 'deadline' });
  });
});
