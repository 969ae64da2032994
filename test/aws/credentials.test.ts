/** The AWS client factory's credentials, against moto's STS on the shared stack. */
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAwsClients } from '../../src/aws/clients';
import type { AwsConnections } from '../../src/aws/clients';
import { CREDENTIAL_REFRESH_WINDOW_MS } from '../../src/aws/credentials';
import { loadSettings } from '../../src/config';
import { sharedStack } from '../support/harness';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/sms-ask-worker';

beforeAll(() => {
  // The factory reads the region and the emulator endpoint as the worker does: from the standard variables.
  Object.assign(process.env, {
    AWS_REGION: sharedStack().region,
    AWS_ENDPOINT_URL: sharedStack().awsEndpoint,
    AWS_ACCESS_KEY_ID: 'AKIABASEBASEBASE0001',
    AWS_SECRET_ACCESS_KEY: 'base-secret',
  });
});
afterEach(() => {
  vi.useRealTimers();
});

/** The access key ID each request of this client was signed with, read from its Authorization header. */
function signingKeys(client: AwsConnections['sts'] | AwsConnections['sqs']): string[] {
  const seen: string[] = [];
  // The deserialize step wraps the send itself, so the request is already signed there.
  (client as AwsConnections['sts']).middlewareStack.add(
    (next) => async (args) => {
      const auth = String((args.request as { headers?: Record<string, string> }).headers?.authorization ?? '');
      seen.push(/Credential=([^/]+)\//.exec(auth)?.[1] ?? 'unsigned');
      return next(args);
    },
    { step: 'deserialize', name: 'captureSigningKey' },
  );
  return seen;
}

describe('AWS credentials', () => {
  it('uses the default chain when nothing else is configured', async () => {
    const aws = createAwsClients(loadSettings({}));
    const keys = signingKeys(aws.sts);
    await aws.sts.send(new GetCallerIdentityCommand({}));
    expect(keys).toEqual(['AKIABASEBASEBASE0001']);
    expect(aws.credentialSource).toBe('the default AWS credential chain');
  });

  it('signs with explicit keys from the settings, and never shows the secret', async () => {
    const aws = createAwsClients(
      loadSettings({
        SMS_ASK_AWS_ACCESS_KEY_ID: 'AKIAEXPLICIT00000042',
        SMS_ASK_AWS_SECRET_ACCESS_KEY: 'explicit-secret-value',
      }),
    );
    const keys = signingKeys(aws.sts);
    await aws.sts.send(new GetCallerIdentityCommand({}));
    expect(keys).toEqual(['AKIAEXPLICIT00000042']);
    expect(aws.credentialSource).toBe('explicit keys (SMS_ASK_AWS_ACCESS_KEY_ID …0042)');
  });

  it('assumes the role through STS with the session name, and every client acts as that role', async () => {
    const aws = createAwsClients(
      loadSettings({
        SMS_ASK_ROLE_ARN: ROLE_ARN,
        SMS_ASK_ROLE_SESSION_NAME: 'soc-worker',
        SMS_ASK_ROLE_EXTERNAL_ID: 'ext-1042',
      }),
    );
    const identity = await aws.sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe('arn:aws:sts::123456789012:assumed-role/sms-ask-worker/soc-worker');
    const credentials = await aws.credentials();
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    expect(credentials.accessKeyId).not.toBe('AKIABASEBASEBASE0001');
    expect(aws.credentialSource).toMatch(
      /^role arn:aws:iam::123456789012:role\/sms-ask-worker \(session "soc-worker", 3600 s, with external ID\) assumed with the default AWS credential chain$/,
    );
  });

  it('keeps one role session for all clients until 5 minutes before it expires, then assumes the role again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const aws = createAwsClients(
      loadSettings({ SMS_ASK_ROLE_ARN: ROLE_ARN, SMS_ASK_ROLE_SESSION_DURATION_SECONDS: '900' }),
    );
    const keys = signingKeys(aws.sts);

    const sqsKeys = signingKeys(aws.sqs);
    await aws.sts.send(new GetCallerIdentityCommand({}));
    await aws.sqs.send(new ListQueuesCommand({}));
    const first = await aws.credentials();
    expect(sqsKeys).toEqual([first.accessKeyId]);
    expect(first.expiration!.getTime() - Date.now()).toBeGreaterThan(890_000);
    vi.setSystemTime(first.expiration!.getTime() - CREDENTIAL_REFRESH_WINDOW_MS - 10_000);
    await aws.sts.send(new GetCallerIdentityCommand({}));
    expect(await aws.credentials()).toBe(first);

    vi.setSystemTime(first.expiration!.getTime() - CREDENTIAL_REFRESH_WINDOW_MS + 10_000);
    await aws.sts.send(new GetCallerIdentityCommand({}));
    const second = await aws.credentials();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(second.expiration!.getTime()).toBeGreaterThan(first.expiration!.getTime());
    // The client itself signed with the first session until the window, then with a new one. (moto
    // dates new sessions by the real clock, so under the moved clock each is soon renewed again.)
    expect(keys.slice(0, 2)).toEqual([first.accessKeyId, first.accessKeyId]);
    expect(keys[2]).toMatch(/^ASIA/);
    expect(keys[2]).not.toBe(first.accessKeyId);
  });

  it('names the setting when a role session duration is out of range, or a key comes without its secret', () => {
    expect(() => loadSettings({ SMS_ASK_ROLE_SESSION_DURATION_SECONDS: '600' })).toThrow(
      /SMS_ASK_ROLE_SESSION_DURATION_SECONDS \(roleSessionDurationSeconds\): .*900/,
    );
    expect(() => loadSettings({ SMS_ASK_ROLE_SESSION_DURATION_SECONDS: '43201' })).toThrow(
      /SMS_ASK_ROLE_SESSION_DURATION_SECONDS .*43200/,
    );
    expect(() => loadSettings({ SMS_ASK_AWS_ACCESS_KEY_ID: 'AKIAEXPLICIT00000042' })).toThrow(
      /SMS_ASK_AWS_SECRET_ACCESS_KEY \(awsSecretAccessKey\): explicit AWS keys need both/,
    );
    expect(() => loadSettings({ SMS_ASK_STS_ENDPOINT_MODE: 'global' })).toThrow(
      /SMS_ASK_STS_ENDPOINT_MODE \(stsEndpointMode\)/,
    );
  });

  it('sends STS calls to the global endpoint in legacy mode and to the regional one by default', async () => {
    const endpointOf = async (mode: string) => {
      const { AWS_ENDPOINT_URL, ...env } = process.env;
      process.env = { ...env, AWS_REGION: 'eu-west-1' };
      try {
        const aws = createAwsClients(loadSettings({ SMS_ASK_STS_ENDPOINT_MODE: mode }));
        const hosts: string[] = [];
        aws.sts.middlewareStack.add(
          (_next) => async (args) => {
            hosts.push((args.request as { hostname: string }).hostname);
            throw new Error('stop before sending');
          },
          { step: 'finalizeRequest' },
        );
        await aws.sts.send(new GetCallerIdentityCommand({})).catch(() => undefined);
        return hosts[0];
      } finally {
        process.env = { ...process.env, AWS_ENDPOINT_URL, AWS_REGION: sharedStack().region };
      }
    };
    expect(await endpointOf('regional')).toBe('sts.eu-west-1.amazonaws.com');
    expect(await endpointOf('legacy')).toBe('sts.amazonaws.com');
  });
});
