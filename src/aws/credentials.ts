/**
 * Where sms-ask's AWS credentials come from: the default chain, explicit keys, or either of those
 * used only to assume a role. Secrets never leave this module in a message or a description.
 */
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { STSClientConfig } from '@aws-sdk/client-sts';
import type { Settings } from '../config';
import { SETTINGS_ENV } from '../config';

/** What every AWS client's `credentials` option takes. */
export type AwsCredentialIdentityProvider = ReturnType<typeof fromNodeProviderChain>;
export type AwsCredentialIdentity = Awaited<ReturnType<AwsCredentialIdentityProvider>>;

export type CredentialSettings = Pick<
  Settings,
  | 'roleArn'
  | 'roleSessionName'
  | 'roleSessionDurationSeconds'
  | 'roleExternalId'
  | 'awsAccessKeyId'
  | 'awsSecretAccessKey'
  | 'awsSessionToken'
>;

/** Thrown by a credential provider (and so by the first AWS call) when no credentials resolve. */
export class AwsCredentialsError extends Error {
  override name = 'AwsCredentialsError';
  constructor(
    readonly reason: string,
    /** The sources tried, in order, as a person would name them. */
    readonly sourcesTried: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`No usable AWS credentials: ${reason}. Tried: ${sourcesTried.join('; ')}.`, options);
  }
}

export function isAwsCredentialsError(err: unknown): err is AwsCredentialsError {
  return err instanceof AwsCredentialsError;
}

/**
 * Renewed this long before they expire. Not less than the AWS SDK's own 5-minute window: a client
 * that asks for fresh credentials must get them.
 */
export const CREDENTIAL_REFRESH_WINDOW_MS = 5 * 60 * 1000;

/** The default chain's sources, in the order @aws-sdk/credential-providers tries them. */
export function defaultChainSources(env: NodeJS.ProcessEnv = process.env): string[] {
  const profile = env.AWS_PROFILE ?? 'default';
  const has = (name: string) => (env[name] ? `${name} set` : `${name} not set`);
  return [
    `environment (${has('AWS_ACCESS_KEY_ID')}, ${has('AWS_SECRET_ACCESS_KEY')})`,
    `SSO, shared config and credentials files (profile "${profile}", ${env.AWS_SHARED_CREDENTIALS_FILE ?? '~/.aws/credentials'})`,
    `web identity token (${has('AWS_WEB_IDENTITY_TOKEN_FILE')})`,
    'credential_process in the profile',
    `container role (${has('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI')}, ${has('AWS_CONTAINER_CREDENTIALS_FULL_URI')})`,
    `EC2 instance role (instance metadata${env.AWS_EC2_METADATA_DISABLED === 'true' ? ', disabled by AWS_EC2_METADATA_DISABLED' : ''})`,
  ];
}

/** One line saying where credentials come from, for `test` and `doctor`; never a secret. */
export function describeCredentialSource(settings: CredentialSettings, env: NodeJS.ProcessEnv = process.env): string {
  const base = settings.awsAccessKeyId
    ? `explicit keys (${SETTINGS_ENV.awsAccessKeyId} …${settings.awsAccessKeyId.slice(-4)})`
    : `the default AWS credential chain${env.AWS_PROFILE ? ` (profile ${env.AWS_PROFILE})` : ''}`;
  if (!settings.roleArn) return base;
  return `role ${settings.roleArn} (session "${settings.roleSessionName}", ${settings.roleSessionDurationSeconds} s${settings.roleExternalId ? ', with external ID' : ''}) assumed with ${base}`;
}

/**
 * The credential provider every sms-ask AWS client shares. With a role, it assumes the role through
 * STS (`stsConfig`: region, endpoint mode, timeouts) and assumes it again before the session ends,
 * so a worker that runs for days never signs with expired credentials.
 */
export function createCredentialProvider(
  settings: CredentialSettings,
  stsConfig: STSClientConfig = {},
  options: { now?: () => number; env?: NodeJS.ProcessEnv } = {},
): AwsCredentialIdentityProvider {
  const env = options.env ?? process.env;
  const explicitKeys: AwsCredentialIdentity | undefined =
    settings.awsAccessKeyId && settings.awsSecretAccessKey
      ? {
          accessKeyId: settings.awsAccessKeyId,
          secretAccessKey: settings.awsSecretAccessKey,
          sessionToken: settings.awsSessionToken,
        }
      : undefined;
  const baseSources = explicitKeys
    ? [`explicit keys (${SETTINGS_ENV.awsAccessKeyId}, ${SETTINGS_ENV.awsSecretAccessKey})`]
    : defaultChainSources(env);
  const base: AwsCredentialIdentityProvider = explicitKeys
    ? async () => explicitKeys
    : explainFailures(fromNodeProviderChain(), "none of the default chain's sources had credentials", baseSources);

  if (!settings.roleArn) return base;
  const assumeRole = fromTemporaryCredentials({
    params: {
      RoleArn: settings.roleArn,
      RoleSessionName: settings.roleSessionName,
      DurationSeconds: settings.roleSessionDurationSeconds,
      ExternalId: settings.roleExternalId,
    },
    masterCredentials: base,
    clientConfig: stsConfig,
  });
  const roleSources = [...baseSources, `then sts:AssumeRole on ${settings.roleArn} (${SETTINGS_ENV.roleArn})`];
  return memoizeCredentials(
    explainFailures(assumeRole, `could not assume ${settings.roleArn}`, roleSources),
    options.now,
  );
}

/** Turns the SDK's "Could not load credentials from any providers" into an error naming the sources. */
function explainFailures(
  provider: AwsCredentialIdentityProvider,
  what: string,
  sources: string[],
): AwsCredentialIdentityProvider {
  return async (properties) => {
    try {
      return await provider(properties);
    } catch (err) {
      if (err instanceof AwsCredentialsError) throw err;
      const detail = err instanceof Error ? err.message : String(err);
      throw new AwsCredentialsError(`${what} (${detail})`, sources, { cause: err });
    }
  };
}

/**
 * Shares one set of temporary credentials among the clients, and fetches new ones once they are
 * within CREDENTIAL_REFRESH_WINDOW_MS of expiry. Concurrent callers share one fetch; a failed fetch
 * is not kept, so the next call tries again.
 */
export function memoizeCredentials(
  provider: AwsCredentialIdentityProvider,
  now: () => number = Date.now,
): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | undefined;
  let inFlight: Promise<AwsCredentialIdentity> | undefined;
  const fresh = (credentials: AwsCredentialIdentity) =>
    !credentials.expiration || credentials.expiration.getTime() - now() > CREDENTIAL_REFRESH_WINDOW_MS;
  return async (properties) => {
    if (current && fresh(current)) return current;
    inFlight ??= provider(properties)
      .then((credentials) => (current = credentials))
      .finally(() => (inFlight = undefined));
    return inFlight;
  };
}
