import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { WorkerOptions } from '@temporalio/worker';
import pino from 'pino';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import { routeReply } from '../../src/inbound/reply-router';
import { SmsAskClient } from '../../src/client/sms-ask-client';
import { loadSettings } from '../../src/config';
import { installQuietRuntime } from '../../src/worker/runtime';
import { createSmsAskWorker } from '../../src/worker/worker';
import { dataConverterFor } from '../../src/temporal/connection';
import type { Settings, SettingsInput } from '../../src/config';
import type { InboundReply } from '../../src/domain/inbound-message';
import { localAwsClientConfig } from '../../src/local-stack/local-stack';
import { inboundSignal, recipientWorkflowId } from '../../src/workflows/definitions';
import type { SharedStack } from './global-setup';

installQuietRuntime();

export function sharedStack(): SharedStack {
  return inject('stack');
}

/** The servers a test worker talks to: the shared ones, or a test's own local stack. */
export type TestStack = Pick<SharedStack, 'temporalAddress' | 'namespace' | 'region' | 'awsEndpoint'>;

export function localAws(stack: TestStack = sharedStack()) {
  const config = localAwsClientConfig(stack);
  return { sns: new SNSClient(config), sqs: new SQSClient(config) };
}

/** A Temporal client of the shared dev server; close its connection when done. */
export async function sharedStackClient(stack: TestStack = sharedStack()): Promise<Client> {
  return new Client({
    connection: await Connection.connect({ address: stack.temporalAddress }),
    namespace: stack.namespace,
  });
}

export interface TestWorker {
  client: Client;
  /** The worker deployment version it polls as, when the settings turn versioning on. */
  version?: WorkerDeploymentVersion;
  asks: SmsAskClient;
  settings: Settings;
  taskQueue: string;
  /**
   * Puts the number on this worker's view of SNS's opt-out list, as AWS does when a person texts
   * STOP. moto cannot: its list is fixed (every number ending in 99), and those numbers cannot be
   * sent a question in the first place.
   */
  optOut(phone: string): void;
  stop(): Promise<void>;
}

/** An SNS client whose CheckIfPhoneNumberIsOptedOut also answers yes for the numbers in `optedOut`. */
function withOptOutList(sns: SNSClient, optedOut: ReadonlySet<string>): SNSClient {
  sns.middlewareStack.add(
    (next, context) => async (args) => {
      const phone = (args.input as { phoneNumber?: string }).phoneNumber;
      if (context.commandName === 'CheckIfPhoneNumberIsOptedOutCommand' && phone !== undefined && optedOut.has(phone)) {
        return { output: { isOptedOut: true, $metadata: {} }, response: {} } as Awaited<ReturnType<typeof next>>;
      }
      return next(args);
    },
    { step: 'initialize', name: 'testOptOutList' },
  );
  return sns;
}

/**
 * A real worker on the shared Temporal dev server with the real activities talking to moto, on a
 * task queue of its own so that tests never see each other's workflows.
 */
export async function startTestWorker(
  overrides: SettingsInput = {},
  workerOptions: Partial<Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>> & {
    logger?: Logger;
    /** Default: the shared dev server and moto. */
    stack?: TestStack;
    /** An End User Messaging endpoint (the stand-in), for `smsSender: end-user-messaging`. */
    smsVoiceEndpoint?: string;
  } = {},
): Promise<TestWorker> {
  const { logger, stack = sharedStack(), smsVoiceEndpoint, ...workflows } = workerOptions;
  const settings = loadSettings(
    {},
    { taskQueue: `test-${randomUUID()}`, logLevel: 'silent', webhookAllowHttpLoopback: true, ...overrides },
  );
  // With payload keys, the worker and its client read and write through the codec, as every entry point does.
  const dataConverter = settings.payloadKeys ? dataConverterFor(settings) : undefined;
  const client = dataConverter
    ? new Client({
        connection: await Connection.connect({ address: stack.temporalAddress }),
        namespace: stack.namespace,
        dataConverter,
      })
    : await sharedStackClient(stack);
  const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
  const optedOut = new Set<string>();
  const aws = localAws(stack);
  const worker = await createSmsAskWorker({
    connection: nativeConnection,
    namespace: stack.namespace,
    client,
    aws: {
      ...aws,
      sns: withOptOutList(aws.sns, optedOut),
      ...(smsVoiceEndpoint && {
        smsVoice: new PinpointSMSVoiceV2Client({ ...localAwsClientConfig(stack), endpoint: smsVoiceEndpoint }),
      }),
    },
    settings,
    logger: logger ?? pino({ level: settings.logLevel }),
    ...(dataConverter && { dataConverter }),
    workflows: workflows.workflowsPath
      ? workflows
      : {
          workflowBundle: workflows.workflowBundle ?? { code: readFileSync(sharedStack().workflowBundlePath, 'utf8') },
        },
  });
  const running = worker.run();
  return {
    client,
    asks: new SmsAskClient(client, { taskQueue: settings.taskQueue }),
    settings,
    taskQueue: settings.taskQueue,
    version: worker.version,
    optOut: (phone) => optedOut.add(phone),
    async stop() {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await client.connection.close();
    },
  };
}

/** Area codes whose 555 numbers libphonenumber accepts: ten of them make collisions between parallel tests ten times rarer. */
const AREA_CODES = ['206', '425', '253', '360', '509', '312', '415', '617', '212', '303'];

/**
 * A fresh, valid US number, so that parallel tests never share a phone (tests that list a phone's
 * SMS in moto see every test's). Never one ending in 99: moto reports those as opted out, which
 * would fail the ask.
 */
export function newPhone(): string {
  const line = String(Math.floor(Math.random() * 10_000)).padStart(4, '0');
  const area = AREA_CODES[Math.floor(Math.random() * AREA_CODES.length)]!;
  return line.endsWith('99') ? newPhone() : `+1${area}555${line}`;
}

/** Where a reply goes: a worker on the dev server or on the time-skipping test server. */
export type ReplyTarget = Pick<TestWorker, 'client' | 'taskQueue'>;

const quietLogger = pino({ level: 'silent' });

/** Routes a reply as the poller does once it has read it from SQS; throws unless Temporal took it. */
export async function deliverReply(
  worker: ReplyTarget,
  from: string,
  body: string,
  dedupeKey: string = randomUUID(),
): Promise<void> {
  const reply: InboundReply = { from, body, dedupeKey, inboundMessageId: dedupeKey, format: 'raw' };
  const outcome = await routeReply({ client: worker.client, logger: quietLogger }, worker.taskQueue, reply);
  if (outcome !== 'routed') throw new Error(`the reply from ${from} was not routed: ${outcome}`);
}

/** Signals a reply to the recipient workflow as routers before `routeReply` did (a rolling upgrade). */
export async function signalReplyAsOlderRouter(
  worker: ReplyTarget,
  from: string,
  body: string,
  dedupeKey: string = randomUUID(),
): Promise<void> {
  const reply: InboundReply = { from, body, dedupeKey, inboundMessageId: dedupeKey, format: 'raw' };
  await worker.client.workflow.getHandle(recipientWorkflowId(worker.taskQueue, from)).signal(inboundSignal, reply);
}

/** Polls until the check returns a value (not undefined), or fails with the last value seen. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
