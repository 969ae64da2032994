/** `doctor`'s End User Messaging checks, through the real SDK client against the stand-in on moto. */
import { randomUUID } from 'node:crypto';
import { PinpointSMSVoiceV2Client, UpdatePhoneNumberCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients';
import { loadSettings } from '../../src/config';
import { createDoctorContext } from '../../src/doctor/context';
import { END_USER_MESSAGING_CHECKS } from '../../src/doctor/end-user-messaging-checks';
import { runChecks } from '../../src/doctor/run-checks';
import { doctorChecksFor } from '../../src/doctor/select-checks';
import { startEndUserMessagingStandIn } from '../../src/local-stack/end-user-messaging-stand-in';
import type { EndUserMessagingStandIn } from '../../src/local-stack/end-user-messaging-stand-in';
import { localAwsClientConfig } from '../../src/local-stack/local-stack';
import { runSetup } from '../../src/setup/setup';
import { localAws, sharedStack } from '../support/harness';

const healthyNumber = '+18885550181';
const unregistered = '+12065550182';
let standIn: EndUserMessagingStandIn;
let sandboxed: EndUserMessagingStandIn;
const aws = { ...localAws(), sts: new STSClient(localAwsClientConfig(sharedStack())) };
const clientOf = (s: EndUserMessagingStandIn) =>
  new PinpointSMSVoiceV2Client({ ...localAwsClientConfig(sharedStack()), endpoint: s.endpoint });

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: sharedStack().region,
    AWS_ENDPOINT_URL: sharedStack().awsEndpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  standIn = await startEndUserMessagingStandIn({
    sns: aws.sns,
    region: sharedStack().region,
    phoneNumbers: [
      { phoneNumber: healthyNumber, registrationId: 'registration-0123456789abcdef' },
      { phoneNumber: unregistered, numberType: 'TEN_DLC' },
    ],
  });
  sandboxed = await startEndUserMessagingStandIn({
    sns: aws.sns,
    region: sharedStack().region,
    accountTier: 'SANDBOX',
    monthlySpendLimit: 0,
    phoneNumbers: [{ phoneNumber: healthyNumber, registrationId: 'registration-0123456789abcdef' }],
  });
});
afterAll(async () => {
  await standIn?.stop();
  await sandboxed?.stop();
});

async function setUp(s: EndUserMessagingStandIn, originationIdentity: string) {
  const name = `doctor-eum-${randomUUID().slice(0, 8)}`;
  const smsVoice = clientOf(s);
  const report = await runSetup(
    { ...aws, smsVoice },
    {
      queueName: name,
      topicName: name,
      dlqName: `${name}-dlq`,
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 4,
      endUserMessaging: { originationIdentity, configurationSet: name },
    },
    { originationNumber: undefined, senderId: undefined, roleExternalId: undefined },
    { dryRun: false },
  );
  return { name, smsVoice, resources: report.resources };
}

async function doctor(s: EndUserMessagingStandIn, setup: Awaited<ReturnType<typeof setUp>>, identity: string) {
  const settings = loadSettings(
    {},
    {
      smsSender: 'end-user-messaging',
      originationIdentity: identity,
      configurationSet: setup.name,
      queueUrl: setup.resources.queueUrl,
      inboundTopicArn: setup.resources.topicArn,
    },
  );
  const clients = { ...createAwsClients(settings), smsVoice: clientOf(s) };
  const report = await runChecks(
    END_USER_MESSAGING_CHECKS,
    createDoctorContext(settings, clients, () => Promise.reject(new Error('no Temporal here'))),
  );
  return Object.fromEntries(report.checks.map(({ name, ...rest }) => [name, rest]));
}

describe('sms-ask doctor with End User Messaging (stand-in)', () => {
  it('runs its checks in place of the SNS account checks', () => {
    const names = doctorChecksFor({ smsSender: 'end-user-messaging' }).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['eum-origination', 'eum-two-way', 'eum-events']));
    expect(names).not.toContain('sms-sandbox');
    expect(doctorChecksFor({ smsSender: 'sns' }).map((c) => c.name)).not.toContain('eum-origination');
  });

  it('passes what setup made; with no poller, the events check sees only the path', async () => {
    const made = await setUp(standIn, healthyNumber);
    const checks = await doctor(standIn, made, healthyNumber);
    expect(Object.fromEntries(Object.entries(checks).map(([k, v]) => [k, v.status]))).toEqual({
      'eum-origination': 'pass',
      'eum-two-way': 'pass',
      'eum-registration': 'pass',
      'eum-configuration-set': 'pass',
      'eum-account': 'pass',
      'eum-spend-limit': 'pass',
      'eum-events': 'pass',
    });
    expect(checks['eum-events']?.saw).toMatch(
      /the path is in place: .*no poller runs, so whether events arrive is not known/,
    );
    expect(checks['eum-registration']?.saw).toMatch(/registration-0123456789abcdef/);
  });

  it('fails two-way pointed elsewhere and an unregistered 10DLC number, with the fix', async () => {
    const made = await setUp(standIn, unregistered);
    await made.smsVoice.send(
      new UpdatePhoneNumberCommand({
        PhoneNumberId: unregistered,
        TwoWayEnabled: true,
        TwoWayChannelArn: `${made.resources.topicArn}-old`,
      }),
    );
    const checks = await doctor(standIn, made, unregistered);
    expect(checks['eum-two-way']).toMatchObject({
      status: 'fail',
      saw: expect.stringContaining(`not to the inbound topic ${made.resources.topicArn}`),
      fix: expect.stringContaining('sms-ask setup'),
    });
    expect(checks['eum-registration']).toMatchObject({
      status: 'fail',
      saw: expect.stringContaining('10DLC number that is not in a registered campaign'),
    });
  });

  it('warns of the sandbox and a spend limit of 0, and fails a missing configuration set and identity', async () => {
    const made = await setUp(sandboxed, healthyNumber);
    const checks = await doctor(sandboxed, made, healthyNumber);
    expect(checks['eum-account']).toMatchObject({ status: 'warn', fix: expect.stringMatching(/production access/) });
    expect(checks['eum-spend-limit']).toMatchObject({ status: 'warn', saw: expect.stringMatching(/USD 0/) });

    const missing = await doctor(sandboxed, { ...made, name: 'no-such-set' }, '+18885550999');
    expect(missing['eum-configuration-set']).toMatchObject({
      status: 'fail',
      saw: expect.stringContaining('there is no configuration set no-such-set'),
    });
    expect(missing['eum-origination']).toMatchObject({
      status: 'fail',
      saw: expect.stringContaining('+18885550999 is not a phone-number of this account'),
    });
    expect(missing['eum-two-way']?.status).toBe('skip');
  });
});
