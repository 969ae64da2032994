/**
 * The state of one ask and every rule about how it changes: votes, reminders, tiers, the deadline,
 * operators' actions. The SMS those rules call for go to `outbox`; the workflow sends them and
 * reports back. Deterministic: the workflow passes in the time, so this class never reads a clock.
 */
import { MAX_DURATION_MS, formatMs } from '../domain/duration';
import { MAX_LOGGED_REPLY_CHARS, clipText } from '../domain/input-limits';
import { maskPhoneForSms } from '../domain/phone-mask';
import { hiddenTextProblem } from '../domain/misleading-text';
import { refusesThePhone } from '../domain/send-refusals';
import { composeQuestionSms, smsSegmentInfo } from '../domain/sms-text';
import { DEFAULT_ASK_SEGMENT_BUDGET, DEFAULT_MAX_SMS_SEGMENTS } from '../domain/spend';
import type { DeliveryEvent } from '../domain/delivery-event';
import type {
  AskEventType,
  AskInput,
  AskState,
  CancelRequest,
  ExtendRequest,
  ManualAnswer,
  OperatorAction,
  OptionCode,
  OutgoingSms,
  RecipientNotice,
  RecipientState,
  RoutedReply,
  SentSmsInfo,
} from './definitions';
import { nextDue } from './policy-clock';
import type { DueEvent } from './policy-clock';

/** Thrown (and so rejected to the caller) when an operator update cannot apply. */
export class AskUpdateRejectedError extends Error {
  override name = 'AskUpdateRejectedError';
}

/** An operator's name and reason reach the recipients in the outcome SMS: no hidden characters there either. */
export function checkOperatorText(action: { by?: string; reason?: string }): void {
  // Both are optional on the wire: an update sent from Temporal's own tools may leave them out.
  const problem =
    (typeof action.by === 'string' ? hiddenTextProblem('by', action.by) : undefined) ??
    (typeof action.reason === 'string' ? hiddenTextProblem('reason', action.reason) : undefined);
  if (problem) throw new AskUpdateRejectedError(`Refused: ${problem}.`);
}

/** Delivery events held for a send not yet recorded: a few per recipient's question is all a real run makes. */
const MAX_EARLY_DELIVERIES = 100;

function deliveryKey(event: DeliveryEvent): string {
  return `${event.messageId}/${event.eventType}`;
}

/** Sums of prices in USD, kept to AWS's five decimals so that repeated adds do not drift. */
function roundUsd(usd: number): number {
  return Math.round(usd * 1e5) / 1e5;
}

export class AskLog {
  readonly state: AskState;
  /** SMS decided on and not yet handed to the workflow. */
  readonly outbox: OutgoingSms[] = [];
  private readonly firstRecipients: readonly string[];
  /** Replies taken, by dedupe key: a router hands a reply over again after a crash or a lost delete. */
  private readonly replyKeys = new Set<string>();
  /** Delivery events taken, by message and event type: SNS and SQS deliver at least once. */
  private readonly deliveryKeys = new Set<string>();
  /** The highest price seen per message: every event of a message repeats its total. */
  private readonly pricedMessages = new Map<string, number>();
  /** Events of a question whose send the ask has not recorded yet (the event outran the activity's result). */
  private readonly earlyDeliveries: DeliveryEvent[] = [];

  /** Segments one feedback SMS may take: the worker renders it, so its size is known only after. */
  readonly maxSmsSegments: number;

  /** `budgeted` false: an ask started before budgets, replayed as it ran then. */
  constructor(askId: string, input: AskInput, startedAt: Date, budgeted = true) {
    this.state = {
      askId,
      entitlement: input.entitlement,
      question: input.question,
      options: input.options,
      recipients: [],
      status: 'waiting',
      policy: input.policy,
      policyName: input.policyName,
      tier: 0,
      remindersSent: 0,
      startedAt: startedAt.toISOString(),
      deadline: new Date(startedAt.getTime() + input.policy.timeout).toISOString(),
      context: input.context,
      ...(budgeted && { segments: { spent: 0, budget: input.spend?.askSegmentBudget ?? DEFAULT_ASK_SEGMENT_BUDGET } }),
      events: [],
    };
    this.firstRecipients = input.recipients;
    this.maxSmsSegments = input.spend?.maxSmsSegments ?? DEFAULT_MAX_SMS_SEGMENTS;
  }

