/**
 * npm run faults: outages and faults under a steady stream of replies, on the local stack with
 * real parts (a Temporal dev server with a database file, moto for SNS and ElasticMQ for SQS behind a
 * fault-injecting proxy, two `sms-ask worker` processes on one queue). For each scenario: replies
 * sent, answered, lost, answered twice, misrouted, SMS sent twice, messages in the DLQ.
 *
 *   npm run faults               every scenario at full length (about 20 minutes and more on 2 cores)
 *   npm run faults -- --quick    a short smoke run of every scenario
 *   npm run faults -- --only kill,temporal-down   some scenarios
 *   npm run faults -- --sqs moto the queue on moto too (it serves one call at a time: a stream of
 *                                20 replies/s outruns it on 2 cores)
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { createFleet } from '../bench/fleet';
import type { Fleet, PendingAsk } from '../bench/fleet';
import { sleep } from '../bench/pool';
import { localAwsClientConfig } from '../src/local-stack/local-stack';
import { inboundPollerWorkflowId } from '../src/workflows/definitions';
import { createAsks } from './asks';
import { FaultProxy } from './fault-proxy';
import type { FaultRule } from './fault-proxy';
import { sendReplyStream, Strangers } from './load';
import { collectOutcomes, tally } from './outcomes';
import type { ScenarioResult } from './outcomes';
import { renderTable } from './report';
import { freePort, startElasticMq, startMoto, TemporalDevServer } from './servers';
import { WorkerPool } from './worker-pool';

const REGION = 'us-east-1';
const TASK_QUEUE = 'sms-ask';
const OUT_DIR = path.resolve(__dirname, '..', 'fault-results');

interface Stage {
  fleet: Fleet;
  proxy: FaultProxy;
  temporal: TemporalDevServer;
  workers: WorkerPool;
  /** The queue as the load generator reaches it (no faults). */
  queueUrl: string;
  /** The queue as the workers reach it (through the proxy). */
  workerQueueUrl: string;
  dlqUrl: string;
  strangers: Strangers;
  log: (line: string) => void;
}

interface Scenario {
  name: string;
  /** What the table says. */
  label: string;
  /** The fault's length, and of the steady reply stream during it. */
  seconds: number;
  /** Runs the fault for `seconds`; the replies flow meanwhile. */
  fault(stage: Stage, seconds: number): Promise<void>;
}

/** The proxy injects these faults for `seconds`, then none. */
async function faultsFor(stage: Stage, seconds: number, rules: FaultRule[]): Promise<void> {
  stage.proxy.setRules(rules);
  await sleep(seconds * 1000);
  stage.proxy.clearRules();
}

const SCENARIOS: Scenario[] = [
  {
    name: 'kill',
    label: 'worker SIGKILL every 30 s',
    seconds: 300,
    async fault(stage, seconds) {
      const end = Date.now() + seconds * 1000;
      for (let i = 0; Date.now() + 30_000 <= end; i++) {
        await sleep(30_000);
        const worker = stage.workers.workers[i % stage.workers.workers.length]!;
        stage.log(`SIGKILL ${worker.name}`);
        worker.kill();
      }
      await sleep(Math.max(end - Date.now(), 0));
    },
  },
  {
    name: 'temporal-down',
    label: 'Temporal down',
    seconds: 300,
    async fault(stage, seconds) {
      stage.log('stopping the Temporal server');
      await stage.temporal.stop();
      await sleep(seconds * 1000);
      stage.log('starting the Temporal server again (same database file)');
      await stage.temporal.start();
    },
  },
  {
    name: 'sns-faults',
    label: 'SNS throttling + 5xx on 30 % of publishes',
    seconds: 120,
    async fault(stage, seconds) {
      // 15 % throttled, then 5xx on 15/85 of the rest: 30 % of publishes in all.
      await faultsFor(stage, seconds, [
        { service: 'sns', action: 'Publish', fault: 'throttle', probability: 0.15 },
        { service: 'sns', action: 'Publish', fault: 'error5xx', probability: 0.15 / 0.85 },
      ]);
    },
  },
  {
    name: 'sqs-receive-errors',
    label: 'SQS receive errors (5xx, throttling, dropped connections)',
    seconds: 60,
    async fault(stage, seconds) {
      await faultsFor(stage, seconds, [
        { service: 'sqs', action: 'ReceiveMessage', fault: 'error5xx', probability: 0.5 },
        { service: 'sqs', action: 'ReceiveMessage', fault: 'throttle', probability: 0.5 },
        { service: 'sqs', action: 'ReceiveMessage', fault: 'drop', probability: 1 },
      ]);
    },
  },
  {
    name: 'poller-terminated',
    label: 'poller workflow terminated by hand',
    seconds: 90,
    async fault(stage, seconds) {
      await sleep(5_000);
      const handle = stage.fleet.client.workflow.getHandle(inboundPollerWorkflowId(TASK_QUEUE, stage.workerQueueUrl));
      stage.log('terminating the poller workflow');
      await handle.terminate('fault run: terminated by hand');
      await sleep(seconds * 1000 - 5_000);
    },
  },
];

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

