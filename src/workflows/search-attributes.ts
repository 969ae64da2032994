/**
 * The custom search attributes that back the pending-approvals listing. Visibility is eventually
 * consistent, so only listings read them; reply routing never does.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import type { SearchAttributePair } from '@temporalio/common';
import type { AskState } from './definitions';

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

/** The search attribute values of an ask; upserted whenever its tier, reminders or deadline change. */
export function askSearchAttributePairs(state: AskState): SearchAttributePair[] {
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
