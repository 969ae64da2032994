/** The IAM documents `setup` prints, scoped to the real ARNs, and the steps it cannot do. */
import type { Settings } from '../config';
import { SETTINGS_ENV } from '../config';
import type { InboundResources } from './reconcile';
import type { PolicyDocument, PolicyStatement } from './resources';

/**
 * What the End User Messaging path calls: SendTextMessage is authorized on each resource the send
 * names (the origination identity, the configuration set and, when set, the protect configuration;
 * resource types in the Service Authorization Reference for sms-voice); doctor's Describe* list the
 * account's numbers and pools and read account-wide attributes, so they take "*".
 */
function endUserMessagingStatements(eum: EndUserMessagingArns): PolicyStatement[] {
  return [
    {
      Sid: 'SendTextMessages',
      Effect: 'Allow',
      Action: 'sms-voice:SendTextMessage',
      Resource: [
        eum.originationIdentityArn,
        eum.configurationSetArn,
        ...(eum.protectConfigurationArn ? [eum.protectConfigurationArn] : []),
      ],
    },
    {
      Sid: 'ReadEndUserMessaging',
      Effect: 'Allow',
      Action: [
        'sms-voice:DescribePhoneNumbers',
        'sms-voice:DescribePools',
        'sms-voice:DescribeConfigurationSets',
        'sms-voice:DescribeAccountAttributes',
        'sms-voice:DescribeSpendLimits',
      ],
      Resource: '*',
    },
  ];
}

export interface EndUserMessagingArns {
  originationIdentityArn: string;
  configurationSetArn: string;
  protectConfigurationArn?: string;
}

/** The protect configuration's ARN, from its ID or ARN. */
export function protectConfigurationArnOf(
  r: Pick<InboundResources, 'partition' | 'region' | 'accountId'>,
  idOrArn: string,
): string {
  return idOrArn.startsWith('arn:')
    ? idOrArn
    : `arn:${r.partition}:sms-voice:${r.region}:${r.accountId}:protect-configuration/${idOrArn}`;
}

/**
 * Every AWS action sms-ask's worker, `test` and `doctor` call, by resource; with `eum` (smsSender
 * end-user-messaging), End User Messaging's too.
 */
export function workerIamPolicy(
  r: Pick<InboundResources, 'queueArn' | 'dlqArn' | 'topicArn'>,
  eum?: EndUserMessagingArns,
): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      ...(eum ? endUserMessagingStatements(eum) : []),
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

/**
 * What setup cannot do for End User Messaging, where it turns on two-way SMS itself: what AWS must
 * approve. `sms-ask doctor` reports where each stands.
 */
export function endUserMessagingSteps(r: Pick<InboundResources, 'region'>): string[] {
  return [
    `AWS must approve these; \`sms-ask doctor\` shows where each stands (region ${r.region}):`,
    '  - Registration: a US 10DLC number sends only once its brand and campaign are registered; a US toll-free number only once its registration is approved (up to 15 business days). Register in AWS End User Messaging SMS → Registrations.',
    '  - Sandbox: a new account sends only to verified destination numbers until you request production access (End User Messaging SMS console → Account settings).',
    '  - Spend limit: the monthly text spend limit stops every send once reached; request an increase through a support case, then raise it.',
  ];
}
