/**
 * `setup` as plan → apply: read what exists, list the changes that make it match the target, and
 * make only those. Running it again on a reconciled account finds nothing to do.
 */
import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { STSClient } from '@aws-sdk/client-sts';
import type { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { Client } from '@temporalio/client';
import { registerSearchAttributes } from '../temporal/search-attribute-registration';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes';
import {
  applyEndUserMessaging,
  configurationSetNameOf,
  describeEndUserMessaging,
  planEndUserMessaging,
} from './end-user-messaging';
import type { EndUserMessagingPlan, EumStepResource } from './end-user-messaging';
import {
  SMS_SERVICE_PRINCIPAL,
  isNotFound,
  parseArn,
  parsePolicy,
  queuePolicyAllowsTopic,
  queuePolicyOpenness,
  topicPolicyAllowsSmsService,
  topicPolicyOpenness,
  withQueuePolicyStatement,
  withTopicPolicyStatements,
} from './resources';
import type { SetupTarget } from './resources';

export interface SetupClients {
  sns: SNSClient;
  sqs: SQSClient;
  sts: STSClient;
  /** End User Messaging SMS: needed when the target has `endUserMessaging`. */
  smsVoice?: PinpointSMSVoiceV2Client;
  /** When given, setup also registers sms-ask's search attributes in its namespace. */
  temporal?: Client;
}

export type StepAction = 'create' | 'update' | 'none';

export interface SetupStep {
  resource: 'dlq' | 'queue' | 'topic' | 'subscription' | EumStepResource | 'search-attributes';
  action: StepAction;
  /** ARN or name of the resource. */
  target: string;
  /** What changes, one item per attribute; for `none`, what was checked. */
  changes: string[];
}

export interface InboundResources {
  accountId: string;
  partition: string;
  region: string;
  queueName: string;
  queueArn: string;
  /** Known once the queue exists. */
  queueUrl?: string;
  dlqArn: string;
  dlqUrl?: string;
  topicArn: string;
  subscriptionArn?: string;
  /** With End User Messaging: what the worker sends through (its IAM policy names them). */
  endUserMessaging?: { originationIdentityArn: string; configurationSetArn: string };
}

/** The resources once setup has made them: every URL and ARN known. */
export type AppliedResources = InboundResources &
  Required<Pick<InboundResources, 'queueUrl' | 'dlqUrl' | 'subscriptionArn'>>;

export interface SetupPlan {
  target: SetupTarget;
  resources: InboundResources;
  steps: SetupStep[];
  /** Attributes the queue must end up with (only those that differ are sent). */
  queueAttributes: Record<string, string>;
  queueAttributeChanges: Record<string, string>;
  missingSearchAttributes: string[];
  endUserMessaging?: EndUserMessagingPlan;
}

interface QueueState {
  url: string;
  attributes: Record<string, string>;
}

async function findQueue(sqs: SQSClient, name: string): Promise<QueueState | undefined> {
  let url: string | undefined;
  try {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  if (!url) return undefined;
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  return { url, attributes: out.Attributes ?? {} };
}

/** The topic's attributes, or undefined when there is no such topic. */
async function findTopic(sns: SNSClient, topicArn: string): Promise<Record<string, string> | undefined> {
  try {
    return (await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }))).Attributes ?? {};
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The topic's subscription that delivers to `queueArn`, if any. */
export async function findQueueSubscription(
  sns: SNSClient,
  topicArn: string,
  queueArn: string,
): Promise<{ arn: string } | undefined> {
  let NextToken: string | undefined;
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
    const found = page.Subscriptions?.find((s) => s.Protocol === 'sqs' && s.Endpoint === queueArn);
    if (found?.SubscriptionArn) return { arn: found.SubscriptionArn };
    NextToken = page.NextToken;
  } while (NextToken);
  return undefined;
}

function sameRedrive(current: string | undefined, dlqArn: string, maxReceiveCount: number): boolean {
  const parsed = parsePolicy(current) as
    { deadLetterTargetArn?: string; maxReceiveCount?: number | string } | undefined;
  return parsed?.deadLetterTargetArn === dlqArn && Number(parsed.maxReceiveCount) === maxReceiveCount;
}

