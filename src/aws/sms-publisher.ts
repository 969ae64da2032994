import { CheckIfPhoneNumberIsOptedOutCommand, PublishCommand } from '@aws-sdk/client-sns';
import type { MessageAttributeValue, SNSClient } from '@aws-sdk/client-sns';
import type { Settings } from '../config';
import { assertSmsFits, smsSegmentInfo } from '../domain/sms-text';
import { SmsSendError, classifySnsError } from './sns-errors';

/** What sends the SMS (the smsSender setting). */
export type SmsSenderName = 'sns' | 'end-user-messaging';

export interface SentSms {
  messageId: string;
  segments: number;
  encoding: string;
  /** Absent: SNS. */
  via?: SmsSenderName;
}

type SmsSettings = Pick<Settings, 'smsType' | 'senderId' | 'originationNumber' | 'maxPrice'>;

/** The AWS SDK's longest pause between two tries (its standard and adaptive retry strategies). */
const AWS_MAX_RETRY_DELAY_MS = 20_000;

/**
 * The longest one AWS call can take with these settings, its retries included: every try may
 * spend the connection and the request timeout, and every pause between tries may be 20 s.
 */
export function awsCallWorstCaseMs(
  settings: Pick<Settings, 'awsMaxAttempts' | 'awsRequestTimeoutMs' | 'awsConnectionTimeoutMs'>,
): number {
  const attempts = settings.awsMaxAttempts;
  return (
    attempts * (settings.awsConnectionTimeoutMs + settings.awsRequestTimeoutMs) +
    (attempts - 1) * AWS_MAX_RETRY_DELAY_MS
  );
}

function attributesFor(settings: SmsSettings): Record<string, MessageAttributeValue> {
  const attr = (StringValue: string, DataType = 'String'): MessageAttributeValue => ({ DataType, StringValue });
  return {
    'AWS.SNS.SMS.SMSType': attr(settings.smsType),
    ...(settings.senderId && { 'AWS.SNS.SMS.SenderID': attr(settings.senderId) }),
    ...(settings.originationNumber && { 'AWS.MM.SMS.OriginationNumber': attr(settings.originationNumber) }),
    ...(settings.maxPrice !== undefined && { 'AWS.SNS.SMS.MaxPrice': attr(settings.maxPrice.toFixed(5), 'Number') }),
  };
}

/**
 * Sends one SMS through SNS Publish. Checks the size first, and, when asked, whether the number
 * opted out, since SNS accepts a publish to an opted-out number and then silently drops it.
 */
export async function publishSms(
  sns: SNSClient,
  settings: SmsSettings,
  to: string,
  message: string,
  options: {
    checkOptOut?: boolean;
    /** Ends the AWS call and its retries: the activity's cancellation. */ abortSignal?: AbortSignal;
  } = {},
): Promise<SentSms> {
  assertSmsFits(message);
  const { abortSignal } = options;
  try {
    if (options.checkOptOut) {
      const { isOptedOut } = await sns.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: to }), {
        abortSignal,
      });
      if (isOptedOut) throw Object.assign(new Error('the number has opted out of SMS'), { name: 'OptedOut' });
    }
    const out = await sns.send(
      new PublishCommand({ PhoneNumber: to, Message: message, MessageAttributes: attributesFor(settings) }),
      { abortSignal },
    );
    const info = smsSegmentInfo(message);
    return { messageId: out.MessageId ?? '', segments: info.segments, encoding: info.encoding };
  } catch (err) {
    if (err instanceof SmsSendError) throw err;
    throw classifySnsError(err, to);
  }
}