  /** The phones of a tier: 0 is `to`, then each escalation tier. */
  tierPhones(tier: number): string[] {
    return tier === 0 ? [...this.firstRecipients] : (this.state.policy.escalation[tier - 1]?.to ?? []);
  }

  /** What the policy wants next, and when. */
  nextDue(): DueEvent {
    const { startedAt, deadline, tier, remindersSent, tierJumpAt, policy } = this.state;
    return nextDue(policy, {
      startedAt: Date.parse(startedAt),
      deadline: Date.parse(deadline),
      tier,
      remindersSent,
      tierJumpAt: tierJumpAt === undefined ? undefined : Date.parse(tierJumpAt),
    });
  }

  /**
   * Adds a tier's recipients with the codes their recipient workflows handed out, and asks them.
   * Recipients are added even if the ask ended meanwhile, so that their codes are freed. `at` is
   * the tier's time on the policy's clock (the start, its `after`, or the opt-out).
   */
  startTier(tier: number, codes: OptionCode[][], at: Date): void {
    const phones = this.tierPhones(tier);
    const earlier = this.waitingRecipients();
    const added = phones.map((phone, i): RecipientState => ({ phone, tier, codes: codes[i] ?? [] }));
    this.state.recipients.push(...added);
    this.state.tier = tier;
    delete this.state.tierJumpAt;
    if (this.state.status !== 'waiting') return;
    if (tier > 0) {
      this.record(at, 'escalated', { detail: `tier ${tier}: ${phones.join(', ')}` });
      if (this.state.policy.notify.escalation) {
        const values = { question: this.state.question, escalated_to: phones.map(maskPhoneForSms).join(', ') };
        for (const r of earlier) this.outbox.push({ kind: 'feedback', to: r.phone, feedback: 'escalated', values });
      }
    }
    for (const r of added) this.ask(r, at);
  }

  /** A reminder round: whoever has not answered, and was last asked at least `every` ago. */
  remind(round: number, dueAt: Date): void {
    this.state.remindersSent = round;
    const every = this.state.policy.reminders?.every ?? 0;
    const due = this.waitingRecipients().filter((r) => dueAt.getTime() - Date.parse(r.lastAskedAt!) >= every);
    for (const r of due) this.ask(r, dueAt, `reminder ${round} of ${this.state.policy.reminders?.max}`);
  }

  /** `renewed`: fresh codes for recipients past the guess limit, which their question carries from now on. */
  resend(action: OperatorAction, at: Date, renewed: ReadonlyArray<{ phone: string; codes: OptionCode[] }> = []): void {
    for (const { phone, codes } of renewed) {
      const r = this.recipient(phone);
      Object.assign(r, { codes, renewals: (r.renewals ?? 0) + 1 });
      delete r.guessLocked;
    }
    const fresh = renewed.length > 0 ? `fresh codes for ${renewed.map((r) => r.phone).join(', ')}` : undefined;
    this.record(at, 'resent', {
      by: action.by,
      detail: [action.reason, fresh].filter(Boolean).join('; ') || undefined,
    });
    for (const r of this.waitingRecipients()) this.ask(r, at, `re-sent by ${action.by}`);
  }

  /** Segments left of the ask's budget. */
  segmentsLeft(): number {
    const { segments } = this.state;
    return segments ? segments.budget - segments.spent : Number.POSITIVE_INFINITY;
  }

  /** Takes `count` segments from the budget, before the SMS goes out; false when they are not left. */
  takeSegments(count: number): boolean {
    const { segments } = this.state;
    if (!segments) return true;
    if (segments.spent + count > segments.budget) return false;
    segments.spent += count;
    return true;
  }

  /** Gives back segments taken for an SMS that went out shorter, or not at all. */
  returnSegments(count: number): void {
    if (this.state.segments) this.state.segments.spent -= Math.min(count, this.state.segments.spent);
  }

  /** An SMS not sent because the ask's budget has no room for it. */
  skipped(sms: OutgoingSms | { kind: 'question'; to: string; again?: string }, needed: number, at: Date): void {
    const what = sms.kind === 'feedback' ? `${sms.feedback} feedback` : (sms.again ?? 'question');
    const { spent = 0, budget = 0 } = this.state.segments ?? {};
    this.record(at, 'send_skipped', {
      phone: sms.to,
      detail: `${what} not sent: it takes up to ${needed} segment(s) and the ask has spent ${spent} of its ${budget} (askSegmentBudget)`,
    });
    if (sms.kind === 'question' && !sms.again)
      this.recipient(sms.to).sendError = `not sent: the ask's segment budget (${budget}) is spent`;
  }