/** Reads the account and lists what `applySetup` would change. Changes nothing. */
export async function planSetup(clients: SetupClients, target: SetupTarget): Promise<SetupPlan> {
  const { sns, sqs, sts } = clients;
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  const accountId = identity.Account ?? '';
  const partition = parseArn(identity.Arn ?? '')?.partition ?? 'aws';
  const region = await sqs.config.region();
  const arn = (service: string, name: string) => `arn:${partition}:${service}:${region}:${accountId}:${name}`;
  const topicArn = arn('sns', target.topicName);

  const [dlq, queue, topic] = await Promise.all([
    findQueue(sqs, target.dlqName),
    findQueue(sqs, target.queueName),
    findTopic(sns, topicArn),
  ]);
  const topicFound = topic !== undefined;
  const dlqArn = dlq?.attributes.QueueArn ?? arn('sqs', target.dlqName);
  const queueArn = queue?.attributes.QueueArn ?? arn('sqs', target.queueName);
  const steps: SetupStep[] = [];

  steps.push(
    dlq
      ? { resource: 'dlq', action: 'none', target: dlqArn, changes: ['exists'] }
      : { resource: 'dlq', action: 'create', target: dlqArn, changes: ['create the dead-letter queue'] },
  );

  const current = queue?.attributes ?? {};
  const policy = parsePolicy(current.Policy);
  const queueAttributes: Record<string, string> = {
    VisibilityTimeout: String(target.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: target.maxReceiveCount }),
    Policy: JSON.stringify(withQueuePolicyStatement(policy, queueArn, topicArn, target.bridgeRoleArn)),
  };
  const queueAttributeChanges: Record<string, string> = {};
  const queueChanges: string[] = [];
  if (current.VisibilityTimeout !== queueAttributes.VisibilityTimeout) {
    queueAttributeChanges.VisibilityTimeout = queueAttributes.VisibilityTimeout!;
    queueChanges.push(
      `VisibilityTimeout ${current.VisibilityTimeout ?? '(none)'} → ${target.visibilityTimeoutSeconds} s`,
    );
  }
  if (!sameRedrive(current.RedrivePolicy, dlqArn, target.maxReceiveCount)) {
    queueAttributeChanges.RedrivePolicy = queueAttributes.RedrivePolicy!;
    queueChanges.push(`RedrivePolicy → ${target.dlqName}, maxReceiveCount ${target.maxReceiveCount}`);
  }
  if (
    !queuePolicyAllowsTopic(policy, queueArn, topicArn) ||
    queuePolicyOpenness(policy, queueArn, topicArn, target.bridgeRoleArn)
  ) {
    queueAttributeChanges.Policy = queueAttributes.Policy!;
    queueChanges.push(
      `Policy: allow sqs:SendMessage from sns.amazonaws.com where aws:SourceArn is ${topicArn}; deny it to every other writer${target.bridgeRoleArn ? ` but ${target.bridgeRoleArn}` : ''}`,
    );
  }
  if (!queue)
    steps.push({
      resource: 'queue',
      action: 'create',
      target: queueArn,
      changes: ['create the queue', ...queueChanges],
    });
  else if (queueChanges.length > 0)
    steps.push({ resource: 'queue', action: 'update', target: queueArn, changes: queueChanges });
  else
    steps.push({
      resource: 'queue',
      action: 'none',
      target: queueArn,
      changes: ['visibility timeout, redrive policy and queue policy as wanted'],
    });

  const onlyAws = `Policy: only ${SMS_SERVICE_PRINCIPAL}${target.bridgeRoleArn ? ` and ${target.bridgeRoleArn}` : ''} may publish replies`;
  if (!topicFound)
    steps.push({
      resource: 'topic',
      action: 'create',
      target: topicArn,
      changes: ['create the inbound topic', onlyAws],
    });
  else if (
    topicPolicyOpenness(parsePolicy(topic.Policy), topicArn, target.bridgeRoleArn) ||
    !topicPolicyAllowsSmsService(parsePolicy(topic.Policy), topicArn)
  )
    steps.push({ resource: 'topic', action: 'update', target: topicArn, changes: [onlyAws] });
  else
    steps.push({
      resource: 'topic',
      action: 'none',
      target: topicArn,
      changes: [
        `exists; only ${SMS_SERVICE_PRINCIPAL}${target.bridgeRoleArn ? ` and the bridge role` : ''} may publish`,
      ],
    });

  const subscription = topicFound && queue ? await findQueueSubscription(sns, topicArn, queueArn) : undefined;
  steps.push(
    subscription
      ? {
          resource: 'subscription',
          action: 'none',
          target: subscription.arn,
          changes: ['the topic delivers to the queue'],
        }
      : {
          resource: 'subscription',
          action: 'create',
          target: `${topicArn} → ${queueArn}`,
          changes: ['subscribe the queue to the topic (SNS envelope, not raw delivery)'],
        },
  );

  let endUserMessaging: EndUserMessagingPlan | undefined;
  if (target.endUserMessaging) {
    if (!clients.smsVoice) throw new Error('setup for End User Messaging needs its client (smsVoice)');
    const state = await describeEndUserMessaging(clients.smsVoice, target.endUserMessaging, region);
    const name = configurationSetNameOf(target.endUserMessaging.configurationSet);
    endUserMessaging = planEndUserMessaging(
      state,
      target.endUserMessaging,
      topicArn,
      arn('sms-voice', `configuration-set/${name}`),
    );
    steps.push(...endUserMessaging.steps);
  }

  let missingSearchAttributes: string[] = [];
  if (clients.temporal) {
    const { namespace } = clients.temporal.options;
    const existing =
      (await clients.temporal.connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
    missingSearchAttributes = SEARCH_ATTRIBUTE_KEYS.filter((key) => !(key.name in existing)).map((key) => key.name);
    steps.push(
      missingSearchAttributes.length > 0
        ? {
            resource: 'search-attributes',
            action: 'create',
            target: `namespace ${namespace}`,
            changes: missingSearchAttributes.map((name) => `register ${name}`),
          }
        : {
            resource: 'search-attributes',
            action: 'none',
            target: `namespace ${namespace}`,
            changes: ['all registered'],
          },
    );
  }

  return {
    target,
    resources: {
      accountId,
      partition,
      region,
      queueName: target.queueName,
      queueArn,
      queueUrl: queue?.url,
      dlqArn,
      dlqUrl: dlq?.url,
      topicArn,
      subscriptionArn: subscription?.arn,
      ...(endUserMessaging && {
        endUserMessaging: {
          originationIdentityArn: endUserMessaging.identity.arn,
          configurationSetArn: endUserMessaging.configurationSetArn,
        },
      }),
    },
    steps,
    queueAttributes,
    queueAttributeChanges,
    missingSearchAttributes,
    ...(endUserMessaging && { endUserMessaging }),
  };
}

