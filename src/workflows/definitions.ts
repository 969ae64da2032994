/**
 * Names and shapes shared by the workflows, the activities and the client. Deterministic code only:
 * this module is bundled into the workflow sandbox.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SentSms, SmsSenderName } from '../aws/sms-publisher';
import type { FeedbackKind } from '../config';
import type { AskRequest, NormalizedAsk } from '../domain/ask-request';
import type { DeliveryEvent, DeliveryStatus } from '../domain/delivery-event';
import type { AskPolicy } from '../domain/policy';
import type { InboundReply } from '../domain/inbound-message';
import type { CodeMode } from '../domain/reply-codes';
import type { ReplyGuardState, ReplyRules } from '../domain/reply-guard';

// ---- ask workflow -------------------------------------------------------------------------------

/** The validated, normalized input of one ask (built by domain/ask-request.ts). */
export type AskInput = NormalizedAsk;

export type { AskRequest, NormalizedAsk };

/**
 * What askWorkflow takes: an ask the client has already validated, or, from a user's workflow
 * that starts it as a child, the request as a playbook writes it.
 */
export type AskWorkflowInput = AskRequest | { validated: NormalizedAsk };

/** `undecided`: with `all` or a quorum, the answers can no longer agree and there is no default. */
export type AskStatus = 'waiting' | 'answered' | 'timed_out' | 'cancelled' | 'unreachable' | 'undecided';
export type AnswerSource = 'sms' | 'manual' | 'default';

export interface AskAnswer {
  option: string;
  optionIndex: number;
  via: AnswerSource;
  /** The phone (E.164) for sms, the operator's name for manual, "default" for default. */
  by: string;
  at: string;
  code?: string;
  /** An SMS answer that was injected through the HTTP API (POST /v1/replies): the API key's name. */
  injectedBy?: string;
}

export interface OptionCode {
  option: string;
  code: string;
}

/** One recipient's own answer; with `all` or a quorum, every recipient's answer is kept. */
export interface RecipientAnswer {
  option: string;
  optionIndex: number;
  at: string;
  code?: string;
  /** The reply was injected through the HTTP API by this API key. */
  injectedBy?: string;
}

export interface RecipientState {
  phone: string;
  /** 0 for `to`, then 1, 2 … for each escalation tier. */
  tier: number;
  codes: OptionCode[];
  answer?: RecipientAnswer;
  /** When this recipient was last asked (question or reminder), on the policy's clock. */
  lastAskedAt?: string;
  /** SNS MessageId of the question SMS. */
  messageId?: string;
  segments?: number;
  encoding?: string;
  sentAt?: string;
  sendError?: string;
  optedOut?: boolean;
  /** Too many wrong codes came from this phone: its codes no longer answer this ask until an operator re-sends fresh ones. */
  guessLocked?: boolean;
  /** Fresh codes handed out by operators' re-sends so far. */
  renewals?: number;
  /** What the delivery events (End User Messaging) said of the question SMS. */
  delivery?: RecipientDelivery;
  /** What this recipient's SMS cost, in USD, as the delivery events priced them. */
  costUsd?: number;
}

/** The question SMS's latest delivery state, from its delivery events. */
export interface RecipientDelivery {
  status: DeliveryStatus;
  /** AWS's event type, e.g. TEXT_DELIVERED, TEXT_BLOCKED. */
  eventType: string;
  at: string;
  reason?: string;
}

export type AskEventType =
  | 'sent'
  | 'send_failed'
  /** An SMS the ask's segment budget had no room for. */
  | 'send_skipped'
  | 'reply_received'
  | 'reply_ignored'
  | 'voted'
  | 'feedback_sent'
  | 'reminded'
  | 'escalated'
  | 'resent'
  | 'extended'
  | 'answered'
  | 'opted_out'
  | 'opt_out_unconfirmed'
  | 'guessing_throttled'
  | 'guess_limit_reached'
  /** A delivery event said the SMS reached the phone, or that it never will. */
  | 'delivered'
  | 'undelivered'
  | 'timed_out'
  | 'undecided'
  | 'cancelled'
  // Outcome webhooks: their own workflows report these; the client adds them to the ask's log.
  | 'webhook_delivered'
  | 'webhook_retrying'
  | 'webhook_failed';

export interface AskEvent {
  at: string;
  type: AskEventType;
  phone?: string;
  /** The operator who acted (answer, cancel, extend, re-send). */
  by?: string;
  detail?: string;
}

