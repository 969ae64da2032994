/**
 * An answer is recorded when the workflow task that takes it completes, and that task sends the
 * confirmation SMS as a local activity: a slow SNS must not hold the answer back from the ask's
 * status (the ask's result still waits for its notices, as it always has). Real parts: the
 * dev server, moto, the worker; SNS reached through the fault proxy, which delays every publish.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FaultProxy } from '../../faults/fault-proxy';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { listSentSms, publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';
import { ensureInboundPoller } from '../../src/worker/worker';
import { eventually, localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';
import type { TestWorker } from '../support/harness';

const aws = localAws();
let proxy: FaultProxy;
let worker: TestWorker;
let topicArn: string;

beforeAll(async () => {
  const name = `slow-sns-${randomUUID().slice(0, 8)}`;
  const inbound = await provisionInboundResources({
    ...aws,
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 5,
  });
  topicArn = inbound.topicArn;
  proxy = await FaultProxy.start(sharedStack().awsEndpoint);
  worker = await startTestWorker(
    { queueUrl: inbound.queueUrl, pollWaitSeconds: 1 },
    { stack: { ...sharedStack(), awsEndpoint: proxy.endpoint } },
  );
  await ensureInboundPoller(worker.client, worker.settings);
});
afterAll(async () => {
  await worker?.stop();
  await proxy?.stop();
});

it('shows the answer within seconds while SNS takes 20 s a publish, and the confirmation still goes out', async () => {
  const phone = newPhone();
  const question = 'Disable the VPN account of j.doe?';
  const { askId } = await worker.asks.start({ to: phone, question, options: ['Yes', 'No'], timeout: '10m' });
  const sms = await waitForSms(
    sharedStack().awsEndpoint,
    (m) => m.phoneNumber === phone && m.message.startsWith(question),
  );
  const code = /Yes \((\d+)\)/.exec(sms.message)![1]!;

  proxy.setRules([{ service: 'sns', action: 'Publish', fault: 'latency', latencyMs: 20_000, probability: 1 }]);
  const repliedAt = Date.now();
  await publishPhoneReply(aws.sns, topicArn, { from: phone, body: code });
  const answered = await eventually(
    async () => {
      const state = await worker.asks.status(askId);
      return state.status === 'waiting' ? undefined : state;
    },
    'the answer',
    60_000,
  );
  const tookMs = Date.now() - repliedAt;

  expect(answered).toMatchObject({ status: 'answered', answer: { option: 'Yes', by: phone } });
  // One try of 3 s within the task that takes the answer, then the SMS queue. A task held by a longer
  // try shows its state only when the SDK heartbeats it, at 8 s (80 % of the task timeout).
  expect(tookMs).toBeLessThan(7_000);
  proxy.clearRules();
  expect(await worker.asks.result(askId)).toMatchObject({ status: 'answered' });
  await eventually(
    async () =>
      (await listSentSms(sharedStack().awsEndpoint)).some((m) => m.phoneNumber === phone && m.message !== sms.message)
        ? true
        : undefined,
    'the confirmation SMS',
    60_000,
  );
});
