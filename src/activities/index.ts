import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Settings } from '../config';
import { createInboundActivities } from './inbound';
import { createRegistrationActivities, createSmsActivities } from './outbound';
import { createValidationActivities } from './validation';

export interface ActivityDeps {
  sns: SNSClient;
  sqs: SQSClient;
  client: Client;
  settings: Settings;
  logger: Logger;
}

/** The activities of the main task queue, built over injected clients so that tests can swap them. */
export function createActivities(deps: ActivityDeps) {
  return { ...createRegistrationActivities(deps), ...createInboundActivities(deps), ...createValidationActivities(deps) };
}

export { createSmsActivities };
