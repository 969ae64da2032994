/**
 * The servers of a fault run, each one a process this harness can stop and start again: a Temporal
 * dev server that keeps its state in a database file (so it comes back with every workflow where it
 * was), a moto server with the inbound resources provisioned as `setup` would, and ElasticMQ, the
 * SQS server that the fault runs and the benchmark put the inbound queue on.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { Connection } from '@temporalio/client';
import { localAwsClientConfig, provisionInboundResources } from '../src/local-stack/local-stack';
import { resolveElasticMqClasspath, resolveMotoServer, resolveTemporalExecutable } from '../src/local-stack/tools';
import { devServerSearchAttributeArgs } from '../src/temporal/search-attribute-registration';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A child process that is killed when this process exits, however it exits. */
class OwnedProcess {
  readonly exited: Promise<void>;
  private done = false;
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  constructor(
    readonly child: ChildProcess,
    logFile: string,
  ) {
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    process.once('exit', this.killOnExit);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        this.done = true;
        process.off('exit', this.killOnExit);
        log.end();
        resolve();
      }),
    );
  }

  get running(): boolean {
    return !this.done;
  }

  async stop(): Promise<void> {
    if (this.done) return;
    this.child.kill('SIGTERM');
    const force = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(force);
  }
}

/** `temporal server start-dev` on a fixed port with a database file: stop() and start() keep every workflow. */
export class TemporalDevServer {
  private process: OwnedProcess | undefined;
  readonly address: string;

  constructor(
    private readonly port: number,
    private readonly dbFile: string,
    private readonly logFile: string,
  ) {
    this.address = `127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const cli = resolveTemporalExecutable();
    if (cli.type !== 'existing-path') throw new Error('the Temporal CLI is not installed: run `npm run bootstrap`');
    const args = [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--headless',
      '--db-filename',
      this.dbFile,
      '--log-level',
      'error',
      '--namespace',
      'default',
      '--dynamic-config-value',
      'frontend.enableExecuteMultiOperation=true',
      ...devServerSearchAttributeArgs(),
    ];
    this.process = new OwnedProcess(spawn(cli.path, args, { stdio: ['ignore', 'pipe', 'pipe'] }), this.logFile);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!this.process.running) throw new Error(`the Temporal dev server exited at start; see ${this.logFile}`);
      try {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 2_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: 'default' });
          return;
        } finally {
          await connection.close();
        }
      } catch {
        if (Date.now() > deadline)
          throw new Error(`the Temporal dev server did not answer within 60 s; see ${this.logFile}`);
        await sleep(250);
      }
    }
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }
}

export interface MotoServer {
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
  topicArn: string;
  stop(): Promise<void>;
}

/** moto with the inbound topic, queue and DLQ; the queue keeps the defaults that `setup` gives (30 s visibility, 5 receives). */
export async function startMoto(logFile: string, region: string): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const moto = new OwnedProcess(
    spawn(resolveMotoServer(), ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] }),
    logFile,
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (!moto.running || Date.now() > deadline) {
      await moto.stop();
      throw new Error(`moto did not start; see ${logFile}`);
    }
    await sleep(100);
  }
  const config = localAwsClientConfig({ region, awsEndpoint: endpoint });
  const [sns, sqs, sts] = [new SNSClient(config), new SQSClient(config), new STSClient(config)];
  try {
    const resources = await provisionInboundResources({
      sns,
      sqs,
      sts,
      queueName: 'sms-ask-inbound',
      topicName: 'sms-ask-inbound',
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
    });
    return { endpoint, ...resources, stop: () => moto.stop() };
  } catch (err) {
    await moto.stop();
    throw err;
  } finally {
    sns.destroy();
    sqs.destroy();
    sts.destroy();
  }
}

export interface ElasticMqServer {
  endpoint: string;
  pid: number;
  /** A queue and its DLQ, as `setup` makes them on SQS (redrive after `maxReceiveCount` receives). */
  createInboundQueue(
    name: string,
    options: { visibilityTimeoutSeconds: number; maxReceiveCount: number },
  ): Promise<{ queueUrl: string; dlqUrl: string }>;
  stop(): Promise<void>;
}

/** Sends and receives this many messages before it is handed over, so that the JIT's warm-up is not measured. */
const ELASTICMQ_WARM_UP_MESSAGES = 2_000;

/**
 * ElasticMQ on a free loopback port: many connections at once, and no per-call connection, where
 * moto serves one call at a time. Queue URLs name this endpoint, so the SDK sends to it.
 */
export async function startElasticMq(logFile: string, region: string): Promise<ElasticMqServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-ask-elasticmq-'));
  const configFile = path.join(dir, 'elasticmq.conf');
  fs.writeFileSync(
    configFile,
    [
      'include classpath("application.conf")',
      `node-address { protocol = http, host = "127.0.0.1", port = ${port}, context-path = "" }`,
      `rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }`,
      'rest-stats { enabled = false }',
      'generate-node-address = false',
      `aws { region = "${region}", accountId = "000000000000" }`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    'java',
    [
      '-XX:+UseSerialGC',
      `-Dconfig.file=${configFile}`,
      '-cp',
      resolveElasticMqClasspath(),
      'org.elasticmq.server.Main',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const server = new OwnedProcess(child, logFile);
  const stop = async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const sqs = new SQSClient(localAwsClientConfig({ region, awsEndpoint: endpoint }));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await sqs.send(new ListQueuesCommand({}));
        break;
      } catch {
        if (!server.running || Date.now() > deadline) throw new Error(`ElasticMQ did not start; see ${logFile}`);
        await sleep(250);
      }
    }
    await warmUp(sqs);
  } catch (err) {
    sqs.destroy();
    await stop();
    throw err;
  }
  return {
    endpoint,
    pid: child.pid!,
    async createInboundQueue(name, options) {
      const { QueueUrl: dlqUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
      );
      const { QueueUrl: queueUrl } = await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(options.visibilityTimeoutSeconds),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: Attributes!.QueueArn,
              maxReceiveCount: options.maxReceiveCount,
            }),
          },
        }),
      );
      return { queueUrl: queueUrl!, dlqUrl: dlqUrl! };
    },
    async stop() {
      sqs.destroy();
      await stop();
    },
  };
}

async function warmUp(sqs: SQSClient): Promise<void> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'warm-up' }));
  const batches = ELASTICMQ_WARM_UP_MESSAGES / 10;
  for (let i = 0; i < batches; i++) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: 10 }, (_, n) => ({ Id: String(n), MessageBody: `warm-up ${i} ${n}` })),
      }),
    );
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    if (Messages.length > 0)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: Messages.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
  }
  await sqs.send(new DeleteQueueCommand({ QueueUrl }));
}
