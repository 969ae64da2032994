import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Settings } from '../config';
import { createInboundActivities } from './inbound';
import { createOutboundActivities } from './outbound';

export interface ActivityDeps {
  sns: SNSClient;
  sqs: SQSClient;
  client: Client;
  settings: Settings;
  logger: Logger;
}

/** Every activity of sms-ask, built over injected clients so that tests can swap them. */
export function createActivities(deps: ActivityDeps) {
  return { ...createOutboundActivities(deps), ...createInboundActivities(deps) };
}
