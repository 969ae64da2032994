/**
 * One function per known failure of two-way SMS: each says what it saw and the exact fix.
 * None of them harms a reply: the inbound queue is read through its attributes only, never received.
 */
import {
  GetSMSAttributesCommand,
  GetSMSSandboxAccountStatusCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListOriginationNumbersCommand,
} from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { isAwsCredentialsError } from '../aws/credentials';
import { SETTINGS_ENV } from '../config';
import { parseInboundMessage } from '../domain/inbound-message';
import { normalizeRecipientPhone } from '../domain/phone';
import { maskPhone } from '../domain/phone-mask';
import { findQueueSubscription, subscriptionPending } from '../setup/reconcile';
import {
  QUEUE_DENY_SID,
  SMS_SERVICE_PRINCIPAL,
  TOPIC_POLICY_SIDS,
  parseArn,
  parsePolicy,
  queuePolicyAllowsTopic,
  queuePolicyOpenness,
  topicPolicyOpenness,
} from '../setup/resources';
import { inboundPollerWorkflowId } from '../workflows/definitions';
import type { PollStats } from '../workflows/definitions';
import { askSearchAttributes } from '../workflows/search-attributes';
import { pendingAsksVisibilityQuery } from '../client/sms-ask-client';
import { recipientRuns } from '../inbound/recipient-restore';
import { describeDeployment, readDeploymentReport } from '../temporal/worker-deployment';
import { deploymentNameOf, versioningSupport } from '../worker/versioning';
import type { CheckResult, DoctorContext } from './context';

export type CheckOutcome = Omit<CheckResult, 'name'>;

export interface Check {
  name: string;
  run(ctx: DoctorContext): Promise<CheckOutcome>;
}

const SETUP_FIX = 'run `sms-ask setup` (it reconciles the queue, DLQ, topic, subscription and queue policy)';
/** The poll activity heartbeats every 5 s and times out after 30 s without one. */
const POLLER_HEARTBEAT_STALE_MS = 30_000;
/** AWS's default monthly SMS spend limit, in USD. */
const DEFAULT_SPEND_LIMIT_USD = 1;

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
/**
 * An endpoint that does not implement the action: AWS says InvalidAction; moto answers HTTP 500
 * with an HTML page, which the SDK reports as a deserialization error.
 */
const isUnsupported = (err: unknown) =>
  /NotImplemented|not yet implemented|UnknownOperation|InvalidAction|Deserialization error/i.test(errorText(err));
const unsupportedText = (action: string, err: unknown) =>
  /Deserialization error/i.test(errorText(err))
    ? `${action} is not implemented by this endpoint (it answered HTTP ${(err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? '?'} with a non-AWS body)`
    : `${action} is not available here (${errorText(err)})`;

export const credentialsCheck: Check = {
  name: 'credentials',
  async run(ctx) {
    try {
      await ctx.aws.credentials();
      const identity = await ctx.identity();
      return { status: 'pass', saw: `${identity.Arn} (account ${identity.Account}) from ${ctx.aws.credentialSource}` };
    } catch (err) {
      return {
        status: 'fail',
        saw: isAwsCredentialsError(err)
          ? err.message
          : `credentials from ${ctx.aws.credentialSource} were refused: ${errorText(err)}`,
        fix: isAwsCredentialsError(err)
          ? `give the worker credentials: AWS_PROFILE, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, an instance or task role, or ${SETTINGS_ENV.awsAccessKeyId} + ${SETTINGS_ENV.awsSecretAccessKey}; with ${SETTINGS_ENV.roleArn}, also check the role's trust policy (\`sms-ask setup --dry-run\` prints it)`
          : 'check that the keys are current (not deleted or rotated) and that the clock of this machine is right',
      };
    }
  },
};

export const queueCheck: Check = {
  name: 'queue',
  async run(ctx) {
    const queue = await ctx.queue();
    const a = queue.attributes;
    return {
      status: 'pass',
      saw: `${queue.arn}: visibility timeout ${a.VisibilityTimeout} s, ${a.ApproximateNumberOfMessages ?? '?'} waiting`,
    };
  },
};

