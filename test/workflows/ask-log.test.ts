/**
 * The ask's rules over days of simulated time, in milliseconds: the policy clock decides what is
 * due, the log decides who gets which SMS. The run below plays the workflow's part with a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { normalizeAskRequest } from '../../src/domain/ask-request';
import type { AskRequest } from '../../src/domain/ask-request';
import { AskLog } from '../../src/workflows/ask-log';
import type { DeliveryEvent } from '../../src/domain/delivery-event';
import type { OutgoingSms } from '../../src/workflows/definitions';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ONCALL = '+12065550142';
const LEAD = '+12065550188';
const MANAGER = '+12065550177';

type Sent = OutgoingSms & { after: string };

/** One ask on a fake clock: what the workflow does, without Temporal. */
class SimulatedAsk {
  readonly log: AskLog;
  readonly sent: Sent[] = [];
  private readonly start = Date.parse('2025-01-06T09:00:00Z');
  private now = this.start;

  constructor(request: Partial<AskRequest>) {
    const input = normalizeAskRequest(
      { to: ONCALL, question: 'Isolate WS-042?', ...request },
      { newEntitlement: () => 'e-1' },
    );
    this.log = new AskLog('ask/e-1', input, new Date(this.now));
    this.startTier(0);
  }

  /** Runs every due event up to `ms` after the start, as the workflow's timers would. */
  advanceTo(ms: number): this {
    for (;;) {
      const due = this.log.nextDue();
      if (this.log.state.status !== 'waiting' || due.at > this.start + ms) break;
      this.now = Math.max(this.now, due.at);
      if (due.kind === 'deadline') this.log.timeOut(new Date(this.now));
      else if (due.kind === 'reminder') this.log.remind(due.round, new Date(due.at));
      else this.startTier(due.tier);
      this.deliver();
    }
    this.now = Math.max(this.now, this.start + ms);
    return this;
  }

  reply(phone: string, option: 'Yes' | 'No'): this {
    const code = this.log.state.recipients.find((r) => r.phone === phone)!.codes.find((c) => c.option === option)!.code;
    this.log.acceptReply(
      { phone, optionIndex: option === 'Yes' ? 0 : 1, code, body: code, dedupeKey: code, receivedAt: '' },
      new Date(this.now),
    );
    this.deliver();
    return this;
  }

  act(action: (log: AskLog, at: Date) => void): this {
    action(this.log, new Date(this.now));
    this.deliver();
    return this;
  }

  /** "+6h →…0142 question: …" lines, for what a person would see. */
  texts(phone?: string): string[] {
    return this.sent
      .filter((s) => !phone || s.to === phone)
      .map(
        (s) =>
          `${s.after} ${s.to.slice(-4)} ${s.kind === 'question' ? s.text.split('\n')[0] : `${s.feedback}: ${Object.values(s.values).join(' | ')}`}`,
      );
  }

  private startTier(tier: number): void {
    const codes = this.log.tierPhones(tier).map((_, i) => [
      { option: 'Yes', code: `${tier}${i}1` },
      { option: 'No', code: `${tier}${i}2` },
    ]);
    this.log.startTier(tier, codes, new Date(this.now));
    this.deliver();
  }

  private deliver(): void {
    for (const sms of this.log.outbox.splice(0)) {
      this.sent.push({ ...sms, after: `+${(this.now - this.start) / HOUR}h` });
      this.log.delivered(sms, new Date(this.now), {
        messageId: `m${this.sent.length}`,
        segments: 1,
        encoding: 'GSM-7',
      });
    }
  }
}

