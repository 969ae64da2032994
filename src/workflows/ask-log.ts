/**
 * The state of one ask and every rule about how it changes. Deterministic: the workflow passes in
 * the time, so this class never reads a clock.
 */
import type { AskInput } from './definitions';
import type {
  AskEventType,
  AskState,
  CancelRequest,
  ManualAnswer,
  OptionCode,
  RecipientState,
  RoutedReply,
} from './definitions';

/** Thrown (and so rejected to the caller) when an operator update cannot apply. */
export class AskUpdateRejectedError extends Error {
  override name = 'AskUpdateRejectedError';
}

export class AskLog {
  readonly state: AskState;

  constructor(askId: string, input: AskInput, startedAt: Date) {
    this.state = {
      askId,
      entitlement: input.entitlement,
      question: input.question,
      options: input.options,
      recipients: input.recipients.map((phone) => ({ phone, codes: [] })),
      status: 'waiting',
      defaultAnswer: input.defaultAnswer,
      startedAt: startedAt.toISOString(),
      deadline: new Date(startedAt.getTime() + input.timeoutMs).toISOString(),
      context: input.context,
      events: [],
    };
  }

  setCodes(codesPerRecipient: OptionCode[][]): void {
    this.state.recipients.forEach((recipient, i) => {
      recipient.codes = codesPerRecipient[i] ?? [];
    });
  }

  markSent(phone: string, sent: { messageId: string; segments: number; encoding: string }, at: Date): void {
    Object.assign(this.recipient(phone), { ...sent, sentAt: at.toISOString() });
    this.record(at, 'sent', phone, `SNS message ${sent.messageId}, ${sent.segments} segment(s) ${sent.encoding}`);
  }

  markSendFailed(phone: string, reason: string, at: Date): void {
    this.recipient(phone).sendError = reason;
    this.record(at, 'send_failed', phone, reason);
  }

  everySendFailed(): boolean {
    return this.state.recipients.every((r) => r.sendError !== undefined);
  }

  /** Returns false when the ask has already ended, so the caller can tell the sender it was too late. */
  acceptReply(reply: RoutedReply, at: Date): boolean {
    const option = this.state.options[reply.optionIndex];
    this.record(at, 'reply_received', reply.phone, `"${reply.body}"${reply.code ? ` (code ${reply.code})` : ''}`);
    if (this.state.status !== 'waiting') {
      this.record(at, 'reply_ignored', reply.phone, `the ask is already ${this.state.status}`);
      return false;
    }
    if (option === undefined || !this.state.recipients.some((r) => r.phone === reply.phone)) {
      // The recipient workflow only routes what it registered; this guards against a bad signal.
      this.record(at, 'reply_ignored', reply.phone, 'not a recipient of this ask, or no such option');
      return true;
    }
    this.answer(at, { option, optionIndex: reply.optionIndex, via: 'sms', by: reply.phone, code: reply.code });
    return true;
  }

  checkStillWaiting(action: string): void {
    if (this.state.status !== 'waiting') {
      throw new AskUpdateRejectedError(`Cannot ${action}: the ask is already ${this.state.status}.`);
    }
  }

  checkManualAnswer(manual: ManualAnswer): void {
    this.checkStillWaiting('answer');
    this.optionIndexOf(manual.option);
  }

  answerManually(manual: ManualAnswer, at: Date): void {
    const optionIndex = this.optionIndexOf(manual.option);
    this.answer(at, { option: this.state.options[optionIndex]!, optionIndex, via: 'manual', by: manual.by }, manual.reason);
  }

  cancel(req: CancelRequest, at: Date): void {
    if (this.state.status !== 'waiting') return;
    this.state.status = 'cancelled';
    this.state.cancelReason = req.reason;
    this.state.endedAt = at.toISOString();
    this.record(at, 'cancelled', undefined, [req.by && `by ${req.by}`, req.reason].filter(Boolean).join(': '));
  }

  markOptedOut(phone: string, at: Date): void {
    const recipient = this.state.recipients.find((r) => r.phone === phone);
    if (!recipient || recipient.optedOut) return;
    recipient.optedOut = true;
    this.record(at, 'opted_out', phone, 'texted an opt-out keyword; no longer reachable by SMS');
    this.endIfUnreachable(at);
  }

  timeOut(at: Date): void {
    if (this.state.status !== 'waiting') return;
    this.record(at, 'timed_out', undefined, `no answer by ${this.state.deadline}`);
    this.fallToDefault(at, 'timed_out');
  }

  recordFeedback(phone: string, kind: string, at: Date): void {
    this.record(at, 'feedback_sent', phone, kind);
  }

  private endIfUnreachable(at: Date): void {
    const reachable = this.state.recipients.some((r) => !r.optedOut && r.sendError === undefined);
    if (!reachable && this.state.status === 'waiting') this.fallToDefault(at, 'unreachable');
  }

  private fallToDefault(at: Date, otherwise: 'timed_out' | 'unreachable'): void {
    const label = this.state.defaultAnswer;
    if (label === undefined) {
      this.state.status = otherwise;
      this.state.endedAt = at.toISOString();
      return;
    }
    const optionIndex = this.state.options.indexOf(label);
    this.answer(at, { option: label, optionIndex, via: 'default', by: 'default' }, otherwise);
  }

  private answer(at: Date, answer: Omit<NonNullable<AskState['answer']>, 'at'>, detail?: string): void {
    this.state.status = 'answered';
    this.state.answer = { ...answer, at: at.toISOString() };
    this.state.endedAt = at.toISOString();
    const how = `${answer.option} (${answer.via}${answer.via === 'default' ? '' : ` by ${answer.by}`})`;
    this.record(at, 'answered', answer.via === 'sms' ? answer.by : undefined, detail ? `${how}: ${detail}` : how);
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

  private record(at: Date, type: AskEventType, phone?: string, detail?: string): void {
    this.state.events.push({ at: at.toISOString(), type, ...(phone && { phone }), ...(detail && { detail }) });
  }
}