export const subscriptionCheck: Check = {
  name: 'subscription',
  async run(ctx) {
    const topicArn = ctx.topicArn();
    const queue = await ctx.queue();
    const sns = ctx.aws.snsIn(parseArn(topicArn)?.region ?? (await ctx.region()));
    const subscription = await findQueueSubscription(sns, topicArn, queue.arn).catch((err: unknown) => {
      throw new Error(`cannot list the subscriptions of ${topicArn}: ${errorText(err)}`);
    });
    if (!subscription) {
      return {
        status: 'fail',
        saw: `${topicArn} has no subscription delivering to ${queue.arn}: replies published to the topic reach no queue`,
        fix: `${SETUP_FIX}, or: aws sns subscribe --region ${parseArn(topicArn)?.region} --topic-arn ${topicArn} --protocol sqs --notification-endpoint ${queue.arn}`,
      };
    }
    if (await subscriptionPending(sns, subscription.arn)) {
      return {
        status: 'fail',
        saw: `the subscription of ${queue.arn} to ${topicArn} is pending confirmation`,
        fix: "the queue owner must confirm it (a queue in another account gets a SubscriptionConfirmation message to open); or subscribe from the queue's own account",
      };
    }
    return { status: 'pass', saw: `${queue.arn} is a confirmed subscriber of ${topicArn}` };
  },
};

export const queuePolicyCheck: Check = {
  name: 'queue-policy',
  async run(ctx) {
    const topicArn = ctx.topicArn();
    const queue = await ctx.queue();
    const policy = parsePolicy(queue.attributes.Policy);
    if (queuePolicyAllowsTopic(policy, queue.arn, topicArn)) {
      const bridge = ctx.settings.inboundBridgeRoleArn;
      const open = queuePolicyOpenness(policy, queue.arn, topicArn, bridge);
      if (open)
        return {
          status: 'fail',
          saw: open,
          fix: `${SETUP_FIX}; it adds the statement (Sid ${QUEUE_DENY_SID}) and keeps your others`,
        };
      return {
        status: 'pass',
        saw: `the queue policy lets sns.amazonaws.com send from ${topicArn}, and denies every other writer${bridge ? ` but ${bridge}` : ''}`,
      };
    }
    return {
      status: 'fail',
      saw: queue.attributes.Policy
        ? `the queue policy does not allow sqs:SendMessage from sns.amazonaws.com with aws:SourceArn ${topicArn}: SNS drops every reply`
        : 'the queue has no policy: SNS cannot deliver to it, and drops every reply',
      fix: `${SETUP_FIX}; it adds the statement (Sid AllowInboundSmsTopic) and keeps your others`,
    };
  },
};

/** Anyone who can publish to the inbound topic can forge a reply from any number. */
export const topicPolicyCheck: Check = {
  name: 'topic-policy',
  async run(ctx) {
    const topicArn = ctx.topicArn();
    const sns = ctx.aws.snsIn(parseArn(topicArn)?.region ?? (await ctx.region()));
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    const bridge = ctx.settings.inboundBridgeRoleArn;
    const open = topicPolicyOpenness(parsePolicy(Attributes?.Policy), topicArn, bridge);
    if (!open)
      return {
        status: 'pass',
        saw: `only ${SMS_SERVICE_PRINCIPAL}${bridge ? ` and ${bridge}` : ''} may publish to ${topicArn}`,
      };
    return {
      status: 'fail',
      saw: open,
      fix: `${SETUP_FIX}; it adds the statements (Sid ${TOPIC_POLICY_SIDS.allowSms}, ${TOPIC_POLICY_SIDS.denyOthers}) and keeps your others. A bridge that relays replies needs a role of its own: set ${SETTINGS_ENV.inboundBridgeRoleArn} before running setup`,
    };
  },
};

export const regionCheck: Check = {
  name: 'regions',
  async run(ctx) {
    const configRegion = await ctx.region();
    const queue = await ctx.queue();
    const topicRegion = parseArn(ctx.topicArn())?.region ?? '';
    const saw = `config ${configRegion}, queue ${queue.region}, topic ${topicRegion}`;
    if (configRegion === queue.region && queue.region === topicRegion) return { status: 'pass', saw };
    return {
      status: 'fail',
      saw,
      fix: `keep the topic, the queue and AWS_REGION in one region (the region of your two-way number): run \`AWS_REGION=<that region> sms-ask setup\` and set ${SETTINGS_ENV.queueUrl} and ${SETTINGS_ENV.inboundTopicArn} to what it prints`,
    };
  },
};