  /** Segments the question to `r` takes: what a reminder or re-send costs. */
  questionSegments(r: Pick<RecipientState, 'tier' | 'codes'>, again: boolean): number {
    return smsSegmentInfo(this.questionText(r, again)).segments;
  }

  /** An operator's re-send is refused, not half sent, when the budget cannot pay for all of it. */
  checkResend(action: OperatorAction): void {
    this.checkStillWaiting('re-send');
    checkOperatorText(action);
    const waiting = this.waitingRecipients();
    const needed = waiting.reduce((sum, r) => sum + this.questionSegments(r, true), 0);
    // Questions queued and not yet paid for (an earlier re-send) count as spent.
    const queued = this.outbox.reduce(
      (sum, sms) => sum + (sms.kind === 'question' ? smsSegmentInfo(sms.text).segments : 0),
      0,
    );
    const left = this.segmentsLeft() - queued;
    if (needed > left) {
      throw new AskUpdateRejectedError(
        `Cannot re-send: the question to ${waiting.length} recipient(s) takes ${needed} segment(s), and the ask has ${left} left of its ${this.state.segments?.budget} (askSegmentBudget, SMS_ASK_ASK_SEGMENT_BUDGET).`,
      );
    }
  }

  /** Recipients whose codes stopped working at the guess limit, and who can still answer with fresh ones. */
  guessLockedRecipients(): RecipientState[] {
    return this.waitingRecipients().filter((r) => r.guessLocked);
  }

  /** Records what happened to an SMS from the outbox. */
  delivered(sms: OutgoingSms, at: Date, sent?: SentSmsInfo): void {
    if (sms.kind === 'feedback') {
      this.record(at, 'feedback_sent', { phone: sms.to, detail: sms.feedback });
    } else if (sms.again) {
      this.record(at, 'reminded', { phone: sms.to, detail: sms.again });
    } else if (sent) {
      const { via, ...info } = sent;
      Object.assign(this.recipient(sms.to), { ...info, sentAt: at.toISOString() });
      const sender = via === 'end-user-messaging' ? 'End User Messaging' : 'SNS';
      this.record(at, 'sent', {
        phone: sms.to,
        detail: `${sender} message ${sent.messageId}, ${sent.segments} segment(s) ${sent.encoding}`,
      });
      const early = this.earlyDeliveries.filter((e) => e.messageId === sent.messageId && e.destination === sms.to);
      for (const event of early) this.earlyDeliveries.splice(this.earlyDeliveries.indexOf(event), 1);
      for (const event of early) this.applyDelivery(this.recipient(sms.to), event, at);
    }
  }

  /**
   * A question that never went out makes its recipient unreachable, and under `undelivered:
   * escalate` counts them out at once; a lost reminder or feedback does not.
   */
  notDelivered(sms: OutgoingSms, reason: string, at: Date, code?: string): void {
    if (sms.kind === 'feedback') return; // a courtesy: its failure is not the ask's
    if (sms.again) {
      this.record(at, 'send_failed', { phone: sms.to, detail: `${sms.again}: ${reason}` });
      return;
    }
    this.recipient(sms.to).sendError = reason;
    // Only a refusal of the phone counts it out: one of the deployment's (permissions, budget) is for people to fix.
    const countsOut = refusesThePhone(code) && this.state.policy.undelivered === 'escalate';
    this.recordOut(at, 'send_failed', sms.to, reason, countsOut);
  }

  /**
   * A delivery event of one of this ask's SMS. Each is taken once, whatever order they come in: a
   * message's first final event decides its state, and only a question's final failure acts (as the
   * policy says), while the ask waits. Prices add up per message, however often an event repeats.
   */
  recordDelivery(event: DeliveryEvent, at: Date): void {
    const key = deliveryKey(event);
    if (this.deliveryKeys.has(key)) return;
    const r = this.state.recipients.find((x) => x.phone === event.destination);
    if (event.kind === 'question' && r?.messageId !== event.messageId) {
      // Its send is not recorded yet (the event outran the activity's result): it waits for it. A
      // question's event must name the message the ask sent, so one that never matches waits on, bounded.
      if (
        this.earlyDeliveries.length < MAX_EARLY_DELIVERIES &&
        !this.earlyDeliveries.some((e) => deliveryKey(e) === key)
      )
        this.earlyDeliveries.push(event);
      return;
    }
    if (r) this.applyDelivery(r, event, at);
  }