describe('ask rules over days, on a fake clock', () => {
  it('reminds max times with the same codes, then the timeout gives the default answer and tells the recipient', () => {
    const ask = new SimulatedAsk({
      options: ['Yes', 'No'],
      policy: { timeout: '3d', reminders: { every: '1d', max: 2 }, onTimeout: { answer: 'No' } },
    }).advanceTo(4 * DAY);
    expect(ask.texts()).toEqual([
      '+0h 0142 Isolate WS-042?',
      '+24h 0142 Reminder: Isolate WS-042?',
      '+48h 0142 Reminder: Isolate WS-042?',
      '+72h 0142 outcome: Isolate WS-042? | Expired; answer: No',
    ]);
    expect(
      ask.sent.filter((s) => s.kind === 'question').map((s) => (s.kind === 'question' ? s.text.split('\n')[1] : '')),
    ).toEqual(Array(3).fill('Yes (001) or No (002)'));
    expect(ask.log.state).toMatchObject({
      status: 'answered',
      remindersSent: 2,
      answer: { option: 'No', via: 'default' },
    });
    expect(ask.log.state.events.map((e) => e.type)).toEqual([
      'sent',
      'reminded',
      'reminded',
      'timed_out',
      'answered',
      'feedback_sent',
    ]);
  });

  it('escalates tier by tier, tells the earlier recipients, and a tier-2 answer ends it for everyone', () => {
    const ask = new SimulatedAsk({
      policy: {
        timeout: '3d',
        escalation: [
          { after: '1d', to: LEAD, message: 'Escalated: on-call has not answered.' },
          { after: '2d', to: MANAGER },
        ],
      },
    }).advanceTo(2 * DAY + HOUR);
    expect(ask.log.state.tier).toBe(2);
    ask.reply(MANAGER, 'Yes');
    expect(ask.texts()).toEqual([
      '+0h 0142 Isolate WS-042?',
      '+24h 0142 escalated: Isolate WS-042? | ...0188',
      '+24h 0188 Escalated: on-call has not answered.',
      '+48h 0142 escalated: Isolate WS-042? | ...0177',
      '+48h 0188 escalated: Isolate WS-042? | ...0177',
      '+48h 0177 Isolate WS-042?',
      '+49h 0177 success: Yes | Isolate WS-042? | 201',
      '+49h 0142 outcome: Isolate WS-042? | Answered by ...0177: Yes',
      '+49h 0188 outcome: Isolate WS-042? | Answered by ...0177: Yes',
    ]);
    expect(ask.log.state.answer).toMatchObject({ option: 'Yes', via: 'sms', by: MANAGER });
  });

  it('reminds everyone still waiting after an escalation, but not someone asked less than `every` ago', () => {
    const ask = new SimulatedAsk({
      policy: { timeout: '3d', reminders: { every: '12h', max: 4 }, escalation: [{ after: '1d', to: LEAD }] },
    }).advanceTo(2 * DAY);
    expect(ask.texts().filter((t) => !t.includes('escalated'))).toEqual([
      '+0h 0142 Isolate WS-042?',
      '+12h 0142 Reminder: Isolate WS-042?',
      '+24h 0188 Isolate WS-042?',
      '+24h 0142 Reminder: Isolate WS-042?',
      '+36h 0142 Reminder: Isolate WS-042?',
      '+36h 0188 Reminder: Isolate WS-042?',
      '+48h 0142 Reminder: Isolate WS-042?',
      '+48h 0188 Reminder: Isolate WS-042?',
    ]);
  });

  it('starts the next tier at once when a recipient opts out', () => {
    const ask = new SimulatedAsk({
      policy: {
        timeout: '3d',
        escalation: [
          { after: '1d', to: LEAD },
          { after: '2d', to: MANAGER },
        ],
      },
    }).advanceTo(2 * HOUR);
    ask.act((log, at) => log.markOptedOut(ONCALL, at)).advanceTo(3 * HOUR);
    expect(ask.texts()).toEqual(['+0h 0142 Isolate WS-042?', '+2h 0188 Isolate WS-042?']);
    expect(ask.log.nextDue()).toMatchObject({ kind: 'tier', tier: 2, at: Date.parse('2025-01-08T09:00:00Z') });
  });

  it('falls to the default when the last reachable recipient opts out and no tier is left', () => {
    const ask = new SimulatedAsk({ defaultAnswer: 'No', policy: { timeout: '3d' } }).act((log, at) =>
      log.markOptedOut(ONCALL, at),
    );
    expect(ask.log.state).toMatchObject({ status: 'answered', answer: { option: 'No', via: 'default' } });
    expect(ask.texts()).toEqual(['+0h 0142 Isolate WS-042?']); // an opted-out phone is not texted
  });

  it('with a quorum, takes the first option that N recipients chose, and lists every answer', () => {
    const ask = new SimulatedAsk({ to: [ONCALL, LEAD, MANAGER], policy: { responders: { quorum: 2 } } });
    ask.reply(ONCALL, 'No').reply(LEAD, 'Yes');
    expect(ask.log.state.status).toBe('waiting');
    ask.reply(MANAGER, 'Yes');
    expect(ask.log.state.answer).toMatchObject({ option: 'Yes', via: 'sms', by: MANAGER });
    expect(ask.log.state.recipients.map((r) => r.answer?.option)).toEqual(['No', 'Yes', 'Yes']);
    expect(ask.texts(ONCALL).at(-1)).toBe('+0h 0142 outcome: Isolate WS-042? | Answered by ...0188, ...0177: Yes');
  });

  it('with a quorum, ends undecided as soon as no option can reach it', () => {
    const ask = new SimulatedAsk({ to: [ONCALL, LEAD], defaultAnswer: 'No', policy: { responders: { quorum: 2 } } });
    ask.reply(ONCALL, 'Yes').reply(LEAD, 'No');
    expect(ask.log.state).toMatchObject({ status: 'answered', answer: { option: 'No', via: 'default' } });
    expect(ask.log.state.events.map((e) => e.type)).toContain('undecided');
  });

  it('with a quorum, counts the tiers still to come before giving up', () => {
    const ask = new SimulatedAsk({
      to: [ONCALL],
      policy: { responders: { quorum: 2 }, escalation: [{ after: '1h', to: [LEAD, MANAGER] }] },
    });
    ask.reply(ONCALL, 'No');
    expect(ask.log.state.status).toBe('waiting');
    ask.advanceTo(HOUR).reply(LEAD, 'Yes').reply(MANAGER, 'Yes');
    expect(ask.log.state.answer?.option).toBe('Yes');
  });

  it('with all, waits for everyone and ends undecided when two disagree', () => {
    const agreed = new SimulatedAsk({ to: [ONCALL, LEAD], policy: { responders: 'all' } }).reply(ONCALL, 'Yes');
    expect(agreed.log.state.status).toBe('waiting');
    expect(agreed.reply(LEAD, 'Yes').log.state.answer).toMatchObject({ option: 'Yes', by: LEAD });

    const split = new SimulatedAsk({ to: [ONCALL, LEAD], policy: { responders: 'all' } })
      .reply(ONCALL, 'Yes')
      .reply(LEAD, 'No');
    expect(split.log.state.status).toBe('undecided');
    expect(split.texts(ONCALL).at(-1)).toBe('+0h 0142 outcome: Isolate WS-042? | No agreement');
  });

  it('with any, the first answer wins, and its sender gets the success feedback instead of the outcome', () => {
    const ask = new SimulatedAsk({ to: [ONCALL, LEAD] }).reply(LEAD, 'No');
    expect(ask.texts().slice(2)).toEqual([
      '+0h 0188 success: No | Isolate WS-042? | 012',
      '+0h 0142 outcome: Isolate WS-042? | Answered by ...0188: No',
    ]);
  });

  it('extends the deadline, refusing an earlier one and any change once ended', () => {
    const ask = new SimulatedAsk({ policy: { timeout: '1d' } }).advanceTo(HOUR);
    expect(() => ask.log.checkExtend({ by: 'alice', until: '2025-01-06T12:00:00Z' })).toThrow(
      /not later than the current deadline 2025-01-07T09:00:00.000Z/,
    );
    ask
      .act((log, at) => log.extend({ by: 'alice', extendByMs: DAY, reason: 'owner on a flight' }, at))
      .advanceTo(DAY + HOUR);
    expect(ask.log.state.status).toBe('waiting');
    ask.advanceTo(2 * DAY);
    expect(ask.log.state.status).toBe('timed_out');
    expect(ask.log.state.events.find((e) => e.type === 'extended')).toMatchObject({
      by: 'alice',
      detail: 'deadline 2025-01-07T09:00:00.000Z -> 2025-01-08T09:00:00.000Z: owner on a flight',
    });
    expect(() => ask.log.checkExtend({ by: 'alice', extendByMs: HOUR })).toThrow(
      'Cannot extend: the ask is already timed_out.',
    );
  });

  it('cancels with a reason, and tells every recipient who was asked', () => {
    const ask = new SimulatedAsk({ to: [ONCALL, LEAD] }).act((log, at) =>
      log.cancel({ by: 'alice', reason: 'false positive' }, at),
    );
    expect(ask.texts().slice(2)).toEqual([
      '+0h 0142 outcome: Isolate WS-042? | Cancelled: false positive',
      '+0h 0188 outcome: Isolate WS-042? | Cancelled: false positive',
    ]);
    expect(ask.log.state.events.at(-3)).toMatchObject({ type: 'cancelled', by: 'alice', detail: 'false positive' });
  });

  it('re-sends now to whoever has not answered, logging who asked for it', () => {
    const ask = new SimulatedAsk({ to: [ONCALL, LEAD], policy: { responders: 'all' } }).reply(ONCALL, 'Yes');
    ask.act((log, at) => log.resend({ by: 'bob', reason: 'phone was off' }, at));
    expect(ask.texts(LEAD)).toEqual(['+0h 0188 Isolate WS-042?', '+0h 0188 Reminder: Isolate WS-042?']);
    expect(ask.log.state.events.filter((e) => e.type === 'resent' || e.type === 'reminded')).toMatchObject([
      { type: 'resent', by: 'bob', detail: 'phone was off' },
      { type: 'reminded', phone: LEAD, detail: 're-sent by bob' },
    ]);
  });

  it('sends no outcome or escalation notice when the policy turns them off', () => {
    const ask = new SimulatedAsk({
      policy: { timeout: '2d', escalation: [{ after: '1d', to: LEAD }], notify: { outcome: false, escalation: false } },
    }).advanceTo(3 * DAY);
    expect(ask.texts()).toEqual(['+0h 0142 Isolate WS-042?', '+24h 0188 Isolate WS-042?']);
  });
});