export const deliveryFormatCheck: Check = {
  name: 'delivery-format',
  async run(ctx) {
    const topicArn = ctx.topicArn();
    const queue = await ctx.queue();
    const sns = ctx.aws.snsIn(parseArn(topicArn)?.region ?? (await ctx.region()));
    const subscription = await findQueueSubscription(sns, topicArn, queue.arn);
    if (!subscription) return { status: 'skip', saw: 'no subscription to look at', fix: 'see "subscription"' };
    const { Attributes = {} } = await sns.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription.arn }),
    );
    const raw = Attributes.RawMessageDelivery === 'true';
    const format = raw ? 'raw message delivery (the two-way payload, no envelope)' : 'the SNS notification envelope';
    if (Attributes.FilterPolicy) {
      return {
        status: 'warn',
        saw: `${format}, with a filter policy (${Attributes.FilterPolicy}) that can drop replies before they reach the queue`,
        fix: `remove it: aws sns unsubscribe --subscription-arn ${subscription.arn}, then ${SETUP_FIX}`,
      };
    }
    if (raw && !ctx.settings.inboundFormats.includes('raw')) {
      return {
        status: 'fail',
        saw: `${format}, which this deployment does not take: every reply is refused and goes to the DLQ`,
        fix: `set ${SETTINGS_ENV.inboundFormats}=sns-envelope,raw, or turn raw delivery off: aws sns set-subscription-attributes --subscription-arn ${subscription.arn} --attribute-name RawMessageDelivery --attribute-value false`,
      };
    }
    return { status: 'pass', saw: `${format}; this deployment takes ${ctx.settings.inboundFormats.join(', ')}` };
  },
};

/** The heartbeat as the worker wrote it: through the payload codecs (encryption) the client also has. */
async function decodedHeartbeat(client: Client, payload: Payload | undefined): Promise<Payload | undefined> {
  if (!payload) return undefined;
  let payloads: Payload[] = [payload];
  for (const codec of [...client.options.loadedDataConverter.payloadCodecs].reverse())
    payloads = await codec.decode(payloads);
  return payloads[0];
}

/** What the inbound poller's running poll activities last reported in their heartbeats; empty when none runs. */
export async function pollerHeartbeats(ctx: DoctorContext): Promise<Partial<PollStats>[]> {
  const queue = await ctx.queue();
  const client = await ctx.temporal();
  let description;
  try {
    description = await client.workflow
      .getHandle(inboundPollerWorkflowId(ctx.settings.taskQueue, queue.url))
      .describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return [];
    throw err;
  }
  const beats = await Promise.all(
    (description.raw.pendingActivities ?? []).map((a) => decodedHeartbeat(client, a.heartbeatDetails?.payloads?.[0])),
  );
  return beats.flatMap((beat) => (beat ? [defaultPayloadConverter.fromPayload<Partial<PollStats>>(beat)] : []));
}