export const hasChanges = (plan: SetupPlan) => plan.steps.some((step) => step.action !== 'none');

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null || value === '') throw new Error(`AWS returned no ${what}`);
  return value;
}

/** Makes the plan's changes, in dependency order; returns the resources with every URL and ARN known. */
export async function applySetup(clients: SetupClients, plan: SetupPlan): Promise<AppliedResources> {
  const { sns, sqs } = clients;
  const step = (resource: SetupStep['resource']) => plan.steps.find((s) => s.resource === resource)?.action ?? 'none';
  const { target, resources } = plan;

  const dlqUrl =
    step('dlq') === 'create'
      ? required((await sqs.send(new CreateQueueCommand({ QueueName: target.dlqName }))).QueueUrl, 'DLQ URL')
      : required(resources.dlqUrl, 'DLQ URL');

  let queueUrl = resources.queueUrl;
  if (step('queue') === 'create') {
    queueUrl = required(
      (await sqs.send(new CreateQueueCommand({ QueueName: target.queueName, Attributes: plan.queueAttributes })))
        .QueueUrl,
      'queue URL',
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    if (Attributes?.QueueArn !== resources.queueArn)
      throw new Error(`queue ARN ${Attributes?.QueueArn} is not the expected ${resources.queueArn}`);
  } else if (step('queue') === 'update') {
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: plan.queueAttributeChanges }));
  }

  if (step('topic') === 'create') {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: target.topicName }));
    if (TopicArn !== resources.topicArn)
      throw new Error(`topic ARN ${TopicArn} is not the expected ${resources.topicArn}`);
  }
  if (step('topic') !== 'none') {
    // Read again: a new topic comes with SNS's default policy, whose statements are kept.
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: resources.topicArn }));
    const policy = withTopicPolicyStatements(
      parsePolicy(Attributes?.Policy),
      resources.topicArn,
      resources.accountId,
      target.bridgeRoleArn,
    );
    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn: resources.topicArn,
        AttributeName: 'Policy',
        AttributeValue: JSON.stringify(policy),
      }),
    );
  }

  let subscriptionArn = resources.subscriptionArn;
  if (step('subscription') === 'create') {
    const out = await sns.send(
      new SubscribeCommand({
        TopicArn: resources.topicArn,
        Protocol: 'sqs',
        Endpoint: resources.queueArn,
        Attributes: { RawMessageDelivery: 'false' },
        ReturnSubscriptionArn: true,
      }),
    );
    subscriptionArn = out.SubscriptionArn;
  }

  // After the topic policy: End User Messaging publishes its events and replies to the topic.
  let endUserMessaging = resources.endUserMessaging;
  if (plan.endUserMessaging && endUserMessaging) {
    if (!clients.smsVoice) throw new Error('setup for End User Messaging needs its client (smsVoice)');
    const configurationSetArn = await applyEndUserMessaging(clients.smsVoice, plan.endUserMessaging);
    endUserMessaging = { ...endUserMessaging, configurationSetArn };
  }

  if (clients.temporal && step('search-attributes') === 'create') await registerSearchAttributes(clients.temporal);

  return {
    ...resources,
    ...(endUserMessaging && { endUserMessaging }),
    queueUrl: required(queueUrl, 'queue URL'),
    dlqUrl,
    subscriptionArn: required(subscriptionArn, 'subscription ARN'),
  };
}

/** Whether a subscription is still waiting for its endpoint to confirm it. */
export async function subscriptionPending(sns: SNSClient, subscriptionArn: string): Promise<boolean> {
  if (subscriptionArn === 'PendingConfirmation') return true;
  const { Attributes } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }));
  return Attributes?.PendingConfirmation === 'true';
}