  private applyDelivery(r: RecipientState, event: DeliveryEvent, at: Date): void {
    const key = deliveryKey(event);
    if (this.deliveryKeys.has(key)) return;
    this.deliveryKeys.add(key);
    this.addCost(r, event);
    if (event.messageId !== r.messageId) {
      // A reminder's or feedback's failure is logged, never acted on.
      if (event.status === 'undelivered')
        this.record(at, 'undelivered', {
          phone: r.phone,
          detail: `${event.kind ?? 'SMS'} ${this.deliveryDetail(event)}`,
        });
      return;
    }
    const final = r.delivery !== undefined && r.delivery.status !== 'pending';
    if (final) return;
    r.delivery = {
      status: event.status,
      eventType: event.eventType,
      at: event.at,
      ...(event.reason !== undefined && { reason: event.reason }),
    };
    if (event.status === 'delivered') {
      const after = r.sentAt
        ? ` ${(Math.max(Date.parse(event.at) - Date.parse(r.sentAt), 0) / 1000).toFixed(1)} s after it was sent`
        : '';
      this.record(at, 'delivered', { phone: r.phone, detail: `question ${event.eventType}${after}` });
      return;
    }
    if (event.status !== 'undelivered') return;
    const countsOut =
      this.state.status === 'waiting' && this.state.policy.undelivered === 'escalate' && !r.answer && !r.optedOut;
    this.recordOut(at, 'undelivered', r.phone, `question ${this.deliveryDetail(event)}`, countsOut);
  }

  private deliveryDetail(event: DeliveryEvent): string {
    return `not delivered: ${event.eventType}${event.reason ? ` (${event.reason})` : ''}`;
  }

  private addCost(r: RecipientState, event: DeliveryEvent): void {
    if (event.priceUsd === undefined) return;
    const before = this.pricedMessages.get(event.messageId) ?? 0;
    if (event.priceUsd <= before) return;
    this.pricedMessages.set(event.messageId, event.priceUsd);
    const added = event.priceUsd - before;
    r.costUsd = roundUsd((r.costUsd ?? 0) + added);
    this.state.costUsd = roundUsd((this.state.costUsd ?? 0) + added);
  }

  /**
   * Logs why a recipient can no longer answer. `countsOut`: as for a STOP, the next tier starts now
   * (while the ask waits and has one), and the answers so far are settled without them.
   */
  private recordOut(
    at: Date,
    type: 'opted_out' | 'send_failed' | 'undelivered',
    phone: string,
    detail: string,
    countsOut: boolean,
  ): void {
    const jump = countsOut && this.state.status === 'waiting' && this.state.tier < this.state.policy.escalation.length;
    if (jump) this.state.tierJumpAt ??= at.toISOString();
    this.record(at, type, { phone, detail: `${detail}${jump ? '; the next tier starts now' : ''}` });
    if (countsOut) this.settle(at);
  }

  /**
   * With `any`, a recipient workflow frees the ask's codes itself when it routes an answer to it,
   * so the ask need not tell it that it ended: the phones whose answers this ask received.
   */
  phonesWhoseRecipientFreedTheCodes(): Set<string> {
    if (this.state.policy.responders !== 'any') return new Set();
    return new Set(
      this.state.events.filter((e) => e.type === 'reply_received' && e.phone !== undefined).map((e) => e.phone!),
    );
  }

  everySendFailed(): boolean {
    return this.state.recipients.every((r) => r.sendError !== undefined);
  }