export const pollerCheck: Check = {
  name: 'poller',
  async run(ctx) {
    const queue = await ctx.queue();
    const waiting = Number(queue.attributes.ApproximateNumberOfMessages ?? 0);
    const inFlight = Number(queue.attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    const counts = `${waiting} waiting, ${inFlight} in flight`;
    const workflowId = inboundPollerWorkflowId(ctx.settings.taskQueue, queue.url);
    const client = await ctx.temporal();
    const startWorker = `start a worker: \`sms-ask worker\` with ${SETTINGS_ENV.taskQueue}=${ctx.settings.taskQueue} and ${SETTINGS_ENV.queueUrl}=${queue.url}`;
    let description;
    try {
      description = await client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      return {
        status: waiting > 0 ? 'fail' : 'warn',
        saw: `${counts}; no poller workflow ${workflowId} has ever run`,
        fix: startWorker,
      };
    }
    if (description.status.name !== 'RUNNING') {
      return {
        status: waiting > 0 ? 'fail' : 'warn',
        saw: `${counts}; the poller workflow is ${description.status.name}`,
        fix: startWorker,
      };
    }
    const activity = description.raw.pendingActivities?.[0];
    if (!activity) {
      return {
        status: waiting > 0 ? 'warn' : 'pass',
        saw: `${counts}; the poller workflow runs but its poll activity is between leases`,
        fix: waiting > 0 ? 'run doctor again in a few seconds' : undefined,
      };
    }
    const beatAgeMs = activity.lastHeartbeatTime ? Date.now() - tsToMs(activity.lastHeartbeatTime) : undefined;
    const heartbeat = await decodedHeartbeat(client, activity.heartbeatDetails?.payloads?.[0]);
    const stats = heartbeat
      ? defaultPayloadConverter.fromPayload<{ received?: number; routed?: number; lastError?: string }>(heartbeat)
      : undefined;
    const beat = beatAgeMs === undefined ? 'no heartbeat yet' : `last heartbeat ${Math.round(beatAgeMs / 1000)} s ago`;
    const routed = stats ? `, ${stats.routed ?? 0} of ${stats.received ?? 0} received routed this lease` : '';
    const ageNote =
      waiting > 0
        ? ' (SQS gives no message age without receiving one; see the CloudWatch metric ApproximateAgeOfOldestMessage)'
        : '';
    if (stats?.lastError) {
      return {
        status: 'fail',
        saw: `${counts}; the poller's SQS receives fail: ${stats.lastError}`,
        fix: 'fix what the error names (queue URL, region, credentials, the sqs:ReceiveMessage permission)',
      };
    }
    const attempt = activity.attempt ?? 1;
    if (beatAgeMs === undefined ? attempt > 1 : beatAgeMs > POLLER_HEARTBEAT_STALE_MS) {
      const failure = activity.lastFailure?.message ? `; last failure: ${activity.lastFailure.message}` : '';
      return {
        status: waiting > 0 ? 'fail' : 'warn',
        saw: `${counts}; no worker is polling (${beat}, attempt ${attempt}${failure})${ageNote}`,
        fix: startWorker,
      };
    }
    return { status: 'pass', saw: `${counts}; the poller is running (${beat}${routed})` };
  },
};

/** Phones that waiting asks list but whose recipient workflow is gone: their replies wait on the queue. */
export const recipientsCheck: Check = {
  name: 'recipients',
  async run(ctx) {
    const client = await ctx.temporal();
    const { taskQueue } = ctx.settings;
    const phones = new Set<string>();
    let asks = 0;
    for await (const execution of client.workflow.list({
      query: pendingAsksVisibilityQuery(taskQueue, {}, new Date()),
    })) {
      asks++;
      for (const phone of execution.typedSearchAttributes.get(askSearchAttributes.recipients) ?? []) phones.add(phone);
      if (asks >= MAX_ASKS_LOOKED_AT) break;
    }
    const gone: string[] = [];
    for (const phone of phones) if (!(await recipientRuns(client, taskQueue, phone))) gone.push(phone);
    const looked = `${asks} waiting ask(s)${asks >= MAX_ASKS_LOOKED_AT ? ' (the first ones)' : ''}, ${phones.size} phone(s)`;
    if (gone.length === 0) return { status: 'pass', saw: `${looked}: every phone's recipient workflow runs` };
    return {
      status: 'warn',
      saw: `${looked}: the recipient workflow of ${gone.map(maskPhone).join(', ')} is gone (terminated or failed); their replies wait on the queue`,
      fix: "a worker starts it again with the asks' codes when the next reply comes; keep a worker running, and do not terminate recipient workflows while asks list the phone",
    };
  },
};
const MAX_ASKS_LOOKED_AT = 500;

/**
 * Worker Versioning: whether the server routes by version when the workers ask it to, whether new
 * asks have a version to start on, and whether every version with pinned asks still has workers.
 */
export const workerVersioningCheck: Check = {
  name: 'worker-versioning',
  async run(ctx) {
    const client = await ctx.temporal();
    const { settings } = ctx;
    const deployment = deploymentNameOf(settings);
    const support = await versioningSupport(client, deployment);
    if (!settings.workerVersioning) {
      const current = support.supported
        ? (await describeDeployment(client, deployment)).versions.find((v) => v.state === 'current')
        : undefined;
      if (current)
        return {
          status: 'warn',
          saw: `${SETTINGS_ENV.workerVersioning} is off here, but deployment ${deployment} makes ${current.buildId} current: new asks wait for its versioned workers, not for unversioned ones`,
          fix: `set ${SETTINGS_ENV.workerVersioning}=true on every worker of this task queue, or take the task queue out of the deployment`,
        };
      return { status: 'pass', saw: 'workers run unversioned (every worker takes every task)' };
    }
    if (!support.supported)
      return {
        status: 'warn',
        saw: `${SETTINGS_ENV.workerVersioning} is on, but ${support.reason}: the workers run unversioned, so an upgrade needs every ask to end first`,
        fix: 'upgrade the Temporal server (1.29.1 or later, with worker deployments enabled), or turn versioning off',
      };
    const report = await readDeploymentReport(client, deployment, settings.taskQueue);
    if (!report.exists)
      return {
        status: 'warn',
        saw: `no worker of deployment ${deployment} has polled yet`,
        fix: 'start the workers, then make their build current: `sms-ask deploy current`',
      };
    const stranded = report.versions.filter((v) => v.pinnedWorkflows > 0 && !v.polled);
    if (stranded.length > 0)
      return {
        status: 'warn',
        saw: stranded
          .map(
            (v) =>
              `${v.pinnedWorkflows} workflow(s) (${v.pendingAsks} ask(s)) pinned to ${v.buildId}, but no worker of it polls`,
          )
          .join('; '),
        fix: 'start a worker of that build again (its replies and timers wait until one polls); stop old workers only when `sms-ask deploy` says they can stop',
      };
    const current = report.versions.find((v) => v.state === 'current');
    if (!current)
      return {
        status: 'warn',
        saw: `deployment ${deployment} has no current version: new asks wait for an unversioned worker`,
        fix: 'make a build current: `sms-ask deploy current`',
      };
    if (!current.polled)
      return {
        status: 'warn',
        saw: `the current version ${current.buildId} has no worker polling: new asks wait`,
        fix: `start workers of build ${current.buildId}, or make a polled build current`,
      };
    const summary = report.versions.map((v) => `${v.buildId} ${v.state} (${v.pendingAsks} pending)`).join(', ');
    return { status: 'pass', saw: `deployment ${deployment}: ${summary}` };
  },
};

export const dlqCheck: Check = {
  name: 'dead-letter-queue',
  async run(ctx) {
    const dlq = await ctx.dlq();
    if (!dlq) {
      return {
        status: 'warn',
        saw: 'the queue has no redrive policy: a reply that never parses is received again and again',
        fix: SETUP_FIX,
      };
    }
    const { Attributes = {} } = await ctx.aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    const { ApproximateNumberOfMessages = '0' } = Attributes;
    const count = Number(ApproximateNumberOfMessages);
    if (count === 0) return { status: 'pass', saw: `${dlq.arn} (from ${dlq.from}) is empty` };
    // It is the DLQ, so a peek harms nothing: visibility 0 puts the message straight back.
    const { Messages = [] } = await ctx.aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq.url,
        MaxNumberOfMessages: 1,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      }),
    );
    const sample = Messages[0];
    let reason = 'no sample (another reader holds them)';
    if (sample) {
      const parsed = parseInboundMessage(sample.Body ?? '', sample.MessageId ?? '');
      const sent = sample.Attributes?.SentTimestamp
        ? new Date(Number(sample.Attributes.SentTimestamp)).toISOString()
        : 'unknown';
      reason = parsed.ok
        ? `sample ${sample.MessageId} (sent ${sent}) parses as a reply from ${maskPhone(parsed.reply.from)}: it failed to reach Temporal ${sample.Attributes?.ApproximateReceiveCount ?? '?'} times`
        : `sample ${sample.MessageId} (sent ${sent}) cannot be parsed: ${parsed.reason}`;
    }
    return {
      status: 'fail',
      saw: `${count} message(s) in ${dlq.arn}; ${reason}. Peeked 1 message with visibility timeout 0: it stays in the DLQ`,
      fix: `fix the cause, then move them back: aws sqs start-message-move-task --source-arn ${dlq.arn}`,
    };
  },
};

