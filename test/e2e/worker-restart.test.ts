/** Durability: an ask outlives its worker, and a reply sent while no worker runs is not lost. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { publishPhoneReply, waitForSms } from '../../src/local-stack/phone-simulator';
import { ensureInboundPoller } from '../../src/worker/worker';
import { localAws, newPhone, sharedStack, startTestWorker } from '../support/harness';

describe('worker restarts', () => {
  it('answers an ask whose reply arrived while the worker was down, once a new worker starts', async () => {
    const aws = localAws();
    const name = `restart-${randomUUID().slice(0, 8)}`;
    const inbound = await provisionInboundResources({
      ...aws,
      queueName: name,
      topicName: name,
      visibilityTimeoutSeconds: 5,
      maxReceiveCount: 5,
    });

    const first = await startTestWorker({ queueUrl: inbound.queueUrl, pollWaitSeconds: 1 });
    const pollerId = await ensureInboundPoller(first.client, first.settings);
    const phone = newPhone();
    const { askId } = await first.asks.start({ to: phone, question: 'Restart-proof?', timeout: '10m' });
    const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone);
    await first.stop();

    // The phone answers while nothing polls the queue: the reply must wait there, not vanish.
    await publishPhoneReply(aws.sns, inbound.topicArn, { from: phone, body: /Yes \((\d+)\)/.exec(sms.message)![1]! });

    const second = await startTestWorker({
      queueUrl: inbound.queueUrl,
      pollWaitSeconds: 1,
      taskQueue: first.taskQueue,
    });
    try {
      expect(await ensureInboundPoller(second.client, second.settings)).toBe(pollerId);
      const result = await second.asks.result(askId);
      expect(result.answer).toMatchObject({ option: 'Yes', via: 'sms', by: phone });
    } finally {
      await second.stop();
    }
  }, 90_000);
});