  /** False for a reply this ask already has (taken once, whatever it decided then). */
  acceptReply(reply: RoutedReply, at: Date): boolean {
    if (this.replyKeys.has(reply.dedupeKey)) return false;
    this.replyKeys.add(reply.dedupeKey);
    const refused = this.refusal(reply);
    if (refused) {
      this.record(at, 'reply_ignored', { phone: reply.phone, detail: refused });
      return true;
    }
    const option = this.state.options[reply.optionIndex];
    const body = clipText(reply.body, MAX_LOGGED_REPLY_CHARS);
    const injected = reply.injectedBy === undefined ? '' : `, injected through the HTTP API by ${reply.injectedBy}`;
    this.record(at, 'reply_received', {
      phone: reply.phone,
      ...(reply.injectedBy !== undefined && { by: reply.injectedBy }),
      detail: `"${body}"${reply.code ? ` (code ${reply.code})` : ''}${injected}`,
    });
    if (this.state.status !== 'waiting') {
      this.record(at, 'reply_ignored', { phone: reply.phone, detail: `the ask is already ${this.state.status}` });
      this.outbox.push({
        kind: 'feedback',
        to: reply.phone,
        feedback: 'expired',
        values: { question: this.state.question },
      });
      return true;
    }
    const recipient = this.state.recipients.find((r) => r.phone === reply.phone);
    if (option === undefined || !recipient) {
      // The recipient workflow only routes what it registered; this guards against a bad signal.
      this.record(at, 'reply_ignored', {
        phone: reply.phone,
        detail: 'not a recipient of this ask, or no such option',
      });
      return true;
    }
    if (recipient.answer) {
      this.record(at, 'reply_ignored', { phone: reply.phone, detail: `already answered ${recipient.answer.option}` });
      return true;
    }
    recipient.answer = {
      option,
      optionIndex: reply.optionIndex,
      at: at.toISOString(),
      ...(reply.code && { code: reply.code }),
      ...(reply.injectedBy !== undefined && { injectedBy: reply.injectedBy }),
    };
    const values = { chosen_option: option, question: this.state.question, reply_code: reply.code ?? '' };
    this.outbox.push({ kind: 'feedback', to: reply.phone, feedback: 'success', values });
    if (this.state.policy.responders !== 'any') this.record(at, 'voted', { phone: reply.phone, detail: option });
    this.settle(at);
    return true;
  }

  /**
   * Why a `reply` signal answers nothing: the recipient workflow sends the code it matched, so a
   * signal from anyone else with access to the namespace must hold the recipient's live code for
   * that option too (no code only under acceptLabels). Undefined for a reply that may answer.
   */
  refusal(reply: RoutedReply): string | undefined {
    const recipient = this.state.recipients.find((r) => r.phone === reply?.phone);
    if (!recipient) return 'not a recipient of this ask';
    if (typeof reply.code !== 'string')
      return this.state.policy.acceptLabels ? undefined : 'no reply code, and this ask takes no answer without one';
    if (recipient.guessLocked) return "this recipient's codes stopped working after too many wrong codes";
    return recipient.codes[reply.optionIndex]?.code === reply.code
      ? undefined
      : 'not a live code of this recipient for that option';
  }

  checkStillWaiting(action: string): void {
    if (this.state.status !== 'waiting') {
      throw new AskUpdateRejectedError(`Cannot ${action}: the ask is already ${this.state.status}.`);
    }
  }

  checkManualAnswer(manual: ManualAnswer): void {
    this.checkStillWaiting('answer');
    checkOperatorText(manual);
    this.optionIndexOf(manual.option);
  }

  answerManually(manual: ManualAnswer, at: Date): void {
    const optionIndex = this.optionIndexOf(manual.option);
    this.answer(
      at,
      { option: this.state.options[optionIndex]!, optionIndex, via: 'manual', by: manual.by },
      manual.reason,
    );
  }

  /** Only later: to end an ask sooner, answer or cancel it. */
  checkExtend(req: ExtendRequest): void {
    this.checkStillWaiting('extend');
    this.extendedDeadline(req);
  }

  extend(req: ExtendRequest, at: Date): void {
    const before = this.state.deadline;
    this.state.deadline = this.extendedDeadline(req).toISOString();
    this.record(at, 'extended', {
      by: req.by,
      detail: [`deadline ${before} -> ${this.state.deadline}`, req.reason].filter(Boolean).join(': '),
    });
  }

  cancel(req: CancelRequest, at: Date): void {
    if (this.state.status !== 'waiting') return;
    this.state.cancelReason = req.reason;
    this.record(at, 'cancelled', { by: req.by, detail: req.reason });
    this.end('cancelled', at, req.reason ? `Cancelled: ${req.reason}` : 'Cancelled');
  }

  /** An opted-out recipient cannot answer: the next tier starts now, or the ask may end unreachable. */
  markOptedOut(phone: string, at: Date): void {
    const recipient = this.state.recipients.find((r) => r.phone === phone);
    if (!recipient || recipient.optedOut) return;
    recipient.optedOut = true;
    this.recordOut(at, 'opted_out', phone, 'texted an opt-out keyword, and SNS lists the number as opted out', true);
  }