export const phoneNumberCheck: Check = {
  name: 'phone-numbers',
  async run(ctx) {
    const { originationNumber, senderId } = ctx.settings;
    if (!originationNumber) {
      return {
        status: 'warn',
        saw: `${SETTINGS_ENV.originationNumber} is not set: SNS picks the sender, and replies may go to a number whose two-way channel is not this topic`,
        fix: `set ${SETTINGS_ENV.originationNumber} to your two-way number in E.164 (+18885550100)`,
      };
    }
    try {
      normalizeRecipientPhone(originationNumber);
    } catch (err) {
      return {
        status: 'fail',
        saw: `${SETTINGS_ENV.originationNumber}: ${errorText(err)}`,
        fix: 'give the number in E.164, with + and country code',
      };
    }
    if (senderId) {
      return {
        status: 'warn',
        saw: `${SETTINGS_ENV.senderId} (${senderId}) is set with a two-way number: where the sender ID is used, nobody can reply`,
        fix: `unset ${SETTINGS_ENV.senderId}`,
      };
    }
    try {
      const owned: { PhoneNumber?: string; NumberCapabilities?: string[] }[] = [];
      let NextToken: string | undefined;
      do {
        const page = await ctx.aws.sns.send(new ListOriginationNumbersCommand({ NextToken }));
        owned.push(...(page.PhoneNumbers ?? []));
        NextToken = page.NextToken;
      } while (NextToken);
      const mine = owned.find((n) => n.PhoneNumber === originationNumber);
      if (!mine) {
        return {
          status: 'fail',
          saw: `${originationNumber} is not one of this account's ${owned.length} origination number(s) in ${await ctx.region()}`,
          fix: `set ${SETTINGS_ENV.originationNumber} to a number this account owns in this region`,
        };
      }
      return {
        status: 'pass',
        saw: `${originationNumber} is E.164 and owned by this account (${(mine.NumberCapabilities ?? []).join(', ')})`,
      };
    } catch (err) {
      if (isUnsupported(err))
        return {
          status: 'pass',
          saw: `${originationNumber} is E.164; ${unsupportedText('ListOriginationNumbers', err)}, so ownership was not checked`,
        };
      throw err;
    }
  },
};

