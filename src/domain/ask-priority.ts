/**
 * How an ask's work is ordered on the task queue when the worker is behind: Temporal's task queue
 * priority, set when the ask starts and inherited by its workflow tasks and activities. Lower keys
 * go first; Temporal's own default is 3. A campaign sent as `bulk` waits behind everything else, so
 * replies to asks already out are routed while it sends.
 */
import { z } from 'zod';

export const ASK_PRIORITIES = ['high', 'normal', 'bulk'] as const;
export type AskPriority = (typeof ASK_PRIORITIES)[number];

export const DEFAULT_ASK_PRIORITY: AskPriority = 'normal';

const PRIORITY_KEYS: Record<AskPriority, number> = { high: 2, normal: 3, bulk: 5 };

/** The queue's poller goes ahead of every ask: a poll lease that ends is taken up again at once. */
export const POLLER_PRIORITY_KEY = 1;

/**
 * Each phone's recipient workflow hands out every ask's codes and routes every reply. It goes
 * ahead of all asks, with the poller: below them, the registration that a question's SMS waits for
 * would queue behind the first workflow tasks of every ask started at once, and the SMS activities
 * holding their slots while they wait would send a few questions a second. Its registrations cannot
 * crowd out replies: they come from the SMS activities, no faster than the publish rate.
 */
export const RECIPIENT_PRIORITY_KEY = POLLER_PRIORITY_KEY;

/**
 * The day's spend workflow leases segments to every SMS activity, a block at a time; behind the
 * asks, each block would hold every SMS of the worker until the backlog drained.
 */
export const DAILY_SPEND_PRIORITY_KEY = POLLER_PRIORITY_KEY;

export const askPrioritySchema = z
  .enum(ASK_PRIORITIES)
  .describe(
    'How this ask is ordered when the worker is behind: high, normal (the default) or bulk. Start a campaign of many asks as bulk, so that replies to asks already out are not held behind it',
  );

export function priorityKeyOf(priority: AskPriority | undefined): number {
  return PRIORITY_KEYS[priority ?? DEFAULT_ASK_PRIORITY];
}
