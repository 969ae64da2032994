/** Names, ARNs and policies of the inbound resources, shared by `setup` and `doctor`. */
import type { Settings } from '../config';
import { SETTINGS_ENV } from '../config';

export const DEFAULT_INBOUND_NAME = 'sms-ask-inbound';
export const QUEUE_POLICY_SID = 'AllowInboundSmsTopic';
export const QUEUE_DENY_SID = 'DenySendButInboundTopic';
/** AWS End User Messaging SMS, the service that publishes two-way replies to the topic. */
export const SMS_SERVICE_PRINCIPAL = 'sms-voice.amazonaws.com';
export const TOPIC_POLICY_SIDS = {
  allowSms: 'AllowTwoWaySmsToPublish',
  allowBridge: 'AllowReplyBridgeToPublish',
  denyOthers: 'DenyPublishButTwoWaySms',
} as const;

/** What `setup` creates or reconciles. */
export interface SetupTarget {
  queueName: string;
  dlqName: string;
  topicName: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /** An IAM role that may publish replies to the topic besides the SMS service. */
  bridgeRoleArn?: string;
  /** With `smsSender: end-user-messaging`: the configuration set and two-way SMS, too. */
  endUserMessaging?: EndUserMessagingTarget;
}

/** What `setup` reconciles on End User Messaging. */
export interface EndUserMessagingTarget {
  /** Pool or phone number: ID, ARN or E.164 number. */
  originationIdentity: string;
  /** Name or ARN. */
  configurationSet: string;
  /** An IAM role End User Messaging assumes to publish replies; without one, the topic policy lets it. */
  twoWayChannelRoleArn?: string;
}

/** The last path segment of a queue URL, or the name itself. */
export function queueNameOf(urlOrName: string): string {
  return urlOrName.replace(/\/+$/, '').split('/').pop() ?? urlOrName;
}

/** arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, split; undefined when it is not one. */
export function parseArn(
  arn: string,
): { partition: string; service: string; region: string; accountId: string; resource: string } | undefined {
  const [prefix, partition, service, region, accountId, ...rest] = arn.split(':');
  if (
    prefix !== 'arn' ||
    !partition ||
    !service ||
    region === undefined ||
    accountId === undefined ||
    rest.length === 0
  )
    return undefined;
  return { partition, service, region, accountId, resource: rest.join(':') };
}

/** Names from the settings: the configured queue, topic and DLQ, or sms-ask's defaults; `overrides` win. */
export function setupTargetFrom(
  settings: Settings,
  overrides: Partial<Pick<SetupTarget, 'queueName' | 'topicName'>> & { twoWayChannelRoleArn?: string } = {},
): SetupTarget {
  const originationIdentity = settings.originationIdentity ?? settings.originationNumber;
  if (settings.smsSender === 'end-user-messaging' && originationIdentity === undefined)
    throw new Error(
      `${SETTINGS_ENV.smsSender}=end-user-messaging needs the pool or phone number replies come to: set ${SETTINGS_ENV.originationIdentity} (pool-…, phone-…, an ARN or +E.164), then run setup again`,
    );
  const queueName = overrides.queueName ?? (settings.queueUrl ? queueNameOf(settings.queueUrl) : DEFAULT_INBOUND_NAME);
  const topicName =
    overrides.topicName ??
    (settings.inboundTopicArn
      ? (parseArn(settings.inboundTopicArn)?.resource ?? DEFAULT_INBOUND_NAME)
      : DEFAULT_INBOUND_NAME);
  return {
    queueName,
    topicName,
    dlqName: settings.dlq ? queueNameOf(settings.dlq) : `${queueName}-dlq`,
    visibilityTimeoutSeconds: settings.queueVisibilityTimeoutSeconds,
    maxReceiveCount: settings.maxReceiveCount,
    ...(settings.inboundBridgeRoleArn && { bridgeRoleArn: settings.inboundBridgeRoleArn }),
    ...(settings.smsSender === 'end-user-messaging' &&
      originationIdentity !== undefined && {
        endUserMessaging: {
          originationIdentity,
          configurationSet: settings.configurationSet,
          ...(overrides.twoWayChannelRoleArn && { twoWayChannelRoleArn: overrides.twoWayChannelRoleArn }),
        },
      }),
  };
}

export interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement?: PolicyStatement[] | PolicyStatement;
}

/** The statement that lets the topic, and only it, send to the queue. */
export function queuePolicyStatement(queueArn: string, topicArn: string): PolicyStatement {
  return {
    Sid: QUEUE_POLICY_SID,
    Effect: 'Allow',
    Principal: { Service: 'sns.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: queueArn,
    Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
  };
}

export function parsePolicy(policy: string | undefined): PolicyDocument | undefined {
  if (!policy) return undefined;
  try {
    return JSON.parse(policy) as PolicyDocument;
  } catch {
    return undefined;
  }
}

const statementsOf = (policy: PolicyDocument | undefined): PolicyStatement[] =>
  policy?.Statement === undefined ? [] : Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

function matchesWildcard(pattern: unknown, value: string): boolean {
  if (typeof pattern !== 'string') return false;
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(value);
}

function allowsSnsService(principal: unknown): boolean {
  if (principal === '*') return true;
  if (principal && typeof principal === 'object') {
    const p = principal as Record<string, unknown>;
    return asList(p.Service).includes('sns.amazonaws.com') || asList(p.AWS).includes('*');
  }
  return false;
}

/** The topic ARN a statement's condition limits the sender to; '*' when it has no such condition. */
function sourceArnsOf(statement: PolicyStatement): unknown[] {
  const conditions = statement.Condition ?? {};
  const found = ['ArnEquals', 'ArnLike', 'StringEquals', 'StringLike'].flatMap((op) => {
    const block = conditions[op] ?? {};
    const key = Object.keys(block).find((k) => k.toLowerCase() === 'aws:sourcearn');
    return key ? asList(block[key]) : [];
  });
  return found.length > 0 ? found : ['*'];
}

/**
 * Whether the queue policy lets SNS deliver from `topicArn` to `queueArn`: an Allow for
 * sns.amazonaws.com and sqs:SendMessage on the queue, with a SourceArn that matches the topic,
 * and no Deny that matches as well.
 */
export function queuePolicyAllowsTopic(
  policy: PolicyDocument | undefined,
  queueArn: string,
  topicArn: string,
): boolean {
  const matches = (s: PolicyStatement) =>
    allowsSnsService(s.Principal) &&
    asList(s.Action).some((a) => matchesWildcard(a, 'sqs:SendMessage')) &&
    (s.Resource === undefined || asList(s.Resource).some((r) => matchesWildcard(r, queueArn))) &&
    sourceArnsOf(s).some((arn) => matchesWildcard(arn, topicArn));
  // A Deny that excepts the topic (as sms-ask's own does) does not apply to its deliveries.
  const exceptsTopic = (s: PolicyStatement) =>
    ['ArnNotEquals', 'ArnNotLike', 'StringNotEquals', 'StringNotLike'].some((op) => {
      const block = s.Condition?.[op] ?? {};
      const key = Object.keys(block).find((k) => k.toLowerCase() === 'aws:sourcearn');
      return key !== undefined && asList(block[key]).some((arn) => matchesWildcard(arn, topicArn));
    });
  const statements = statementsOf(policy);
  return (
    statements.some((s) => s.Effect === 'Allow' && matches(s)) &&
    !statements.some((s) => s.Effect === 'Deny' && matches(s) && !exceptsTopic(s))
  );
}

/**
 * Denies sqs:SendMessage to every writer but the topic (and the bridge role): without it, any
 * identity of the account whose IAM policy allows sqs:SendMessage could write a reply. A negated
 * condition on a key the request lacks holds, so a direct writer (no aws:SourceArn) is denied.
 */
export function queueDenyStatement(queueArn: string, topicArn: string, bridgeRoleArn?: string): PolicyStatement {
  return {
    Sid: QUEUE_DENY_SID,
    Effect: 'Deny',
    Principal: '*',
    Action: 'sqs:SendMessage',
    Resource: queueArn,
    Condition: {
      ArnNotEquals: { 'aws:SourceArn': topicArn, ...(bridgeRoleArn ? { 'aws:PrincipalArn': bridgeRoleArn } : {}) },
    },
  };
}

/** The policy with sms-ask's statements added or replaced; the owner's other statements are kept. */
export function withQueuePolicyStatement(
  policy: PolicyDocument | undefined,
  queueArn: string,
  topicArn: string,
  bridgeRoleArn?: string,
): PolicyDocument {
  const others = statementsOf(policy).filter((s) => s.Sid !== QUEUE_POLICY_SID && s.Sid !== QUEUE_DENY_SID);
  return {
    Version: policy?.Version ?? '2012-10-17',
    Statement: [
      ...others,
      queuePolicyStatement(queueArn, topicArn),
      queueDenyStatement(queueArn, topicArn, bridgeRoleArn),
    ],
  };
}

/**
 * Why a writer other than the topic (and the bridge role) could send to the queue, or undefined
 * when a Deny of sqs:SendMessage to everyone excepts only those.
 */
export function queuePolicyOpenness(
  policy: PolicyDocument | undefined,
  queueArn: string,
  topicArn: string,
  bridgeRoleArn?: string,
): string | undefined {
  const guarded = statementsOf(policy).some((s) => {
    if (s.Effect !== 'Deny' || !isEveryone(s.Principal)) return false;
    if (!asList(s.Action).some((a) => matchesWildcard(a, 'sqs:SendMessage'))) return false;
    if (s.Resource !== undefined && !asList(s.Resource).some((r) => matchesWildcard(r, queueArn))) return false;
    const conditions = Object.entries(s.Condition ?? {});
    if (conditions.length !== 1 || conditions[0]![0] !== 'ArnNotEquals') return false;
    const keys = Object.entries(conditions[0]![1]).map(([key, value]) => [key.toLowerCase(), asList(value)] as const);
    const only = (key: string, value: string | undefined) => {
      const found = keys.find(([k]) => k === key);
      return value === undefined
        ? found === undefined
        : found !== undefined && found[1].length === 1 && found[1][0] === value;
    };
    return (
      keys.length === (bridgeRoleArn ? 2 : 1) &&
      only('aws:sourcearn', topicArn) &&
      only('aws:principalarn', bridgeRoleArn)
    );
  });
  if (guarded) return undefined;
  return `the queue policy does not deny sqs:SendMessage to writers other than ${topicArn}${bridgeRoleArn ? ` and ${bridgeRoleArn}` : ''}: any identity of the account allowed sqs:SendMessage can write replies`;
}

/**
 * The inbound topic's statements: the SMS service may publish (for this account only), so may the
 * bridge role when there is one, and everyone else is denied, since without an explicit Deny any
 * identity in the account whose IAM policy allows sns:Publish could write a reply.
 */
export function topicPolicyStatements(topicArn: string, accountId: string, bridgeRoleArn?: string): PolicyStatement[] {
  return [
    {
      Sid: TOPIC_POLICY_SIDS.allowSms,
      Effect: 'Allow',
      Principal: { Service: SMS_SERVICE_PRINCIPAL },
      Action: 'sns:Publish',
      Resource: topicArn,
      Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
    },
    ...(bridgeRoleArn
      ? [
          {
            Sid: TOPIC_POLICY_SIDS.allowBridge,
            Effect: 'Allow',
            Principal: { AWS: bridgeRoleArn },
            Action: 'sns:Publish',
            Resource: topicArn,
          },
        ]
      : []),
    {
      Sid: TOPIC_POLICY_SIDS.denyOthers,
      Effect: 'Deny',
      Principal: '*',
      Action: 'sns:Publish',
      Resource: topicArn,
      // Both must hold for the Deny to apply: the caller is not the SMS service, and not the bridge.
      Condition: {
        StringNotEquals: { 'aws:PrincipalServiceName': SMS_SERVICE_PRINCIPAL },
        ...(bridgeRoleArn ? { ArnNotEquals: { 'aws:PrincipalArn': bridgeRoleArn } } : {}),
      },
    },
  ];
}

/** The topic policy with sms-ask's statements added or replaced; the owner's other statements are kept. */
export function withTopicPolicyStatements(
  policy: PolicyDocument | undefined,
  topicArn: string,
  accountId: string,
  bridgeRoleArn?: string,
): PolicyDocument {
  const ours = new Set<string>(Object.values(TOPIC_POLICY_SIDS));
  const others = statementsOf(policy).filter((s) => s.Sid === undefined || !ours.has(s.Sid));
  return {
    Version: policy?.Version ?? '2012-10-17',
    Statement: [...others, ...topicPolicyStatements(topicArn, accountId, bridgeRoleArn)],
  };
}

const isEveryone = (principal: unknown) =>
  principal === '*' ||
  (typeof principal === 'object' &&
    principal !== null &&
    asList((principal as Record<string, unknown>).AWS).includes('*'));
const publishes = (s: PolicyStatement, topicArn: string) =>
  asList(s.Action).some((a) => matchesWildcard(a, 'sns:Publish')) &&
  (s.Resource === undefined || asList(s.Resource).some((r) => matchesWildcard(r, topicArn)));

/**
 * Whether the topic policy lets AWS End User Messaging SMS publish to the topic: two-way replies
 * and the configuration set's events both come from sms-voice.amazonaws.com, and need an Allow of
 * sns:Publish for it (unless a two-way channel role publishes instead).
 */
export function topicPolicyAllowsSmsService(policy: PolicyDocument | undefined, topicArn: string): boolean {
  return statementsOf(policy).some(
    (s) =>
      s.Effect === 'Allow' &&
      (s.Principal === '*' ||
        (typeof s.Principal === 'object' &&
          s.Principal !== null &&
          asList((s.Principal as Record<string, unknown>).Service).includes(SMS_SERVICE_PRINCIPAL))) &&
      publishes(s, topicArn),
  );
}

/**
 * Why someone other than the SMS service (and the bridge role) could publish a reply to the topic,
 * or undefined when the policy denies them: a Deny of sns:Publish to everyone whose conditions
 * except only the SMS service and, if given, the bridge role.
 */
export function topicPolicyOpenness(
  policy: PolicyDocument | undefined,
  topicArn: string,
  bridgeRoleArn?: string,
): string | undefined {
  const statements = statementsOf(policy);
  const openAllow = statements.find(
    (s) => s.Effect === 'Allow' && isEveryone(s.Principal) && publishes(s, topicArn) && s.Condition === undefined,
  );
  const guarded = statements.some((s) => {
    if (s.Effect !== 'Deny' || !isEveryone(s.Principal) || !publishes(s, topicArn)) return false;
    const conditions = Object.entries(s.Condition ?? {});
    const exceptions = conditions.flatMap(([operator, block]) =>
      Object.entries(block).map(([key, value]) => ({ operator, key: key.toLowerCase(), values: asList(value) })),
    );
    const exceptsService = exceptions.some(
      (e) =>
        e.operator === 'StringNotEquals' &&
        e.key === 'aws:principalservicename' &&
        e.values.length === 1 &&
        e.values[0] === SMS_SERVICE_PRINCIPAL,
    );
    const others = exceptions.filter((e) => e.key !== 'aws:principalservicename');
    const exceptsOnlyBridge = others.every(
      (e) =>
        bridgeRoleArn !== undefined &&
        e.operator === 'ArnNotEquals' &&
        e.key === 'aws:principalarn' &&
        e.values.length === 1 &&
        e.values[0] === bridgeRoleArn,
    );
    return exceptsService && exceptsOnlyBridge;
  });
  if (guarded) return undefined;
  if (openAllow)
    return `the topic policy lets anyone publish (statement ${openAllow.Sid ?? 'without a Sid'} allows sns:Publish to "*" with no condition): anyone can forge replies`;
  return `the topic policy does not deny sns:Publish to callers other than ${SMS_SERVICE_PRINCIPAL}${bridgeRoleArn ? ` and ${bridgeRoleArn}` : ''}: any identity of the account allowed sns:Publish can forge replies`;
}

/** True when an AWS SDK error says the thing does not exist. */
export function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string; Code?: string } | undefined)?.name ?? '';
  return /NotFound|NonExistentQueue|QueueDoesNotExist/i.test(name);
}