/** Live status (query) and final result of an ask. */
export interface AskState {
  askId: string;
  entitlement: string;
  question: string;
  options: string[];
  recipients: RecipientState[];
  status: AskStatus;
  answer?: AskAnswer;
  policy: AskPolicy;
  /** The preset's name, "custom" or "default"; for listings. */
  policyName: string;
  /** Escalation tiers started so far (0: only `to`). */
  tier: number;
  /** Reminder rounds due so far, of the policy's `max`. */
  remindersSent: number;
  /** Set when a recipient opted out: the next tier starts then, not at its `after`. */
  tierJumpAt?: string;
  startedAt: string;
  deadline: string;
  endedAt?: string;
  cancelReason?: string;
  context: Record<string, unknown>;
  /** SMS segments sent so far, of the ask's budget (askSegmentBudget). */
  segments?: { spent: number; budget: number };
  /** What the ask's SMS cost so far, in USD, as their delivery events priced them (End User Messaging). */
  costUsd?: number;
  events: AskEvent[];
}

/** A reply that a recipient workflow matched to this ask. */
export interface RoutedReply {
  phone: string;
  optionIndex: number;
  code?: string;
  body: string;
  dedupeKey: string;
  receivedAt: string;
  /** The reply was injected through the HTTP API by this API key, not received as an SMS. */
  injectedBy?: string;
}

export interface ManualAnswer {
  /** An option label (case-insensitive) or its 1-based number. */
  option: string;
  /** Who answered: an operator name. */
  by: string;
  reason?: string;
}

export interface CancelRequest {
  by?: string;
  reason?: string;
}

/** Who did it and why, for the event log. */
export interface OperatorAction {
  by: string;
  reason?: string;
}

/** Moves the deadline later: by a duration from the current deadline, or to a time. */
export interface ExtendRequest extends OperatorAction {
  extendByMs?: number;
  /** ISO 8601. */
  until?: string;
}

/** What SNS (or End User Messaging) said about a question SMS it accepted. */
export interface SentSmsInfo {
  messageId: string;
  segments: number;
  encoding: string;
  /** Absent: SNS. */
  via?: SmsSenderName;
}

/** An SMS the ask's rules decided to send; the workflow sends it and reports back. */
export type OutgoingSms =
  | {
      kind: 'question';
      to: string;
      text: string;
      /** Set for a reminder or a re-send: what the log says. */ again?: string;
    }
  | { kind: 'feedback'; to: string; feedback: FeedbackKind; values: Record<string, string> };

/** What a recipient workflow tells the phone's pending asks for their event logs; it decides nothing. */
export interface RecipientNotice {
  phone: string;
  at: string;
  kind: 'opt_out_unconfirmed' | 'guessing_throttled' | 'guess_limit_reached';
  detail: string;
}

export const replySignal = defineSignal<[RoutedReply]>('reply');
export const recipientNoticeSignal = defineSignal<[RecipientNotice]>('recipientNotice');
export const optedOutSignal = defineSignal<[{ phone: string; at: string }]>('optedOut');
/** From the router: a delivery event of one of the ask's SMS. */
export const deliverySignal = defineSignal<[DeliveryEvent]>('delivery');
export const answerUpdate = defineUpdate<AskState, [ManualAnswer]>('answer');
export const cancelUpdate = defineUpdate<AskState, [CancelRequest]>('cancel');
export const extendUpdate = defineUpdate<AskState, [ExtendRequest]>('extend');
export const resendUpdate = defineUpdate<AskState, [OperatorAction]>('resend');
export const statusQuery = defineQuery<AskState>('status');

/**
 * What the pending listing shows beyond the search attributes. Never the reply codes: anyone who
 * may list workflows in the namespace can read a memo, and a code is what answers an ask; the
 * `status` query gives them to whoever may query the ask.
 */
export interface AskMemo {
  question: string;
  context: Record<string, unknown>;
}

// ---- recipient workflow -------------------------------------------------------------------------

