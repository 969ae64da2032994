/** The fault run's proxy, between a real AWS SDK client and moto: each fault looks to the SDK as it would from AWS. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from '../../faults/fault-proxy';
import { provisionInboundResources } from '../../src/local-stack/local-stack';
import { localAws, sharedStack } from '../support/harness';

let proxy: FaultProxy;
let queueUrl: string;
const clientConfig = () => ({
  region: sharedStack().region,
  endpoint: proxy.endpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
});

beforeAll(async () => {
  const name = `proxy-${Date.now()}`;
  const inbound = await provisionInboundResources({
    ...localAws(),
    queueName: name,
    topicName: name,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 5,
  });
  proxy = await FaultProxy.start(sharedStack().awsEndpoint);
  queueUrl = inbound.queueUrl.replace(sharedStack().awsEndpoint, proxy.endpoint);
});
afterAll(async () => {
  await proxy?.stop();
});

describe('FaultProxy', () => {
  it('passes calls through untouched without a rule', async () => {
    const sns = new SNSClient(clientConfig());
    const out = await sns.send(new PublishCommand({ PhoneNumber: '+12065550142', Message: 'through the proxy' }));
    expect(out.MessageId).toBeTruthy();
    expect(proxy.snapshot().requests['sns:Publish']).toBeGreaterThan(0);
  });

  it('throttles and fails SNS publishes in the query protocol, and SQS receives in JSON, as AWS would', async () => {
    const sns = new SNSClient(clientConfig());
    proxy.setRules([{ service: 'sns', action: 'Publish', fault: 'throttle', probability: 1 }]);
    await expect(sns.send(new PublishCommand({ PhoneNumber: '+12065550142', Message: 'x' }))).rejects.toMatchObject({
      name: 'Throttling',
      $metadata: { httpStatusCode: 400 },
    });
    proxy.setRules([{ service: 'sns', action: 'Publish', fault: 'error5xx', probability: 1 }]);
    await expect(sns.send(new PublishCommand({ PhoneNumber: '+12065550142', Message: 'x' }))).rejects.toMatchObject({
      name: 'InternalFailure',
      $fault: 'server',
    });

    const sqs = new SQSClient(clientConfig());
    proxy.setRules([{ service: 'sqs', action: 'ReceiveMessage', fault: 'error5xx', probability: 1 }]);
    await expect(sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }))).rejects.toMatchObject(
      { $metadata: { httpStatusCode: 500 } },
    );
    proxy.setRules([{ service: 'sqs', action: 'ReceiveMessage', fault: 'drop', probability: 1 }]);
    await expect(sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }))).rejects.toThrow();
    proxy.clearRules();
    await expect(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 })),
    ).resolves.toBeDefined();
    expect(proxy.snapshot().injected).toMatchObject({
      'sns:Publish:throttle': 1,
      'sns:Publish:error5xx': 1,
      'sqs:ReceiveMessage:error5xx': 1,
      'sqs:ReceiveMessage:drop': 1,
    });
  });

  it('adds latency by rule', async () => {
    const sqs = new SQSClient(clientConfig());
    proxy.setRules([{ service: 'sqs', action: 'ReceiveMessage', fault: 'latency', latencyMs: 1_500, probability: 1 }]);
    const started = Date.now();
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    proxy.clearRules();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
  });

  it('sends SQS calls to an SQS server of their own when given one, and the rest to the emulator', async () => {
    const sqsCalls: string[] = [];
    const sqsServer = http.createServer((req, res) => {
      sqsCalls.push(String(req.headers['x-amz-target']));
      req.resume().on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ Messages: [] }));
      });
    });
    await new Promise<void>((resolve) => sqsServer.listen(0, '127.0.0.1', resolve));
    const split = await FaultProxy.start(sharedStack().awsEndpoint, {
      sqsTarget: `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`,
    });
    try {
      const config = { ...clientConfig(), endpoint: split.endpoint };
      const published = await new SNSClient(config).send(
        new PublishCommand({ PhoneNumber: '+12065550142', Message: 'to the emulator' }),
      );
      expect(published.MessageId).toBeTruthy();
      const received = await new SQSClient(config).send(
        new ReceiveMessageCommand({ QueueUrl: `${split.endpoint}/000000000000/elsewhere`, WaitTimeSeconds: 0 }),
      );
      expect(received.Messages ?? []).toEqual([]);
      expect(sqsCalls).toEqual(['AmazonSQS.ReceiveMessage']);
    } finally {
      await split.stop();
      await new Promise((resolve) => sqsServer.close(resolve));
    }
  });
});
