/** The IAM documents `setup` prints, scoped to the real ARNs, and the one step it cannot do. */
import type { Settings } from '../config';
import { SETTINGS_ENV } from '../config';
import type { InboundResources } from './reconcile';
import type { PolicyDocument } from './resources';

/** Every AWS action sms-ask's worker, `test` and `doctor` call, by resource. */
export function workerIamPolicy(r: Pick<InboundResources, 'queueArn' | 'dlqArn' | 'topicArn'>): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      // SMS to a phone number has no resource ARN: "*" is the only possible scope.
      { Sid: 'SendSms', Effect: 'Allow', Action: ['sns:Publish', 'sns:CheckIfPhoneNumberIsOptedOut'], Resource: '*' },
      {
        Sid: 'ReadSmsAccountSettings',
        Effect: 'Allow',
        Action: ['sns:GetSMSAttributes', 'sns:GetSMSSandboxAccountStatus', 'sns:ListOriginationNumbers'],
        Resource: '*',
      },
      // DeleteMessageBatch is authorized by sqs:DeleteMessage; there is no separate batch action.
      {
        Sid: 'PollInboundQueue',
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: r.queueArn,
      },
      {
        Sid: 'InspectDeadLetterQueue',
        Effect: 'Allow',
        Action: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
        Resource: r.dlqArn,
      },
      // Replies come only from AWS's SMS service: the worker itself never writes to the inbound topic.
      { Sid: 'NeverPublishReplies', Effect: 'Deny', Action: 'sns:Publish', Resource: r.topicArn },
      {
        Sid: 'InspectInboundTopic',
        Effect: 'Allow',
        Action: ['sns:GetTopicAttributes', 'sns:ListSubscriptionsByTopic', 'sns:GetSubscriptionAttributes'],
        Resource: [r.topicArn, `${r.topicArn}:*`],
      },
    ],
  };
}

/**
 * Trust policy of the role the worker assumes (SMS_ASK_ROLE_ARN): who may assume it. The principal
 * defaults to this account; narrow it to the worker's own identity (its instance or task role, or user).
 */
export function roleTrustPolicy(
  r: Pick<InboundResources, 'partition' | 'accountId'>,
  externalId?: string,
): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:${r.partition}:iam::${r.accountId}:root` },
        Action: 'sts:AssumeRole',
        ...(externalId ? { Condition: { StringEquals: { 'sts:ExternalId': externalId } } } : {}),
      },
    ],
  };
}

/** What the person running `setup` must still do by hand, with the exact commands. */
export function twoWayChannelSteps(
  r: Pick<InboundResources, 'region' | 'topicArn'>,
  settings: Pick<Settings, 'originationNumber' | 'senderId'>,
): string[] {
  const number = settings.originationNumber ?? '<your two-way number, e.g. +18885550100>';
  return [
    `Point your phone number's two-way channel at ${r.topicArn} (AWS End User Messaging SMS; same region, ${r.region}):`,
    `  aws pinpoint-sms-voice-v2 describe-phone-numbers --region ${r.region} --query "PhoneNumbers[?PhoneNumber=='${number}'].[PhoneNumberId,TwoWayEnabled,TwoWayChannelArn]"`,
    `  aws pinpoint-sms-voice-v2 update-phone-number --region ${r.region} --phone-number-id <PhoneNumberId from above> --two-way-enabled --two-way-channel-arn ${r.topicArn}`,
    `Then set ${SETTINGS_ENV.originationNumber}=${number} so that questions go out from the number people reply to.`,
    'Caveats:',
    '  - Two-way SMS works only with a number that supports it (a US/Canada long code, 10DLC or toll-free number, or a two-way number in the few other countries AWS lists); check the "Supported countries and regions" page of AWS End User Messaging SMS.',
    `  - Never with a sender ID: an alphanumeric sender cannot be replied to${settings.senderId ? ` (${SETTINGS_ENV.senderId} is set: unset it for two-way asks)` : ''}.`,
    '  - The number, the topic and the queue must be in the same region.',
    '  - New accounts are in the SMS sandbox: only verified destination numbers receive SMS until AWS moves the account out.',
  ];
}