export const smsSandboxCheck: Check = {
  name: 'sms-sandbox',
  async run(ctx) {
    try {
      const { IsInSandbox } = await ctx.aws.sns.send(new GetSMSSandboxAccountStatusCommand({}));
      return IsInSandbox
        ? {
            status: 'warn',
            saw: 'the account is in the SMS sandbox: only verified destination numbers get SMS',
            fix: 'verify test numbers (aws sns create-sms-sandbox-phone-number) and request production access in the SNS console (Text messaging → Exit SMS sandbox)',
          }
        : { status: 'pass', saw: 'the account is out of the SMS sandbox' };
    } catch (err) {
      if (isUnsupported(err))
        return { status: 'skip', saw: 'not checked', fix: unsupportedText('GetSMSSandboxAccountStatus', err) };
      throw err;
    }
  },
};

export const spendLimitCheck: Check = {
  name: 'spend-limit',
  async run(ctx) {
    const { attributes = {} } = await ctx.aws.sns.send(
      new GetSMSAttributesCommand({ attributes: ['MonthlySpendLimit'] }),
    );
    const limit = Number(attributes.MonthlySpendLimit ?? DEFAULT_SPEND_LIMIT_USD);
    if (limit <= DEFAULT_SPEND_LIMIT_USD) {
      return {
        status: 'warn',
        saw: `monthly SMS spend limit USD ${limit} (the AWS default): SNS stops sending SMS once it is reached, about 150 US messages`,
        fix: 'request a higher limit (Service Quotas or an SNS support case), then: aws sns set-sms-attributes --attributes MonthlySpendLimit=<USD>',
      };
    }
    return { status: 'pass', saw: `monthly SMS spend limit USD ${limit}` };
  },
};

export const smsAttributesCheck: Check = {
  name: 'sns',
  async run(ctx) {
    const { attributes = {} } = await ctx.aws.sns.send(new GetSMSAttributesCommand({}));
    const shown = Object.entries(attributes)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return { status: 'pass', saw: `GetSMSAttributes: ${shown || 'account defaults'}` };
  },
};

export const temporalCheck: Check = {
  name: 'temporal',
  async run(ctx) {
    const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
    try {
      const client = await ctx.connectTemporal();
      const namespace = client.options.namespace;
      await client.workflowService.describeNamespace({ namespace });
      return { status: 'pass', saw: `namespace ${namespace} at ${address} is reachable` };
    } catch (err) {
      return {
        status: 'fail',
        saw: `cannot use Temporal at ${address}: ${errorText(err)}`,
        fix: 'start Temporal (or `sms-ask stack up` locally), or set TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_API_KEY / TLS for your cluster',
      };
    }
  },
};

/** `sms-ask test`: can sms-ask reach everything it uses? XSOAR's Test button. */
export const CONNECTIVITY_CHECKS: Check[] = [credentialsCheck, smsAttributesCheck, queueCheck, temporalCheck];

/** `sms-ask doctor`: the troubleshooting guide, as checks. */
export const DOCTOR_CHECKS: Check[] = [
  credentialsCheck,
  queueCheck,
  subscriptionCheck,
  queuePolicyCheck,
  topicPolicyCheck,
  regionCheck,
  deliveryFormatCheck,
  temporalCheck,
  workerVersioningCheck,
  pollerCheck,
  recipientsCheck,
  dlqCheck,
  phoneNumberCheck,
  smsSandboxCheck,
  spendLimitCheck,
];
