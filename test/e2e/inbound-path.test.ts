/**
 * The inbound path on real parts (Temporal dev server, moto's SNS and SQS, the worker's poller):
 * who can put a reply on the queue and be believed, and a phone whose recipient workflow is gone.
 */
import { execFileSync } from 'node:child_process';
import { createSign, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import {
  publishPhoneReply,
  snsDeliveredReplyBody,
  twoWayReplyPayload,
  waitForSms,
} from '../../src/local-stack/phone-simulator';
import { metricsRegistry } from '../../src/observability/metrics';
import { recipientWorkflowId } from '../../src/workflows/definitions';
import { ensureInboundPoller } from '../../src/worker/worker';
import { eventually, localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

const aws = localAws();
type Inbound = Awaited<ReturnType<typeof provisionInboundResources>>;

async function freshInbound(): Promise<Inbound> {
  const name = `inbound-${randomUUID().slice(0, 8)}`;
  return provisionInboundResources({
    ...aws,
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 2,
  });
}

/** A worker polling a queue and topic of its own, with the settings a describe block adds. */
async function workerOnFreshInbound(
  settings: Parameters<typeof startTestWorker>[0] = {},
): Promise<{ worker: TestWorker; inbound: Inbound }> {
  const inbound = await freshInbound();
  const worker = await startTestWorker({
    queueUrl: inbound.queueUrl,
    inboundTopicArn: inbound.topicArn,
    pollWaitSeconds: 1,
    ...settings,
  });
  await ensureInboundPoller(worker.client, worker.settings);
  return { worker, inbound };
}

async function askAndReadSms(
  worker: TestWorker,
  phone: string,
  question: string,
): Promise<{ askId: string; sms: string }> {
  const { askId } = await worker.asks.start({ to: phone, question, options: ['Yes', 'No'], timeout: '10m' });
  const sms = await waitForSms(
    sharedStack().awsEndpoint,
    (m) => m.phoneNumber === phone && m.message.startsWith(question),
  );
  return { askId, sms: sms.message };
}

function codeIn(sms: string, option: string): string {
  const code = new RegExp(`${option} \\((\\d+)\\)`).exec(sms)?.[1];
  if (!code) throw new Error(`no code for ${option} in: ${sms}`);
  return code;
}

/** Waits until the DLQ holds a message with this body (redrive after maxReceiveCount receives). */
async function inDlq(inbound: Inbound, body: string) {
  return eventually(
    async () => {
      const { Messages } = await aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: inbound.dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 0,
        }),
      );
      return Messages?.find((m) => m.Body === body);
    },
    'the message in the DLQ',
    20_000,
  );
}

async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metricsRegistry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('who may write a reply to the queue', () => {
  let worker: TestWorker;
  let inbound: Inbound;

  beforeAll(async () => {
    // The deployment declares nothing beyond the default: SNS envelopes from its inbound topic.
    ({ worker, inbound } = await workerOnFreshInbound());
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it('refuses a bare two-way payload and an envelope of another topic written straight to the queue, and answers through the topic', async () => {
    const phone = newPhone();
    const { askId, sms } = await askAndReadSms(worker, phone, `Isolate host ${randomUUID().slice(0, 6)}?`);
    const yes = codeIn(sms, 'Yes');

    // Anyone with sqs:SendMessage: a raw payload (no raw delivery declared), and a forged envelope.
    const raw = JSON.stringify(twoWayReplyPayload({ from: phone, body: yes }));
    const otherTopic = snsDeliveredReplyBody('arn:aws:sns:us-east-1:123456789012:someone-else', {
      from: phone,
      body: yes,
    });
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: inbound.queueUrl, MessageBody: raw }));
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: inbound.queueUrl, MessageBody: otherTopic }));
    await inDlq(inbound, raw);
    await inDlq(inbound, otherTopic);
    expect((await worker.asks.status(askId)).status).toBe('waiting');

    // The agreed way in for every path (AWS, and the Twilio fallback): publish to the inbound topic.
    await publishPhoneReply(aws.sns, inbound.topicArn, { from: phone, body: codeIn(sms, 'No') });
    expect((await worker.asks.result(askId)).answer).toMatchObject({ option: 'No', by: phone });
  });
});