export interface Registration {
  askId: string;
  question: string;
  options: string[];
  codeMode: CodeMode;
  codeLength: number;
  /** The ask's policy lets a bare option label answer it (policy.acceptLabels). */
  acceptLabels?: boolean;
  /** The worker's reply rules (guess throttle, feedback limit, STOP confirmation); the latest wins. */
  rules?: ReplyRules;
  /** The ask ends with its first answer (`any`): the recipient frees its codes as it routes one, and the ask does not send `askEnded`. */
  endsOnAnswer?: boolean;
  /** The codes the ask already sent this phone, when a run of the phone's workflow that is gone is replaced: kept, not allocated anew. */
  codes?: OptionCode[];
  /** With `codes`: when the ask first asked this phone, so that replies sent since still count. */
  askedAt?: string;
  /** The ask's policy accepts sequential codes; without it a phone gets random codes whatever the deployment's mode. */
  sequentialCodes?: boolean;
  /** An operator's re-send after the guess limit: this ask's codes for the phone are replaced, once per number. */
  renewal?: number;
}

export interface PendingAskEntry {
  askId: string;
  question: string;
  options: string[];
  codes: OptionCode[];
  acceptLabels?: boolean;
  endsOnAnswer?: boolean;
  /** When the codes were handed out (workflow time): a reply sent before it cannot answer this ask. */
  askedAt?: string;
  /** Wrong codes from this phone while this ask was pending, over its whole life. */
  wrongGuesses?: number;
  /** The guess limit was reached: these codes no longer answer. */
  guessLocked?: boolean;
  renewal?: number;
}

export interface EndedAskEntry extends PendingAskEntry {
  endedAt: string;
}

/** A reply the recipient routed to an ask, for the router to hand over. */
export interface ReplyDelivery {
  askId: string;
  reply: RoutedReply;
}

/** Carried across continue-as-new. */
export interface RecipientWorkflowState {
  pending: PendingAskEntry[];
  recentlyEnded: EndedAskEntry[];
  recentDedupeKeys: string[];
  /** The last replies routed to an ask, so that a redelivery is handed over again, never decided anew. */
  recentDeliveries?: ReplyDelivery[];
  nextSequential: number;
  optedOut: boolean;
  /** Wrong codes, lock and feedback counts of this phone. */
  guard?: ReplyGuardState;
  rules?: ReplyRules;
}

export interface RecipientInput {
  phone: string;
  state?: RecipientWorkflowState;
  /**
   * `kept`: one wake timer kept across replies. Absent in runs started before it existed, which
   * set a timer on every pass of their loop, and replay that way.
   */
  wakeTimer?: 'kept';
}

export const registerUpdate = defineUpdate<OptionCode[], [Registration]>('register');
/**
 * What the recipient decided for one reply: the ask it answers, which the router signals itself;
 * or nothing to hand over (the recipient carries out feedback, STOP checks and notices).
 */
export interface ReplyRouting {
  deliver?: ReplyDelivery;
  /** Without `deliver`: why the reply answers nothing (absent from recipients older than it). */
  refused?: string;
}

/**
 * The way in for replies: decided in the recipient's workflow task and returned, so that the answer
 * reaches its ask by one signal from the router, not by a second task of the recipient.
 */
export const routeReplyUpdate = defineUpdate<ReplyRouting, [InboundReply]>('routeReply');
/** The router found the ask a reply was routed to already closed, without that reply. */
export const replyUndeliveredSignal = defineSignal<[{ askId: string; dedupeKey: string }]>('replyUndelivered');
/** Replies as routers before `routeReply` sent them: routed and signalled on by the recipient itself. */
export const inboundSignal = defineSignal<[InboundReply]>('inbound');
export const askEndedSignal = defineSignal<[{ askId: string }]>('askEnded');
export const pendingAsksQuery = defineQuery<PendingAskEntry[]>('pendingAsks');

// ---- inbound poller workflow --------------------------------------------------------------------

export interface InboundPollerInput {
  queueUrl: string;
  /** Poll activities kept running side by side; default 1 (a poller started before this setting). */
  pollers?: number;
}

// ---- workflow ids -------------------------------------------------------------------------------

const ASK_ID_PREFIX = 'ask/';

/** Asks are addressed by entitlement, so an XSOAR playbook can find its ask again. */
export function askWorkflowId(entitlement: string): string {
  return `${ASK_ID_PREFIX}${entitlement}`;
}

export function isAskWorkflowId(id: string): boolean {
  return id.startsWith(ASK_ID_PREFIX) && id.length > ASK_ID_PREFIX.length;
}

/** Accepts an ask id or a bare entitlement, as users may give either. */
export function toAskWorkflowId(askIdOrEntitlement: string): string {
  return askIdOrEntitlement.startsWith(ASK_ID_PREFIX) ? askIdOrEntitlement : askWorkflowId(askIdOrEntitlement);
}

