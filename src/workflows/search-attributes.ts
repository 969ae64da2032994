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
  recipients: readonly Pick<RecipientState, 'phone'>[];
};

/** The search attribute values of an ask; upserted whenever its tier, reminders or deadline change. */
export function askSearchAttributePairs(state: AskListing): SearchAttributePair[] {
  const incident = incidentOf(state);
  return [
    { key: askSearchAttributes.entitlement, value: state.entitlement },
    ...(incident === undefined ? [] : [{ key: askSearchAttributes.incident, value: incident }]),
    { key: askSearchAttributes.recipients, value: state.recipients.map((r) => r.phone) },
    { key: askSearchAttributes.deadline, value: new Date(state.deadline) },
    { key: askSearchAttributes.tier, value: state.tier },
    { key: askSearchAttributes.remindersSent, value: state.remindersSent },
    { key: askSearchAttributes.policy, value: state.policyName },
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
