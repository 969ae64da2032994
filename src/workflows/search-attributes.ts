/**
 * The custom search attributes that back the pending-approvals listing. Visibility is eventually
 * consistent, so only listings read them; reply routing never does.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

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
