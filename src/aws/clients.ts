import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Settings } from '../config';

export interface AwsClients {
  sns: SNSClient;
  sqs: SQSClient;
}

/**
 * Builds the SNS and SQS clients from the default AWS credential chain and region. Endpoints for
 * an emulator come from the standard AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_SNS / _SQS variables.
 */
export function createAwsClients(settings: Pick<Settings, 'pollWaitSeconds'>): AwsClients {
  return {
    sns: new SNSClient({ requestHandler: { requestTimeout: 15_000, connectionTimeout: 5_000 } }),
    // The HTTP timeout must outlast the long poll, or every quiet poll would end in an error.
    sqs: new SQSClient({
      requestHandler: { requestTimeout: (settings.pollWaitSeconds + 10) * 1000, connectionTimeout: 5_000 },
    }),
  };
}
