/**
 * The custom search attributes that back the pending-approvals listing. Visibility is eventually
 * consistent, so only listings read them; reply routing never does.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import type { SearchAttributePair } from '@temporalio/common';
import type { AskInput, AskState, RecipientState } from './definitions';

export const askSearchAttributes = {
  entitlement: defineSearchAttributeKey('SmsAskEntitlement', SearchAttributeType.KEYWORD),
  incident: defineSearchAttributeKey('SmsAskIncident', SearchAttributeType.KEYWORD),
  recipients: defineSearchAttributeKey('SmsAskRecipients', SearchAttributeType.KEYWORD_LIST),
  deadline: defineSearchAttributeKey('SmsAskDeadline', SearchAttributeType.DATETIME),
  tier: defineSearchAttributeKey('SmsAskTier', SearchAttributeType.INT),
  remindersSent: defineSearchAttributeKey('SmsAskRemindersSent', SearchAttributeType.INT),
  policy: defineSearchAttributeKey('SmsAskPolicy', SearchAttributeType.KEYWORD),
  /** Recipients whose question never reached the phone: refused at send, or a delivery event said so. */
  undelivered: defineSearchAttributeKey('SmsAskUndelivered', SearchAttributeType.KEYWORD_LIST),
} as const;

export const SEARCH_ATTRIBUTE_KEYS = Object.values(askSearchAttributes);

/** The incident an ask belongs to: `incident` or `incidentId` in its context, else XSOAR's GUID@incident|task. */
export function incidentOf(state: Pick<AskState, 'entitlement' | 'context'>): string | undefined {
  const given = state.context.incident ?? state.context.incidentId;
  if (typeof given === 'string' || typeof given === 'number') return String(given);
  return /^[^@]+@([^|]+)\|/.exec(state.entitlement)?.[1];
}

/** What the search attributes show of an ask: its state, or at the start, what it will start as. */
export type AskListing = Pick<
  AskState,
  'entitlement' | 'context' | 'deadline' | 'tier' | 'remindersSent' | 'policyName'
> & {
  recipients: readonly Pick<RecipientState, 'phone' | 'sendError' | 'delivery'>[];
};

/** Whether a recipient's question never reached the phone: SNS or End User Messaging refused it, or its delivery failed. */
export function isUndelivered(r: Pick<RecipientState, 'sendError' | 'delivery'>): boolean {
  return r.sendError !== undefined || r.delivery?.status === 'undelivered';
}

/**
 * The search attribute values of an ask; upserted whenever its tier, reminders or deadline change,
 * or a question turns out undelivered (which stays so: the list only grows, and is left out while empty).
 */
export function askSearchAttributePairs(state: AskListing): SearchAttributePair[] {
  const incident = incidentOf(state);
  const undelivered = state.recipients.filter(isUndelivered).map((r) => r.phone);
  return [
    { key: askSearchAttributes.entitlement, value: state.entitlement },
    ...(incident === undefined ? [] : [{ key: askSearchAttributes.incident, value: incident }]),
    { key: askSearchAttributes.recipients, value: state.recipients.map((r) => r.phone) },
    { key: askSearchAttributes.deadline, value: new Date(state.deadline) },
    { key: askSearchAttributes.tier, value: state.tier },
    { key: askSearchAttributes.remindersSent, value: state.remindersSent },
    { key: askSearchAttributes.policy, value: state.policyName },
    ...(undelivered.length === 0 ? [] : [{ key: askSearchAttributes.undelivered, value: undelivered }]),
  ];
}

/**
 * The values an ask starts with, set by the client that starts it: `pending` then lists the ask
 * before its first workflow task runs. The workflow upserts its own as soon as it runs.
 */
export function initialAskSearchAttributePairs(input: AskInput, now: Date): SearchAttributePair[] {
  return askSearchAttributePairs({
    ...input,
    recipients: input.recipients.map((phone) => ({ phone })),
    deadline: new Date(now.getTime() + input.policy.timeout).toISOString(),
    tier: 0,
    remindersSent: 0,
  });
}
