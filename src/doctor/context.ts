/**
 * What the checks look at, fetched once and shared: the identity, the queue's attributes, the
 * topic's subscription. A check that needs something another check found broken is skipped.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { GetCallerIdentityCommandOutput } from '@aws-sdk/client-sts';
import type { Client } from '@temporalio/client';
import type { AwsConnections } from '../aws/clients';
import type { Settings } from '../config';
import { SETTINGS_ENV } from '../config';
import type { ConfigurationSetInformation } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { configurationSetNameOf, findConfigurationSet, findOriginationIdentity } from '../setup/end-user-messaging';
import type { OriginationIdentity } from '../setup/end-user-messaging';
import { parseArn, parsePolicy, queueNameOf } from '../setup/resources';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What the check saw. */
  saw: string;
  /** The exact fix, for warn and fail; the reason, for skip. */
  fix?: string;
}

/** Thrown by a fact a check needs when it is missing; the runner reports the check as skipped. */
export class CheckSkipped extends Error {
  override name = 'CheckSkipped';
}

/**
 * Thrown by a fact that could not be read. The check named `owner` reports the error itself; any
 * other check that needed the fact is skipped, so one fault is reported once.
 */
export class FactUnavailable extends Error {
  override name = 'FactUnavailable';
  constructor(
    readonly owner: string,
    readonly error: unknown,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

export interface QueueFacts {
  url: string;
  arn: string;
  region: string;
  attributes: Record<string, string>;
}

export interface DlqFacts {
  url: string;
  arn: string;
  /** Where the DLQ was named: the setting, or the queue's redrive policy. */
  from: string;
}

export interface DoctorContext {
  settings: Settings;
  aws: AwsConnections;
  /** The region the AWS clients use (AWS_REGION or the profile's). */
  region(): Promise<string>;
  identity(): Promise<GetCallerIdentityCommandOutput>;
  queue(): Promise<QueueFacts>;
  /** Undefined when the queue has no redrive policy and no DLQ is configured. */
  dlq(): Promise<DlqFacts | undefined>;
  topicArn(): string;
  /** End User Messaging: the pool or phone number sends go from (owned by "eum-origination"). */
  originationIdentity(): Promise<OriginationIdentity>;
  /** End User Messaging: the configuration set, undefined when it does not exist. */
  configurationSet(): Promise<ConfigurationSetInformation | undefined>;
  /** The Temporal client; for any check but "temporal", a failure to connect skips the check. */
  temporal(): Promise<Client>;
  connectTemporal(): Promise<Client>;
}

const once = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let value: Promise<T> | undefined;
  return () => (value ??= load());
};

const ownedBy = <T>(owner: string, load: () => Promise<T>): (() => Promise<T>) =>
  once(() =>
    load().catch((err: unknown) => {
      throw err instanceof CheckSkipped || err instanceof FactUnavailable ? err : new FactUnavailable(owner, err);
    }),
  );

/** Builds the shared facts; `connectTemporal` is only called by a check that needs Temporal. */
export function createDoctorContext(
  settings: Settings,
  aws: AwsConnections,
  connectTemporal: () => Promise<Client>,
): DoctorContext {
  const identity = once(() => aws.sts.send(new GetCallerIdentityCommand({})));
  const connectTemporalOnce = once(connectTemporal);
  const region = once(async () => {
    try {
      return await aws.sqs.config.region();
    } catch {
      throw new CheckSkipped('no AWS region is configured: set AWS_REGION');
    }
  });
  const queue = ownedBy('queue', async (): Promise<QueueFacts> => {
    if (!settings.queueUrl) throw new CheckSkipped(`${SETTINGS_ENV.queueUrl} is not set`);
    await identity().catch(() => {
      throw new CheckSkipped('needs working AWS credentials (see "credentials")');
    });
    const { Attributes = {} } = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: settings.queueUrl, AttributeNames: ['All'] }),
    );
    const arn = Attributes.QueueArn ?? '';
    return { url: settings.queueUrl, arn, region: parseArn(arn)?.region ?? '', attributes: Attributes };
  });
  const dlq = ownedBy('dead-letter-queue', async (): Promise<DlqFacts | undefined> => {
    const sqsClient = aws.sqs;
    const arnFromRedrive = (
      parsePolicy((await queue()).attributes.RedrivePolicy) as { deadLetterTargetArn?: string } | undefined
    )?.deadLetterTargetArn;
    const configured = settings.dlq;
    if (configured && /^https?:\/\//.test(configured)) {
      const { Attributes } = await sqsClient.send(
        new GetQueueAttributesCommand({ QueueUrl: configured, AttributeNames: ['QueueArn'] }),
      );
      return { url: configured, arn: Attributes?.QueueArn ?? '', from: SETTINGS_ENV.dlq };
    }
    const name = configured ?? (arnFromRedrive ? queueNameOf(parseArn(arnFromRedrive)?.resource ?? '') : undefined);
    if (!name) return undefined;
    const { QueueUrl } = await sqsClient.send(new GetQueueUrlCommand({ QueueName: name }));
    const { Attributes } = await sqsClient.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return {
      url: QueueUrl ?? '',
      arn: Attributes?.QueueArn ?? '',
      from: configured ? SETTINGS_ENV.dlq : "the queue's redrive policy",
    };
  });
  const needsCredentials = () =>
    identity().catch(() => {
      throw new CheckSkipped('needs working AWS credentials (see "credentials")');
    });
  const originationIdentity = ownedBy('eum-origination', async () => {
    const id = settings.originationIdentity ?? settings.originationNumber;
    if (!id) throw new CheckSkipped(`${SETTINGS_ENV.originationIdentity} is not set`);
    await needsCredentials();
    return findOriginationIdentity(aws.smsVoice, id, await region());
  });
  const configurationSet = ownedBy('eum-configuration-set', async () => {
    await needsCredentials();
    return findConfigurationSet(aws.smsVoice, configurationSetNameOf(settings.configurationSet));
  });
  return {
    settings,
    aws,
    region,
    identity,
    queue,
    dlq,
    originationIdentity,
    configurationSet,
    topicArn: () => {
      if (!settings.inboundTopicArn) throw new CheckSkipped(`${SETTINGS_ENV.inboundTopicArn} is not set`);
      return settings.inboundTopicArn;
    },
    temporal: ownedBy('temporal', connectTemporalOnce),
    connectTemporal: connectTemporalOnce,
  };
}
