/**
 * The servers of a fault run, each one a process this harness can stop and start again: a Temporal
 * dev server that keeps its state in a database file (so it comes back with every workflow where it
 * was), and a moto server with the inbound resources provisioned as `setup` would.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { Connection } from '@temporalio/client';
import { localAwsClientConfig, provisionInboundResources } from '../src/local-stack/local-stack';
import { resolveMotoServer, resolveTemporalExecutable } from '../src/local-stack/tools';
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
