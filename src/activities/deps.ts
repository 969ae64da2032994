import type { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Settings } from '../config';
import type { SmsSpendGuard } from './sms-spend';

/** What every activity factory is built over; injected so that tests can swap the clients. */
export interface ActivityDeps {
  sns: SNSClient;
  sqs: SQSClient;
  /** Only with `smsSender: end-user-messaging`. */
  smsVoice?: PinpointSMSVoiceV2Client;
  client: Client;
  settings: Settings;
  logger: Logger;
  /**
   * The worker's one spend guard, shared by the SMS queue's activities and the notices sent within
   * workflow tasks, so that they charge one lease of the day's budget. Default: one per factory.
   */
  spendGuard?: SmsSpendGuard;
}
