/**
 * SIGTERM while replies are arriving: the worker drains (its poller stops receiving, routings in
 * hand are cut short and left on the queue) and exits 0, and no reply is lost: whatever it had not
 * routed is answered by the next worker.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { expect, it } from 'vitest';
import { SmsAskClient } from '../../src/client/sms-ask-client';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { snsDeliveredReplyBody, waitForSms } from '../../src/local-stack/phone-simulator';
import { localAws, newPhone, sharedStack, sharedStackClient } from '../support/harness';
import { BIN, WorkerProcess, workerEnv } from '../support/worker-process';

it('drains on SIGTERM with replies arriving, exits 0, and loses none of them', async () => {
  const aws = localAws();
  const name = `drain-${randomUUID().slice(0, 8)}`;
  const inbound = await provisionInboundResources({
    ...aws,
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 5,
  });
  const taskQueue = `drain-${randomUUID()}`;
  const env = workerEnv(sharedStack(), { taskQueue, queueUrl: inbound.queueUrl });
  const client = await sharedStackClient();
  let first: WorkerProcess | undefined;
  let second: WorkerProcess | undefined;
  try {
    first = await WorkerProcess.start([process.execPath, BIN, 'worker'], env);
    const asks = new SmsAskClient(client, { taskQueue });
    const phones = Array.from({ length: 4 }, () => newPhone());
    const started = await Promise.all(
      phones.map((phone) =>
        asks.start({ to: phone, question: `Disable account ${phone}?`, options: ['Yes', 'No'], timeout: '10m' }),
      ),
    );
    const replies = await Promise.all(
      phones.map(async (phone) => {
        const sms = await waitForSms(sharedStack().awsEndpoint, (m) => m.phoneNumber === phone, 30_000);
        return snsDeliveredReplyBody(inbound.topicArn, { from: phone, body: /Yes \((\d+)\)/.exec(sms.message)![1]! });
      }),
    );
    await Promise.all(
      replies.map((body) => aws.sqs.send(new SendMessageCommand({ QueueUrl: inbound.queueUrl, MessageBody: body }))),
    );

    expect(await first.stop()).toBe(0);
    expect(first.log).toContain('inbound poller stopped');

    // The next worker takes over the queue's poller and answers whatever the first left there.
    second = await WorkerProcess.start([process.execPath, BIN, 'worker'], env);
    const results = await Promise.all(started.map(({ askId }) => asks.result(askId)));
    expect(results.map((result) => [result.status, result.answer?.option])).toEqual(
      phones.map(() => ['answered', 'Yes']),
    );
  } finally {
    await first?.stop();
    // Only when it ran: an earlier failure must show as itself, not as this.
    const secondExit = await second?.stop();
    if (second) expect(secondExit, second.log).toBe(0);
    await client.connection.close();
  }
}, 180_000);