/** Scoped by task queue so that two sms-ask deployments can share a namespace. */
export function recipientWorkflowId(taskQueue: string, phone: string): string {
  return `${taskQueue}/recipient/${phone}`;
}

export function inboundPollerWorkflowId(taskQueue: string, queueUrl: string): string {
  return `${taskQueue}/inbound-poller/${queueUrl}`;
}

/** Delivery workflow ids: `webhook/<ask id>/ended`, or `webhook/<ask id>/<event type>/<index in the event log>`; no ask id starts with "webhook/". */
export function webhookDeliveryId(askId: string, event: 'ended' | { type: string; index: number }): string {
  return event === 'ended' ? `webhook/${askId}/ended` : `webhook/${askId}/${event.type}/${event.index}`;
}

/** The day (YYYY-MM-DD, UTC) whose segment budget a daily spend workflow holds. */
export interface DailySpendInput {
  day: string;
  /** Segments granted before a continue-as-new. */
  granted?: number;
}

/** A worker's request for a block of the day's segments, with its budget setting. */
export interface SegmentLeaseRequest {
  segments: number;
  budget: number;
}

/** What the day granted (0 when it is spent), and its totals so far. */
export interface SegmentLease {
  granted: number;
  spent: number;
  budget: number;
}

export const leaseSegmentsUpdate = defineUpdate<SegmentLease, [SegmentLeaseRequest]>('leaseSegments');

/** The workflow that holds a task queue's segment budget for one UTC day. */
export function dailySpendWorkflowId(taskQueue: string, day: string): string {
  return `${taskQueue}/spend/${day}`;
}

// ---- ended-asks feed ----------------------------------------------------------------------------

/** An ended ask as the feed keeps it: the outcome, never the reply codes. */
export interface EndedAskRecord {
  askId: string;
  entitlement: string;
  status: Exclude<AskStatus, 'waiting'>;
  /** Without its code. */
  answer?: Omit<AskAnswer, 'code'>;
  question: string;
  options: string[];
  context: Record<string, unknown>;
  endedAt: string;
}

export interface AskFeedEntry extends EndedAskRecord {
  /** 1, 2, 3 … in the order the asks ended; the readers' cursor. */
  seq: number;
}

/** Carried across continue-as-new. */
export interface AskFeedInput {
  entries?: AskFeedEntry[];
  /** The seq the next entry gets. Default 1. */
  nextSeq?: number;
}

/** One page of the feed: `next` is the cursor to pass next time; `gap`: entries after the cursor were dropped unread. */
export interface AskFeedPage {
  entries: AskFeedEntry[];
  next: string;
  gap: boolean;
}

export const askEndedRecordSignal = defineSignal<[EndedAskRecord]>('askEndedRecord');
/** Entries after the cursor (a seq, as a decimal string; "0": from the oldest kept), at most `limit`. */
export const entriesAfterQuery = defineQuery<AskFeedPage, [string, number]>('entriesAfter');

/** One feed per task queue, so that two deployments sharing a namespace keep their own. */
export function askFeedWorkflowId(taskQueue: string): string {
  return `ask-feed/${taskQueue}`;
}

/** A one-way SMS (no reply expected), sent through the SMS queue; its history is the audit record. */
export interface OneWaySmsInput {
  to: string;
  message: string;
  /** Who sent it: the API key's name, or the CLI's user. */
  by: string;
}

// Webhook delivery: the workflow that retries it and the activity that posts it.

export type WebhookType =
  'ask.ended' | 'ask.escalated' | 'ask.opted_out' | 'ask.guess_limit_reached' | 'ask.undelivered';

export interface WebhookDeliveryInput {
  /** The delivery's id, sent as Sms-Ask-Delivery: the same on every retry, for the receiver's dedupe. */
  deliveryId: string;
  type: WebhookType;
  url: string;
  secret?: string;
  secretName?: string;
  /** The name of the Authorization header value the worker adds (webhookAuthorizations); never the value. */
  authorizationName?: string;
  retryForMs: number;
  createdAt: string;
  ask: AskState;
}

/** What one attempt got back. */
export interface WebhookAttempt {
  status: number;
  attempt: number;
}

export interface WebhookDeliveryReport {
  deliveryId: string;
  type: WebhookType;
  /** The URL without its query, which may hold a token. */
  target: string;
  outcome: 'delivered' | 'gave_up';
  attempts?: number;
  /** `HTTP 200`, `HTTP 500`, `no response: ECONNREFUSED` … */
  lastStatus: string;
  at: string;
}