  /** What the recipient's phone workflow saw and decided nothing on: an unconfirmed STOP, a throttled guesser. */
  recordNotice(notice: RecipientNotice): void {
    if (!this.state.recipients.some((r) => r.phone === notice.phone)) return;
    if (notice.kind === 'guess_limit_reached') {
      for (const r of this.state.recipients) if (r.phone === notice.phone) r.guessLocked = true;
    }
    this.record(new Date(notice.at), notice.kind, { phone: notice.phone, detail: notice.detail });
  }

  timeOut(at: Date): void {
    if (this.state.status !== 'waiting') return;
    this.record(at, 'timed_out', { detail: `no answer by ${this.state.deadline}` });
    this.fallToDefault(at, 'timed_out', 'Expired');
  }

  /** Recipients who were asked and can still answer. */
  private waitingRecipients(): RecipientState[] {
    return this.state.recipients.filter((r) => r.lastAskedAt !== undefined && this.canStillAnswer(r));
  }

  private canStillAnswer(r: RecipientState): boolean {
    return !r.answer && !r.optedOut && r.sendError === undefined && !this.countedOutUndelivered(r);
  }

  /** A question that never reached the phone, under `undelivered: escalate`. */
  private countedOutUndelivered(r: RecipientState): boolean {
    return r.delivery?.status === 'undelivered' && this.state.policy.undelivered === 'escalate';
  }

  private ask(r: RecipientState, at: Date, again?: string): void {
    r.lastAskedAt = at.toISOString();
    this.outbox.push({
      kind: 'question',
      to: r.phone,
      text: this.questionText(r, again !== undefined),
      ...(again && { again }),
    });
  }

  private questionText(r: Pick<RecipientState, 'tier' | 'codes'>, again: boolean): string {
    const lead = r.tier > 0 ? this.state.policy.escalation[r.tier - 1]?.message : undefined;
    const codes = r.codes.map(({ option, code }) => ({ label: option, code }));
    return composeQuestionSms(this.state.question, codes, { lead, reminder: again });
  }

  /**
   * Ends the ask once the answers decide it, or once they no longer can. `any`: one answer.
   * `{ quorum: N }`: the first option N recipients chose; over when no option can reach N, counting
   * everyone still able to answer and the tiers to come. `all`: everyone asked who can still answer
   * chose the same option; over as soon as two answers differ.
   */
  private settle(at: Date): void {
    if (this.state.status !== 'waiting') return;
    const { responders, escalation } = this.state.policy;
    const answers = this.state.recipients.flatMap((r) => (r.answer ? [r.answer] : []));
    const counts = this.state.options.map((_, i) => answers.filter((a) => a.optionIndex === i).length);
    const best = Math.max(...counts);
    const open = this.state.recipients.filter((r) => this.canStillAnswer(r)).length;
    const toCome = escalation.slice(this.state.tier).reduce((sum, tier) => sum + tier.to.length, 0);

    const decided =
      responders === 'all'
        ? answers.length > 0 && open === 0 && best === answers.length
        : best >= (responders === 'any' ? 1 : responders.quorum);
    if (decided) {
      const optionIndex = counts.indexOf(best);
      const last = this.state.recipients
        .filter((r) => r.answer?.optionIndex === optionIndex)
        .sort((a, b) => a.answer!.at.localeCompare(b.answer!.at))
        .pop()!;
      const { code, injectedBy } = last.answer!;
      this.answer(at, {
        option: this.state.options[optionIndex]!,
        optionIndex,
        via: 'sms',
        by: last.phone,
        code,
        ...(injectedBy !== undefined && { injectedBy }),
      });
      return;
    }
    if (answers.length + open + toCome === 0) {
      this.fallToDefault(at, 'unreachable', 'Nobody could be reached');
      return;
    }
    const hopeless =
      responders === 'all'
        ? best < answers.length
        : best + open + toCome < (responders === 'any' ? 1 : responders.quorum);
    if (hopeless) {
      const tally = this.state.options.map((o, i) => `${o} ${counts[i]}`).join(', ');
      this.record(at, 'undecided', { detail: `${tally}: the answers can no longer agree` });
      this.fallToDefault(at, 'undecided', 'No agreement');
    }
  }