describe('AskLog: what it keeps of replies and notices', () => {
  it('keeps at most the first 160 characters of a reply body in the event log', () => {
    const ask = new SimulatedAsk({}).act((log, at) =>
      log.acceptReply(
        {
          phone: ONCALL,
          optionIndex: 0,
          code: '001',
          body: `001 ${'y'.repeat(5_000)}`,
          dedupeKey: 'k',
          receivedAt: '',
        },
        at,
      ),
    );
    const detail = ask.log.state.events.find((e) => e.type === 'reply_received')!.detail!;
    expect(detail).toBe(`"001 ${'y'.repeat(156)}…" (code 001)`);
  });

  it("records a recipient's notice (an unconfirmed STOP) without deciding anything, and ignores one from a stranger", () => {
    const ask = new SimulatedAsk({ policy: { escalation: [{ after: '1h', to: LEAD }] } });
    ask.act((log) =>
      log.recordNotice({
        phone: ONCALL,
        at: '2025-01-06T09:05:00.000Z',
        kind: 'opt_out_unconfirmed',
        detail: 'texted STOP, but SNS did not list the number',
      }),
    );
    ask.act((log) =>
      log.recordNotice({
        phone: MANAGER,
        at: '2025-01-06T09:06:00.000Z',
        kind: 'guessing_throttled',
        detail: 'not ours',
      }),
    );
    expect(
      ask.log.state.events.filter((e) => e.type === 'opt_out_unconfirmed' || e.type === 'guessing_throttled'),
    ).toEqual([
      {
        at: '2025-01-06T09:05:00.000Z',
        type: 'opt_out_unconfirmed',
        phone: ONCALL,
        detail: 'texted STOP, but SNS did not list the number',
      },
    ]);
    expect(ask.log.state.status).toBe('waiting');
    expect(ask.log.state.recipients[0]!.optedOut).toBeUndefined();
    expect(ask.log.state.tierJumpAt).toBeUndefined();
  });
});