/** The receiver's URL as logs and event logs show it: scheme, host and path only. */
export function webhookTarget(url: string): string {
  return url.replace(/[?#].*$/s, '');
}

// The activities' inputs and results, and the activities as the workflows call them. The
// activity factories are typed by these interfaces, so the two sides cannot drift apart.

export interface RegisterAndAskInput {
  /** The task queue of the ask and recipient workflows (this activity runs on the SMS task queue). */
  taskQueue: string;
  recipientWorkflowId: string;
  phone: string;
  registration: Omit<Registration, 'codeMode' | 'codeLength' | 'rules'>;
  /** A line before the question: an escalation tier's message. */
  lead?: string;
  /** The ask's deadline: with End User Messaging, the SMS's time to live ends there. */
  deadline?: string;
}

/** The phone's codes, and how its question SMS went: sent, or refused by SNS for good. */
export interface RegisteredAndAsked {
  codes: OptionCode[];
  sent?: SentSms;
  sendError?: string;
  /** The refusal's code (the failure type), which tells a refusal of the phone from the deployment's. */
  sendErrorCode?: string;
}

export interface FeedbackInput {
  to: string;
  kind: FeedbackKind;
  values: Record<string, string>;
  /** Segments the ask has room for; a longer rendering is not sent. Default: no limit but the SMS cap. */
  maxSegments?: number;
  /** The ask it is about, for its delivery events. */
  askId?: string;
}

/** A question or reminder SMS of an ask. */
export interface AskSmsInput {
  to: string;
  message: string;
  /** The ask it is about, and which it is, for its delivery events. */
  askId?: string;
  kind?: 'question' | 'reminder';
  /** The ask's deadline: with End User Messaging, the SMS's time to live ends there. */
  deadline?: string;
}

/** How a feedback SMS went: `tooLong` is its segments when it was longer than the ask had room for. */
export interface FeedbackSent {
  sent: boolean;
  messageId?: string;
  segments?: number;
  tooLong?: number;
}

export interface PollInboundInput {
  queueUrl: string;
  /** Return after this long, so the workflow can keep its history short. */
  leaseMs: number;
}

export interface PollStats {
  received: number;
  routed: number;
  /** Of the routed, End User Messaging delivery events (the rest are replies). */
  deliveryEvents?: number;
  /** When the last of them came (ISO 8601): `doctor` tells from it whether events arrive. */
  lastDeliveryEventAt?: string;
  bad: number;
  /** Replies Temporal did not take; they return to the queue after its visibility timeout. */
  failed: number;
  /** Routed replies whose delete failed; they come back, and dedupe absorbs the second delivery. */
  deleteFailed: number;
  /** Times the poller stopped receiving because Temporal refused replies. */
  temporalPauses: number;
  /** Replies whose routing was cut short as the poller stopped; they come back after the visibility timeout. */
  returned: number;
  /** Replies kept on the queue because their phone's recipient workflow is gone while asks list the phone. */
  held: number;
}

/** The ask workflow's signature, by name: activities and the router do not import workflow code. */
export type AskWorkflow = (request: AskWorkflowInput) => Promise<AskState>;

/**
 * A notice sent as a local activity. `deferred`: the worker's share of the publish rate is used up,
 * send it the usual way. `again`: this worker sent it already (the task ran twice), and not now.
 */
export type NoticeSent = FeedbackSent & { deferred?: boolean; again?: boolean };

/** The main task queue's activities, as the workflows see them through proxyActivities. */
export interface MainActivities {
  sendNoticeNow(input: FeedbackInput): Promise<NoticeSent>;
  pollInbound(input: PollInboundInput): Promise<PollStats>;
  validateAsk(request: AskRequest): Promise<NormalizedAsk>;
  isPhoneOptedOut(input: { phone: string }): Promise<boolean>;
  deliverWebhook(input: WebhookDeliveryInput): Promise<WebhookAttempt>;
  recordAskEnded(input: { taskQueue: string; record: EndedAskRecord }): Promise<void>;
}

/** The SMS task queue's activities. */
export interface SmsActivities {
  registerAndAsk(input: RegisterAndAskInput): Promise<RegisteredAndAsked>;
  renewCodes(input: RegisterAndAskInput): Promise<OptionCode[]>;
  sendSms(input: AskSmsInput): Promise<SentSms>;
  sendFeedback(input: FeedbackInput): Promise<FeedbackSent>;
  sendOneWaySms(input: OneWaySmsInput): Promise<SentSms>;
}