  private fallToDefault(at: Date, otherwise: 'timed_out' | 'unreachable' | 'undecided', outcome: string): void {
    const label = this.state.policy.onTimeout.answer;
    if (label === undefined) {
      this.end(otherwise, at, outcome);
      return;
    }
    const optionIndex = this.state.options.indexOf(label);
    this.answer(
      at,
      { option: label, optionIndex, via: 'default', by: 'default' },
      otherwise,
      `${outcome}; answer: ${label}`,
    );
  }

  private answer(
    at: Date,
    answer: Omit<NonNullable<AskState['answer']>, 'at'>,
    detail?: string,
    outcome?: string,
  ): void {
    this.state.answer = { ...answer, at: at.toISOString() };
    const injected = answer.injectedBy === undefined ? '' : `, injected by ${answer.injectedBy}`;
    const how = `${answer.option} (${answer.via}${answer.via === 'default' ? '' : ` by ${answer.by}`}${injected})`;
    this.record(at, 'answered', {
      ...(answer.via === 'sms' && { phone: answer.by }),
      ...(answer.via === 'manual' && { by: answer.by }),
      ...(answer.injectedBy !== undefined && { by: answer.injectedBy }),
      detail: detail ? `${how}: ${detail}` : how,
    });
    const by = answer.via === 'sms' ? this.voters(answer.optionIndex).map(maskPhoneForSms).join(', ') : answer.by;
    this.end('answered', at, outcome ?? `Answered by ${by}: ${answer.option}`);
  }

  /** Everyone who was asked and did not opt out hears the outcome, but the one whose reply decided it. */
  private end(status: AskState['status'], at: Date, outcome: string): void {
    this.state.status = status;
    this.state.endedAt = at.toISOString();
    if (!this.state.policy.notify.outcome) return;
    const decider = this.state.answer?.via === 'sms' ? this.state.answer.by : undefined;
    const values = { question: this.state.question, outcome };
    for (const r of this.state.recipients) {
      const unreachable = r.optedOut || r.sendError !== undefined || r.delivery?.status === 'undelivered';
      if (r.lastAskedAt === undefined || unreachable || r.phone === decider) continue;
      this.outbox.push({ kind: 'feedback', to: r.phone, feedback: 'outcome', values });
    }
  }

  private voters(optionIndex: number): string[] {
    return this.state.recipients.filter((r) => r.answer?.optionIndex === optionIndex).map((r) => r.phone);
  }

  private extendedDeadline(req: ExtendRequest): Date {
    const current = Date.parse(this.state.deadline);
    if ((req.extendByMs === undefined) === (req.until === undefined)) {
      throw new AskUpdateRejectedError('Cannot extend: give either a duration to add or a new deadline.');
    }
    const wanted = req.until === undefined ? current + req.extendByMs! : Date.parse(req.until);
    if (Number.isNaN(wanted))
      throw new AskUpdateRejectedError(`Cannot extend: "${req.until}" is not an ISO 8601 time.`);
    if (wanted <= current) {
      throw new AskUpdateRejectedError(
        `Cannot extend: ${new Date(wanted).toISOString()} is not later than the current deadline ${this.state.deadline}; to end the ask sooner, answer or cancel it.`,
      );
    }
    if (wanted - Date.parse(this.state.startedAt) > MAX_DURATION_MS) {
      throw new AskUpdateRejectedError(
        `Cannot extend: an ask lasts at most ${formatMs(MAX_DURATION_MS)} from its start.`,
      );
    }
    return new Date(wanted);
  }

  private optionIndexOf(option: string): number {
    const asNumber = /^\d+$/.test(option.trim()) ? Number(option) - 1 : -1;
    if (asNumber >= 0 && asNumber < this.state.options.length) return asNumber;
    const byLabel = this.state.options.findIndex((o) => o.toLowerCase() === option.trim().toLowerCase());
    if (byLabel >= 0) return byLabel;
    throw new AskUpdateRejectedError(
      `"${option}" is not an option of this ask; choose one of: ${this.state.options.map((o, i) => `${i + 1}=${o}`).join(', ')}.`,
    );
  }

  private recipient(phone: string): RecipientState {
    const found = this.state.recipients.find((r) => r.phone === phone);
    if (!found) throw new Error(`${phone} is not a recipient of this ask`);
    return found;
  }

  private record(
    at: Date,
    type: AskEventType,
    { phone, by, detail }: { phone?: string; by?: string; detail?: string } = {},
  ): void {
    this.state.events.push({
      at: at.toISOString(),
      type,
      ...(phone && { phone }),
      ...(by && { by }),
      ...(detail && { detail }),
    });
  }
}
