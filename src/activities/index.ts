import { createAskFeedActivities } from './ask-feed';
import type { MainActivities } from '../workflows/definitions';
import type { ActivityDeps } from './deps';
import { createInboundActivities } from './inbound';
import { createOptOutActivities } from './opt-out';
import { createNoticeActivities, createSmsActivities } from './outbound';
import { createValidationActivities } from './validation';
import { createWebhookActivities } from './webhook';

export type { ActivityDeps };

/** The activities of the main task queue, built over injected clients so that tests can swap them. */
export function createActivities(deps: ActivityDeps): MainActivities {
  return {
    ...createInboundActivities(deps),
    ...createValidationActivities(deps),
    ...createOptOutActivities(deps),
    ...createWebhookActivities(deps),
    ...createAskFeedActivities(deps),
    ...createNoticeActivities(deps),
  };
}

export { createSmsActivities };