describe('SNS signature verification', () => {
  let worker: TestWorker;
  let inbound: Inbound;
  let certDir: string;
  let privateKey: string;
  let certUrl: string;
  let certFetches = 0;
  const server = createServer((req, res) => {
    certFetches++;
    if (req.url !== '/SimpleNotificationService-test.pem') return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(readFileSync(path.join(certDir, 'cert.pem')));
  });

  beforeAll(async () => {
    // A certificate of the test's own, served on loopback as SNS serves its signing certificate.
    certDir = mkdtempSync(path.join(tmpdir(), 'sns-cert-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=sns.test',
        '-days',
        '2',
        '-keyout',
        path.join(certDir, 'key.pem'),
        '-out',
        path.join(certDir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    privateKey = readFileSync(path.join(certDir, 'key.pem'), 'utf8');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    certUrl = `${base}SimpleNotificationService-test.pem`;
    ({ worker, inbound } = await workerOnFreshInbound({
      inboundVerifySignatures: true,
      snsSigningCertUrlPrefixes: [base],
    }));
  });
  afterAll(async () => {
    await worker?.stop();
    server.close();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  /** An SNS notification as SNS signs it (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA). */
  function signedEnvelope(message: string, version: '1' | '2', tamper?: (e: Record<string, string>) => void): string {
    const envelope: Record<string, string> = {
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: inbound.topicArn,
      Message: message,
      Timestamp: new Date().toISOString(),
      SignatureVersion: version,
      SigningCertURL: certUrl,
    };
    const toSign = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type']
      .map((k) => `${k}\n${envelope[k]}\n`)
      .join('');
    envelope.Signature = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256')
      .update(toSign)
      .sign(privateKey, 'base64');
    tamper?.(envelope);
    return JSON.stringify(envelope);
  }

  it('answers with a validly signed envelope (versions 1 and 2), fetching the certificate once, and refuses an altered one or an unsigned one', async () => {
    const phone = newPhone();
    const { askId, sms } = await askAndReadSms(worker, phone, `Disable account ${randomUUID().slice(0, 6)}?`);
    const payload = (body: string) => JSON.stringify(twoWayReplyPayload({ from: phone, body }));

    // Signed for "No", then its Message swapped for "Yes"; and moto's own envelope, which SNS did not sign.
    const altered = signedEnvelope(payload(codeIn(sms, 'No')), '2', (e) => (e.Message = payload(codeIn(sms, 'Yes'))));
    const unsigned = snsDeliveredReplyBody(inbound.topicArn, { from: phone, body: codeIn(sms, 'Yes') });
    const otherCertHost = signedEnvelope(
      payload(codeIn(sms, 'Yes')),
      '2',
      (e) => (e.SigningCertURL = 'https://evil.example/SimpleNotificationService-x.pem'),
    );
    for (const body of [altered, unsigned, otherCertHost])
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: inbound.queueUrl, MessageBody: body }));
    for (const body of [altered, unsigned, otherCertHost]) await inDlq(inbound, body);
    expect((await worker.asks.status(askId)).status).toBe('waiting');

    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: inbound.queueUrl,
        MessageBody: signedEnvelope(payload(codeIn(sms, 'No')), '1'),
      }),
    );
    expect((await worker.asks.result(askId)).answer).toMatchObject({ option: 'No', by: phone });

    const second = newPhone();
    const next = await askAndReadSms(worker, second, `Reset MFA ${randomUUID().slice(0, 6)}?`);
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: inbound.queueUrl,
        MessageBody: signedEnvelope(
          JSON.stringify(twoWayReplyPayload({ from: second, body: codeIn(next.sms, 'Yes') })),
          '2',
        ),
      }),
    );
    expect((await worker.asks.result(next.askId)).answer).toMatchObject({ option: 'Yes', by: second });
    expect(certFetches).toBe(1);
  });
});

describe('a phone whose recipient workflow is gone', () => {
  let worker: TestWorker;
  let inbound: Inbound;

  beforeAll(async () => {
    ({ worker, inbound } = await workerOnFreshInbound());
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it("keeps the reply, starts the workflow again with the ask's codes, and the ask gets its answer", async () => {
    const phone = newPhone();
    const { askId, sms } = await askAndReadSms(worker, phone, `Block IP ${randomUUID().slice(0, 6)}?`);
    const recipient = worker.client.workflow.getHandle(recipientWorkflowId(worker.taskQueue, phone));
    await recipient.terminate('an operator cleaning up');
    const restoredBefore = await counter('sms_ask_recipient_workflows_restored_total');
    const goneBefore = await counter('sms_ask_replies_not_routed_total', { reason: 'recipient_gone' });

    await publishPhoneReply(aws.sns, inbound.topicArn, { from: phone, body: codeIn(sms, 'Yes') });

    expect((await worker.asks.result(askId)).answer).toMatchObject({
      option: 'Yes',
      by: phone,
      code: codeIn(sms, 'Yes'),
    });
    expect(await counter('sms_ask_recipient_workflows_restored_total')).toBe(restoredBefore + 1);
    expect(await counter('sms_ask_replies_not_routed_total', { reason: 'recipient_gone' })).toBeGreaterThan(goneBefore);
    const { Attributes } = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: inbound.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Attributes?.ApproximateNumberOfMessages).toBe('0');
  });
});
