import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { Settings } from '../config';
import { createCredentialProvider, describeCredentialSource } from './credentials';
import type { AwsCredentialIdentityProvider } from './credentials';

/** The clients the activities use. */
export interface AwsClients {
  sns: SNSClient;
  sqs: SQSClient;
  /** AWS End User Messaging SMS, for `smsSender: end-user-messaging` (and its setup and doctor). */
  smsVoice?: PinpointSMSVoiceV2Client;
}

/** Everything built from the settings: the clients, plus what `setup`, `test` and `doctor` need. */
export interface AwsConnections extends AwsClients {
  smsVoice: PinpointSMSVoiceV2Client;
  sts: STSClient;
  /** Shared by every client; with a role, one assumed session for all of them. */
  credentials: AwsCredentialIdentityProvider;
  /** Where the credentials come from, in words; never a secret. */
  credentialSource: string;
  /** An SNS client for another region (a topic must be addressed in its own region). */
  snsIn(region: string): SNSClient;
  /** An SQS client for another region. */
  sqsIn(region: string): SQSClient;
  destroy(): void;
}

export type AwsClientSettings = Pick<
  Settings,
  | 'pollWaitSeconds'
  | 'roleArn'
  | 'roleSessionName'
  | 'roleSessionDurationSeconds'
  | 'roleExternalId'
  | 'awsAccessKeyId'
  | 'awsSecretAccessKey'
  | 'awsSessionToken'
  | 'stsEndpointMode'
  | 'awsRequestTimeoutMs'
  | 'awsConnectionTimeoutMs'
  | 'awsMaxAttempts'
  | 'awsRetryMode'
>;

/**
 * Builds the SNS, SQS and STS clients from the settings. The region comes from AWS_REGION or the
 * profile; emulator endpoints from the standard AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_SNS / _SQS / _STS /
 * _PINPOINT_SMS_VOICE_V2.
 */
export function createAwsClients(settings: AwsClientSettings, options: { now?: () => number } = {}): AwsConnections {
  // Without throwOnRequestTimeout the SDK only warns when a request outlasts its timeout and goes
  // on waiting: a stalled SNS call would then hold its SMS attempt open, and the attempt's bound
  // (see workflows/sms-attempt.ts) would be the only one left.
  const requestHandler = {
    requestTimeout: settings.awsRequestTimeoutMs,
    connectionTimeout: settings.awsConnectionTimeoutMs,
    throwOnRequestTimeout: true,
  };
  const retries = { maxAttempts: settings.awsMaxAttempts, retryMode: settings.awsRetryMode };
  const useGlobalEndpoint = settings.stsEndpointMode === 'legacy';
  const credentials = createCredentialProvider(settings, { ...retries, requestHandler, useGlobalEndpoint }, options);
  const common = { ...retries, credentials, requestHandler };
  // The HTTP timeout must outlast the long poll, or every quiet poll would end in an error.
  const sqsRequestHandler = {
    ...requestHandler,
    requestTimeout: Math.max(settings.awsRequestTimeoutMs, (settings.pollWaitSeconds + 10) * 1000),
  };
  const sqsConfig = { ...common, requestHandler: sqsRequestHandler };

  const created: { destroy(): void }[] = [];
  const keep = <T extends { destroy(): void }>(client: T) => (created.push(client), client);
  return {
    sns: keep(new SNSClient(common)),
    sqs: keep(new SQSClient(sqsConfig)),
    sts: keep(new STSClient({ ...common, useGlobalEndpoint })),
    smsVoice: keep(new PinpointSMSVoiceV2Client(common)),
    credentials,
    credentialSource: describeCredentialSource(settings),
    snsIn: (region) => keep(new SNSClient({ ...common, region })),
    sqsIn: (region) => keep(new SQSClient({ ...sqsConfig, region })),
    destroy: () => created.forEach((client) => client.destroy()),
  };
}