describe('AskLog: reply signals from outside the recipient workflow', () => {
  it("answers nothing for a reply without the recipient's live code for that option, and logs why", () => {
    const ask = new SimulatedAsk({});
    const [yes, no] = ask.log.state.recipients[0]!.codes;
    const at = new Date('2025-01-06T09:05:00Z');
    ask.log.acceptReply({ phone: ONCALL, optionIndex: 0, body: 'yes', dedupeKey: 'forged-1', receivedAt: '' }, at);
    ask.log.acceptReply(
      { phone: ONCALL, optionIndex: 0, code: no!.code, body: no!.code, dedupeKey: 'forged-2', receivedAt: '' },
      at,
    );
    expect(ask.log.state.status).toBe('waiting');
    expect(ask.log.state.events.filter((e) => e.type === 'reply_ignored').map((e) => e.detail)).toEqual([
      'no reply code, and this ask takes no answer without one',
      'not a live code of this recipient for that option',
    ]);
    ask.log.acceptReply(
      { phone: ONCALL, optionIndex: 0, code: yes!.code, body: yes!.code, dedupeKey: 'real', receivedAt: '' },
      at,
    );
    expect(ask.log.state.answer).toMatchObject({ option: 'Yes', via: 'sms' });
  });
});

describe('AskLog: questions that never reach the phone', () => {
  const at = (iso: string) => new Date(iso);
  const event = (over: Partial<DeliveryEvent> = {}): DeliveryEvent => ({
    messageId: 'm1',
    eventType: 'TEXT_BLOCKED',
    status: 'undelivered',
    isFinal: true,
    destination: ONCALL,
    at: '2025-01-06T09:00:05.000Z',
    reason: 'Blocked as spam by phone carrier',
    priceUsd: 0.00581,
    askId: 'ask/e-1',
    kind: 'question',
    ...over,
  });
  const tiers = {
    timeout: '3d',
    escalation: [
      { after: '1d', to: LEAD },
      { after: '2d', to: MANAGER },
    ],
  };

  it('starts the next tier at once when the question is blocked, and prices the message once', () => {
    const ask = new SimulatedAsk({ policy: tiers }).advanceTo(HOUR);
    ask.act((log) => log.recordDelivery(event(), at('2025-01-06T10:00:00Z'))).advanceTo(HOUR);
    expect(ask.texts()).toEqual(['+0h 0142 Isolate WS-042?', '+1h 0188 Isolate WS-042?']);
    const oncall = ask.log.state.recipients.find((r) => r.phone === ONCALL)!;
    expect(oncall.delivery).toMatchObject({ status: 'undelivered', eventType: 'TEXT_BLOCKED' });
    expect(ask.log.state.events.find((e) => e.type === 'undelivered')?.detail).toBe(
      'question not delivered: TEXT_BLOCKED (Blocked as spam by phone carrier); the next tier starts now',
    );
    // The same event again, and its carrier fee repeated in a later one, change nothing.
    ask.act((log, now) => log.recordDelivery(event(), now));
    ask.act((log, now) => log.recordDelivery(event({ eventType: 'TEXT_CARRIER_BLOCKED' }), now));
    expect(ask.log.state.costUsd).toBe(0.00581);
    expect(ask.log.state.events.filter((e) => e.type === 'undelivered' || e.type === 'escalated')).toHaveLength(2);
    expect(ask.log.state.tier).toBe(1);
  });

  it('falls to the default when the only recipient is unreachable, and sends the outcome to nobody', () => {
    const ask = new SimulatedAsk({ defaultAnswer: 'No', policy: { timeout: '3d' } });
    ask.act((log, now) => log.recordDelivery(event({ eventType: 'TEXT_TTL_EXPIRED', reason: undefined }), now));
    expect(ask.log.state).toMatchObject({ status: 'answered', answer: { option: 'No', via: 'default' } });
    expect(ask.texts()).toEqual(['+0h 0142 Isolate WS-042?']);
  });

  it('ends unreachable without a default', () => {
    const ask = new SimulatedAsk({ policy: { timeout: '3d' } });
    ask.act((log, now) => log.recordDelivery(event({ eventType: 'TEXT_UNREACHABLE' }), now));
    expect(ask.log.state.status).toBe('unreachable');
  });

  it("keeps a message's first final state, whatever order its events come in", () => {
    const ask = new SimulatedAsk({ policy: tiers });
    ask.act((log, now) => {
      log.recordDelivery(event({ eventType: 'TEXT_DELIVERED', status: 'delivered', reason: undefined }), now);
      log.recordDelivery(event({ eventType: 'TEXT_SUCCESSFUL', status: 'pending', isFinal: false }), now);
      log.recordDelivery(event(), now);
    });
    expect(ask.log.state.recipients[0]!.delivery).toMatchObject({ status: 'delivered', eventType: 'TEXT_DELIVERED' });
    expect(ask.log.state.events.map((e) => e.type)).toEqual(['sent', 'delivered']);
    expect(ask.log.state.status).toBe('waiting');
    expect(ask.log.state.tier).toBe(0);
  });

  it('changes nothing for an ask that has ended, or an event naming another message', () => {
    const ended = new SimulatedAsk({ policy: tiers }).reply(ONCALL, 'Yes');
    ended.act((log, now) => log.recordDelivery(event(), now));
    expect(ended.log.state).toMatchObject({ status: 'answered', tier: 0 });

    const other = new SimulatedAsk({ policy: tiers });
    other.act((log, now) => log.recordDelivery(event({ messageId: 'not-this-one' }), now)).advanceTo(HOUR);
    expect(other.log.state.recipients[0]!.delivery).toBeUndefined();
    expect(other.texts()).toEqual(['+0h 0142 Isolate WS-042?']);
  });

  it('only logs a failed reminder, and under `undelivered: wait` a failed question too', () => {
    const reminded = new SimulatedAsk({ policy: { ...tiers, reminders: { every: '1h', max: 2 } } }).advanceTo(HOUR);
    reminded.act((log, now) => log.recordDelivery(event({ messageId: 'm2', kind: 'reminder' }), now));
    expect(reminded.log.state.tier).toBe(0);
    expect(reminded.log.state.events.at(-1)).toMatchObject({
      type: 'undelivered',
      detail: expect.stringMatching(/^reminder not delivered/),
    });

    const waiting = new SimulatedAsk({ policy: { ...tiers, undelivered: 'wait' } });
    waiting.act((log, now) => log.recordDelivery(event(), now)).advanceTo(2 * HOUR);
    expect(waiting.log.state).toMatchObject({ status: 'waiting', tier: 0 });
    expect(waiting.log.nextDue()).toMatchObject({ kind: 'tier', tier: 1 });
  });

  it('takes an event that outran the send once the send is recorded', () => {
    const input = normalizeAskRequest(
      { to: ONCALL, question: 'Isolate WS-042?', policy: tiers },
      { newEntitlement: () => 'e-1' },
    );
    const log = new AskLog('ask/e-1', input, at('2025-01-06T09:00:00Z'));
    log.recordDelivery(event({ messageId: 'early' }), at('2025-01-06T09:00:01Z'));
    log.startTier(
      0,
      [
        [
          { option: 'Yes', code: '1' },
          { option: 'No', code: '2' },
        ],
      ],
      at('2025-01-06T09:00:00Z'),
    );
    const question = log.outbox.splice(0)[0]!;
    log.delivered(question, at('2025-01-06T09:00:02Z'), { messageId: 'early', segments: 1, encoding: 'GSM-7' });
    expect(log.state.recipients[0]!.delivery?.status).toBe('undelivered');
    expect(log.state.tierJumpAt).toBe('2025-01-06T09:00:02.000Z');
  });

  it('counts a recipient whose question was refused for good out at once; an ask from before keeps waiting', () => {
    const refuse = (log: AskLog, now: Date) =>
      log.notDelivered({ kind: 'question', to: ONCALL, text: '' }, 'SNS refused the SMS (OptedOut)', now, 'OptedOut');
    const ask = new SimulatedAsk({ policy: tiers });
    // SimulatedAsk records every send; a refused one is what the workflow reports instead.
    ask.act(refuse).advanceTo(HOUR);
    expect(ask.texts(LEAD)).toEqual(['+0h 0188 Isolate WS-042?']);

    const before = new SimulatedAsk({ policy: tiers });
    delete before.log.state.policy.undelivered;
    before.act(refuse).advanceTo(HOUR);
    expect(before.log.state.tier).toBe(0);
  });

  it("never counts a recipient out for a refusal that is the deployment's to fix (permissions, the day's budget)", () => {
    for (const code of ['AuthorizationErrorException', 'DailyBudgetSpent', 'ResourceNotFoundException', undefined]) {
      const ask = new SimulatedAsk({ defaultAnswer: 'Yes', policy: tiers });
      ask.act((log, now) => log.notDelivered({ kind: 'question', to: ONCALL, text: '' }, 'refused', now, code));
      ask.advanceTo(HOUR);
      expect(ask.log.state).toMatchObject({ status: 'waiting', tier: 0 });
      expect(ask.log.state.tierJumpAt).toBeUndefined();
    }
  });
});
