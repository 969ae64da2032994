/** `sms-ask setup`, `test` and `doctor` as a user runs them, against the shared stack. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli } from '../support/cli';
import { sharedStack } from '../support/harness';

const SECRET = 'sEcReT-never-printed-7f3a9c';

/** A clean environment: no ~/.aws, no instance metadata, only what the test gives. */
function baseEnv(): NodeJS.ProcessEnv {
  const stack = sharedStack();
  return {
    PATH: process.env.PATH,
    HOME: mkdtempSync(path.join(tmpdir(), 'sms-ask-home-')),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: stack.namespace,
    AWS_REGION: stack.region,
    AWS_ENDPOINT_URL: stack.awsEndpoint,
  };
}
const withKeys = (env: NodeJS.ProcessEnv) => ({
  ...env,
  AWS_ACCESS_KEY_ID: 'AKIATESTTEST00000001',
  AWS_SECRET_ACCESS_KEY: SECRET,
});

describe('sms-ask setup / test / doctor', () => {
  it('sets up from nothing, says so when run again, then test and doctor pass on what it made', async () => {
    const name = `cli-setup-${randomUUID().slice(0, 8)}`;
    const env = withKeys(baseEnv());
    const dry = await cli(env, 'setup', '--dry-run', '--queue-name', name, '--topic-name', name);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/Dry run: 4 change\(s\) planned, none made/);

    const first = await cli(env, '--json', 'setup', '--queue-name', name, '--topic-name', name);
    expect(first.code).toBe(0);
    const made = JSON.parse(first.stdout) as { changed: boolean; workerSettings: Record<string, string> };
    expect(made.changed).toBe(true);

    const second = await cli(env, 'setup', '--queue-name', name, '--topic-name', name);
    expect(second.stdout).toMatch(/Nothing to change: everything already matches\./);
    expect(second.stdout).toContain('"sqs:DeleteMessage"');
    expect(second.stdout).toContain('--two-way-enabled --two-way-channel-arn');

    const configured = { ...env, ...made.workerSettings, SMS_ASK_TASK_QUEUE: `cli-${name}` };
    const test = await cli(configured, 'test');
    expect(test.code).toBe(0);
    expect(test.stdout).toMatch(/^PASS {2}credentials +arn:aws:sts::123456789012:user\/moto/m);
    expect(test.stdout).toMatch(/^PASS {2}sns /m);
    expect(test.stdout).toMatch(/^PASS {2}queue /m);
    expect(test.stdout).toMatch(/^PASS {2}temporal +namespace default at .* is reachable/m);

    const doctor = await cli(
      {
        ...configured,
        SMS_ASK_AWS_ACCESS_KEY_ID: 'AKIAEXPLICIT00000042',
        SMS_ASK_AWS_SECRET_ACCESS_KEY: `${SECRET}-explicit`,
      },
      '--json',
      'doctor',
    );
    expect(doctor.code).toBe(0);
    const report = JSON.parse(doctor.stdout) as { ok: boolean; checks: { name: string; status: string }[] };
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'credentials')?.status).toBe('pass');
    expect(`${doctor.stdout}${doctor.stderr}${test.stdout}${test.stderr}${first.stdout}${second.stdout}`).not.toContain(
      SECRET,
    );
  });

  it('fails `test` with exit 1 on a queue that does not exist, naming it', async () => {
    const queueUrl = `${sharedStack().awsEndpoint}/123456789012/cli-missing-${randomUUID().slice(0, 8)}`;
    const out = await cli({ ...withKeys(baseEnv()), SMS_ASK_QUEUE_URL: queueUrl }, 'test');
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^FAIL {2}queue +.*(QueueDoesNotExist|NonExistentQueue)/m);
    expect(out.stdout).toMatch(/^PASS {2}credentials/m);
  });

  it('says which credential sources it tried when there are none, in test and at worker startup', async () => {
    const test = await cli(baseEnv(), 'test');
    expect(test.code).toBe(1);
    expect(test.stdout).toMatch(
      /^FAIL {2}credentials +No usable AWS credentials: none of the default chain's sources had credentials .*Tried: environment \(AWS_ACCESS_KEY_ID not set, AWS_SECRET_ACCESS_KEY not set\); SSO, shared config and credentials files \(profile "default"/m,
    );
    expect(test.stdout).toMatch(/EC2 instance role \(instance metadata, disabled by AWS_EC2_METADATA_DISABLED\)/);

    const worker = await cli(
      { ...baseEnv(), SMS_ASK_QUEUE_URL: `${sharedStack().awsEndpoint}/123456789012/unused` },
      'worker',
    );
    expect(worker.code).toBe(1);
    expect(worker.stderr).toMatch(/error: No usable AWS credentials: .*Tried: environment/);
  });
});