async function runScenario(
  stage: Stage,
  scenario: Scenario,
  seconds: number,
  rate: number,
  answering: number,
  drainSeconds: number,
): Promise<ScenarioResult> {
  const { fleet, log } = stage;
  const count = Math.round(seconds * answering);
  log(`${scenario.name}: creating ${count} pending asks`);
  let lastReport = 0;
  const throttled = (line: string) => {
    if (Date.now() - lastReport < 10_000) return;
    lastReport = Date.now();
    log(`  ${line}`);
  };
  const asks: PendingAsk[] = await createAsks(fleet, count, throttled);
  const dlqBefore = await queueDepth(fleet.sqs, stage.dlqUrl);
  const proxyBefore = stage.proxy.snapshot();
  const restartsBefore = stage.workers.restarts;
  log(`${scenario.name}: ${scenario.label} for ${seconds} s, replies at ${rate}/s (${answering}/s answering an ask)`);
  const started = Date.now();
  let loadSeconds = 0;
  const [, load] = await Promise.all([
    scenario.fault(stage, seconds),
    sendReplyStream(fleet, stage.queueUrl, asks, stage.strangers, rate, seconds, throttled).finally(
      () => (loadSeconds = (Date.now() - started) / 1000),
    ),
  ]);
  log(
    `${scenario.name}: fault over after ${((Date.now() - started) / 1000).toFixed(0)} s; waiting up to ${drainSeconds} s for the answers`,
  );
  const outcomes = await collectOutcomes(fleet, asks, Date.now() + drainSeconds * 1000, throttled);
  // A reply redelivered after a crash shows up only after the visibility timeout: wait for the
  // queue to empty before counting duplicates.
  const settleUntil = Date.now() + 120_000;
  while ((await queueDepth(fleet.sqs, stage.queueUrl)) > 0 && Date.now() < settleUntil) await sleep(2_000);
  await sleep(5_000);
  const result = await tally(fleet, scenario.label, seconds, asks, outcomes);
  result.sent = load.answering + load.strangers;
  result.fromStrangers = load.strangers;
  // On a busy machine the emulator may take the stream more slowly than it is offered.
  result.loadSeconds = Math.round(loadSeconds);
  result.dlq = (await queueDepth(fleet.sqs, stage.dlqUrl)) - dlqBefore;
  result.workerRestarts = stage.workers.restarts - restartsBefore;
  result.faultsInjected = Object.entries(stage.proxy.snapshot().injected).reduce(
    (sum, [key, n]) => sum + n - (proxyBefore.injected[key] ?? 0),
    0,
  );
  log(`${scenario.name}: ${JSON.stringify(result)}`);
  return result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      rate: { type: 'string' },
      answering: { type: 'string' },
      workers: { type: 'string', default: '2' },
      sqs: { type: 'string', default: 'elasticmq' },
    },
  });
  if (values.sqs !== 'elasticmq' && values.sqs !== 'moto') throw new Error('--sqs is elasticmq or moto');
  const quick = values.quick ?? false;
  const rate = Number(values.rate ?? 20);
  // Replies a second that answer an ask: each ask costs a registration and a question SMS up
  // front, which this machine makes a few a second; the rest of the stream comes from strangers.
  const answering = Number(values.answering ?? 1);
  const only = values.only?.split(',');
  const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.name));
  if (scenarios.length === 0)
    throw new Error(`--only names no scenario; the scenarios are ${SCENARIOS.map((s) => s.name).join(', ')}`);
  // The quick run keeps each fault long enough to matter: Temporal down past the SQS visibility
  // timeout, the poller gone past the watchdog's minute, workers killed twice.
  const secondsOf = (s: Scenario) =>
    quick
      ? { kill: 65, 'temporal-down': 45, 'sns-faults': 20, 'sqs-receive-errors': 20, 'poller-terminated': 75 }[s.name]!
      : s.seconds;
  const drainSeconds = quick ? 240 : 900;

  fs.rmSync(OUT_DIR, { recursive: true, force: true });
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const started = Date.now();
  const log = (line: string) => {
    const stamped = `[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`;
    console.log(stamped);
    fs.appendFileSync(path.join(OUT_DIR, 'faults.log'), `${stamped}\n`);
  };

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse())
      await step().catch((err: unknown) => log(`cleanup: ${(err as Error).message}`));
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const moto = await startMoto(path.join(OUT_DIR, 'moto.log'), REGION);
    cleanups.push(() => moto.stop());
    let inbound = { endpoint: moto.endpoint, queueUrl: moto.queueUrl, dlqUrl: moto.dlqUrl };
    if (values.sqs === 'elasticmq') {
      const elasticMq = await startElasticMq(path.join(OUT_DIR, 'elasticmq.log'), REGION);
      cleanups.push(() => elasticMq.stop());
      const queues = await elasticMq.createInboundQueue('sms-ask-inbound', {
        visibilityTimeoutSeconds: 30,
        maxReceiveCount: 5,
      });
      inbound = { endpoint: elasticMq.endpoint, ...queues };
    }
    const proxy = await FaultProxy.start(moto.endpoint, { sqsTarget: inbound.endpoint });
    cleanups.push(() => proxy.stop());
    // The database file lives in memory-backed /dev/shm where there is one: the run measures faults, not the disk.
    const dbDir = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/sms-ask-faults-') : OUT_DIR;
    cleanups.push(async () => {
      if (dbDir !== OUT_DIR) fs.rmSync(dbDir, { recursive: true, force: true });
    });
    const temporal = new TemporalDevServer(
      await freePort(),
      path.join(dbDir, 'temporal.db'),
      path.join(OUT_DIR, 'temporal.log'),
    );
    await temporal.start();
    cleanups.push(() => temporal.stop());
    log(
      `Temporal ${temporal.address} (database file), moto ${moto.endpoint}, SQS ${inbound.endpoint}, fault proxy ${proxy.endpoint}`,
    );

    // The workers reach SNS and SQS only through the proxy: the queue URL names the proxy too, as
    // the SDK sends SQS calls to the queue URL's host.
    const workerQueueUrl = inbound.queueUrl.replace(inbound.endpoint, proxy.endpoint);
    const workers = new WorkerPool(
      Number(values.workers),
      {
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: 'default',
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL: proxy.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        SMS_ASK_QUEUE_URL: workerQueueUrl,
        SMS_ASK_TASK_QUEUE: TASK_QUEUE,
        // Questions go out as fast as the stack takes them; no scenario measures the rate limit.
        SMS_ASK_SMS_PUBLISH_RATE: '1000',
        SMS_ASK_LOG_LEVEL: 'info',
      },
      OUT_DIR,
    );
    await workers.start();
    cleanups.push(() => workers.stop());
    log(`${workers.workers.length} workers running on one queue`);

    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const sqs = new SQSClient(localAwsClientConfig({ region: REGION, awsEndpoint: inbound.endpoint }));
    cleanups.push(async () => sqs.destroy());
    const fleet = createFleet(client, sqs, TASK_QUEUE, { awsEndpoint: moto.endpoint, topicArn: moto.topicArn });
    const stage: Stage = {
      fleet,
      proxy,
      temporal,
      workers,
      queueUrl: inbound.queueUrl,
      workerQueueUrl,
      dlqUrl: inbound.dlqUrl,
      strangers: new Strangers(),
      log,
    };

    const results: ScenarioResult[] = [];
    for (const scenario of scenarios)
      results.push(await runScenario(stage, scenario, secondsOf(scenario), rate, answering, drainSeconds));

    const table = renderTable(results, rate, answering);
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    const summary = `${table}\n\n(${quick ? 'quick run' : 'full run'}, SQS on ${values.sqs}, ${rate} replies/s of which ${answering}/s answer an ask, ${workers.workers.length} worker processes; whole run ${minutes} min)\n`;
    fs.writeFileSync(path.join(OUT_DIR, 'faults.md'), summary);
    fs.writeFileSync(path.join(OUT_DIR, 'faults.json'), JSON.stringify({ quick, rate, answering, results }, null, 2));
    console.log(`\n${summary}`);
    const bad = results.filter((r) => r.lost + r.answeredTwice + r.misrouted + r.smsTwice + r.dlq > 0);
    if (bad.length > 0) {
      console.error(`not every column is zero in: ${bad.map((r) => r.scenario).join('; ')}`);
      process.exitCode = 1;
    }
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
