/**
 * npm run bench: reply latency, burst throughput, scale and outbound rate of sms-ask on the local
 * stack, each measured with sms-ask's polling defaults and, in the same run, with the XSOAR pack's
 * (5 s long poll, 10 messages, 10 s sleep), next to the floor set by SQS and Temporal themselves.
 * The replies travel through ElasticMQ by default (--sqs): moto serves one call at a time, and on
 * it the reply path would measure the emulator. SNS, the SMS record and the receipts stay on moto.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { SmsAskClient } from '../src/client/sms-ask-client';
import { localAwsClientConfig, startLocalStack } from '../src/local-stack/local-stack';
import type { LocalStack } from '../src/local-stack/local-stack';
import { installQuietRuntime } from '../src/worker/runtime';
import { startElasticMq } from '../faults/servers';
import type { ElasticMqServer } from '../faults/servers';
import type { StackPids } from './cpu-meter';
import { createFleet, createPendingAsks, drainQueue } from './fleet';
import type { Fleet, PendingAsk } from './fleet';
import { mapConcurrently, sleep } from './pool';
import { Progress } from './progress';
import { parseOptions, runs } from './options';
import type { BenchOptions } from './options';
import { mib, writeReport } from './report';
import type { BenchResults } from './report';
import { measureCampaign } from './scenarios/campaign';
import { costSoFar, per } from './scenarios/costs';
import type { WorkCost } from './scenarios/costs';
import { measureFloor } from './scenarios/floor';
import { measureLimit } from './scenarios/limit';
import { measureLatency } from './scenarios/latency';
import { measureOutbound } from './scenarios/outbound';
import { measureReceipts } from './scenarios/receipts';
import { measureAtSize, PendingPool } from './scenarios/scale';
import { measureThroughput } from './scenarios/throughput';
import { WorkerProcess } from './worker-process';

/** The XSOAR pack's polling, run by sms-ask's own poller. */
const XSOAR_POLLING = {
  SMS_ASK_POLL_WAIT_SECONDS: '5',
  SMS_ASK_POLL_BATCH_SIZE: '10',
  SMS_ASK_POLL_INTERVAL_MS: '10000',
};
/** Setup must not wait on the SMS rate limit: only the outbound scenario measures it. */
const SETUP_PUBLISH_RATE = '1000';
/** How long an sms-ask run waits for answers before it gives up on the rest. */
const OURS_CAP_MS = 120_000;
const TASK_QUEUE = 'bench';
const OUTBOUND_TASK_QUEUE = 'bench-outbound';
const LIMIT_TASK_QUEUE = 'bench-limit';
const RECEIPTS_TASK_QUEUE = 'bench-receipts';
/** Replies per second to asks already out while a campaign sends. */
const CAMPAIGN_REPLY_RATE = 5;
/** Asks (and replies) whose histories the costs are counted from. */
const COST_SAMPLE = 20;
const COST_SETTLE_MS = 2_000;
/** The inbound queue's settings, as `setup` gives them. */
const INBOUND_QUEUE = { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 };

/** Where the replies travel: moto's SQS (the local stack's), or ElasticMQ beside it. */
interface ReplySqs {
  name: string;
  sqs: SQSClient;
  /** The reply scenarios' inbound queue. */
  queueUrl: string;
  /** A new inbound queue with its DLQ. */
  createQueue(name: string): Promise<string>;
  /** What a worker needs to poll `queueUrl` there. */
  workerEnv(queueUrl: string): Record<string, string>;
  pids: StackPids;
}

const SCENARIOS_WITH_REPLIES = ['floor', 'latency', 'throughput', 'scale', 'xsoar', 'outbound', 'campaign'] as const;

async function replySqsOn(stack: LocalStack, elasticMq: ElasticMqServer | undefined): Promise<ReplySqs> {
  if (!elasticMq) {
    const sqs = new SQSClient(localAwsClientConfig(stack));
    return {
      name: 'moto',
      sqs,
      queueUrl: stack.queueUrl,
      createQueue: async (name) => (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!,
      workerEnv: (queueUrl) => ({ SMS_ASK_QUEUE_URL: queueUrl }),
      pids: stack.pids,
    };
  }
  const { queueUrl } = await elasticMq.createInboundQueue('bench-inbound', INBOUND_QUEUE);
  return {
    name: 'ElasticMQ',
    sqs: new SQSClient(localAwsClientConfig({ region: stack.region, awsEndpoint: elasticMq.endpoint })),
    queueUrl,
    createQueue: async (name) => (await elasticMq.createInboundQueue(name, INBOUND_QUEUE)).queueUrl,
    workerEnv: (url) => ({ AWS_ENDPOINT_URL_SQS: elasticMq.endpoint, SMS_ASK_QUEUE_URL: url }),
    pids: { ...stack.pids, sqs: elasticMq.pid },
  };
}

async function run(): Promise<void> {
  const options = parseOptions(process.argv);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  installQuietRuntime();
  const outDir = path.resolve(options.out);
  fs.mkdirSync(outDir, { recursive: true });
  const started = Date.now();

  const stackProgress = new Progress('local stack');
  const stack = await startLocalStack({ log: (line) => stackProgress.update(line) });
  stackProgress.done(`Temporal ${stack.temporalAddress}, moto ${stack.awsEndpoint}`);
  let elasticMq: ElasticMqServer | undefined;
  if (options.sqs === 'elasticmq' && SCENARIOS_WITH_REPLIES.some((scenario) => runs(options, scenario))) {
    const progress = new Progress('ElasticMQ');
    elasticMq = await startElasticMq(path.join(outDir, 'elasticmq.log'), stack.region);
    progress.done(`${elasticMq.endpoint} (the replies' SQS)`);
  }
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const workers = new Set<WorkerProcess>();
  const stopAll = async () => {
    await Promise.all([...workers].map((worker) => worker.stop()));
    await connection.close();
    await elasticMq?.stop();
    await stack.stop();
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    const results = await runScenarios(
      options,
      stack,
      await replySqsOn(stack, elasticMq),
      new Client({ connection, namespace: stack.namespace }),
      outDir,
      workers,
    );
    results.runSeconds = (Date.now() - started) / 1000;
    const markdown = writeReport(results, outDir);
    process.stderr.write(`\nreport: ${path.join(outDir, 'bench.json')}, chart: ${path.join(outDir, 'scale.svg')}\n\n`);
    process.stdout.write(markdown);
  } finally {
    await stopAll();
  }
}

async function runScenarios(
  options: BenchOptions,
  stack: LocalStack,
  replySqs: ReplySqs,
  client: Client,
  outDir: string,
  workers: Set<WorkerProcess>,
): Promise<BenchResults> {
  const motoSqs = new SQSClient(localAwsClientConfig(stack));
  const fleet = createFleet(client, replySqs.sqs, TASK_QUEUE, stack);
  const profileArgs = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(outDir, 'profiles')}`] : [];
  const started = async (name: string, starting: Promise<WorkerProcess>) => {
    const progress = new Progress(`worker ${name}`);
    const worker = await starting;
    workers.add(worker);
    progress.done(
      `pid ${worker.pid}, ready in ${worker.startup.startSeconds.toFixed(1)} s, ${mib(worker.startup.rssAtStartBytes)} MiB resident`,
    );
    return worker;
  };
  const startWorker = (name: string, env: Record<string, string>) =>
    started(
      name,
      WorkerProcess.start(name, { ...stack.env, ...env }, path.join(outDir, `worker-${name}.log`), profileArgs),
    );
  const stopWorker = async (worker: WorkerProcess) => {
    await worker.stop();
    workers.delete(worker);
  };
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    runSeconds: 0,
    machine: machine(),
    options,
    replySqs: replySqs.name,
  };

  if (runs(options, 'limit')) {
    const limitWorker = await started(
      'limit',
      WorkerProcess.startLimitWorker(
        'limit',
        { ...stack.env, BENCH_LIMIT_TASK_QUEUE: LIMIT_TASK_QUEUE },
        path.join(outDir, 'worker-limit.log'),
        profileArgs,
      ),
    );
    results.limit = await measureLimit({
      client,
      worker: limitWorker,
      stackPids: stack.pids,
      taskQueue: LIMIT_TASK_QUEUE,
      count: options.burst,
      progress: new Progress('limit'),
    });
    await stopWorker(limitWorker);
  }

  const replyScenarios = (['floor', 'latency', 'throughput', 'scale', 'xsoar'] as const).filter((scenario) =>
    runs(options, scenario),
  );
  if (replyScenarios.length > 0)
    await runReplyScenarios(options, stack, replySqs, fleet, results, startWorker, stopWorker);

  if (runs(options, 'receipts')) {
    // On the stack's inbound queue, where the configuration set's events arrive (the reply scenarios' worker has stopped).
    const receiptsWorker = await startWorker('receipts', {
      SMS_ASK_TASK_QUEUE: RECEIPTS_TASK_QUEUE,
      SMS_ASK_SMS_PUBLISH_RATE: SETUP_PUBLISH_RATE,
      SMS_ASK_SMS_SENDER: 'end-user-messaging',
      SMS_ASK_ORIGINATION_IDENTITY: stack.originationNumber,
    });
    results.receipts = await measureReceipts({
      fleet: { ...fleet, sqs: motoSqs, asks: new SmsAskClient(client, { taskQueue: RECEIPTS_TASK_QUEUE }) },
      standIn: stack.endUserMessaging,
      queueUrl: stack.queueUrl,
      taskQueue: RECEIPTS_TASK_QUEUE,
      count: options.receipts,
      progress: new Progress('receipts'),
    });
    await stopWorker(receiptsWorker);
  }

  if (runs(options, 'outbound')) {
    const outboundQueueUrl = await replySqs.createQueue('bench-outbound-inbound');
    const outboundWorker = await startWorker('outbound', {
      ...replySqs.workerEnv(outboundQueueUrl),
      SMS_ASK_TASK_QUEUE: OUTBOUND_TASK_QUEUE,
      SMS_ASK_SMS_PUBLISH_RATE: String(options.publishRate),
    });
    results.outbound = await measureOutbound({
      fleet: { ...fleet, asks: new SmsAskClient(client, { taskQueue: OUTBOUND_TASK_QUEUE }) },
      count: options.outbound,
      limitPerSecond: options.publishRate,
      progress: new Progress('outbound'),
    });
    await stopWorker(outboundWorker);
  }

  if (runs(options, 'campaign')) {
    results.campaigns = [];
    for (const [size, priority] of options.campaign.flatMap((size) =>
      options.campaignPriority.map((priority) => [size, priority] as const),
    )) {
      // Each campaign on a fresh worker and task queue, so that its peak memory is its own.
      const name = `campaign-${size}-${priority}`;
      const taskQueue = `bench-${name}`;
      const queueUrl = await replySqs.createQueue(`bench-${name}-inbound`);
      const worker = await startWorker(name, {
        ...replySqs.workerEnv(queueUrl),
        SMS_ASK_TASK_QUEUE: taskQueue,
        SMS_ASK_SMS_PUBLISH_RATE: SETUP_PUBLISH_RATE,
      });
      results.worker ??= worker.startup;
      const campaignFleet = { ...fleet, asks: new SmsAskClient(client, { taskQueue }) };
      const setup = new Progress(`campaign ${size} ${priority}: asks out before`);
      const replyTo = await createPendingAsks(campaignFleet, options.campaignReplies, (status) => setup.update(status));
      setup.done();
      const campaign = await measureCampaign({
        fleet: campaignFleet,
        queueUrl,
        worker,
        count: size,
        priority,
        replyTo,
        replyPerSecond: CAMPAIGN_REPLY_RATE,
        progress: new Progress(`campaign ${size} ${priority}`),
        stackPids: replySqs.pids,
      });
      results.campaigns.push(campaign);
      results.campaign = campaign;
      await stopWorker(worker);
    }
  }
  motoSqs.destroy();
  replySqs.sqs.destroy();
  return results;
}

/** The scenarios that answer pending asks, on one worker and task queue: floor, latency, throughput, scale, and their XSOAR-style runs. */
async function runReplyScenarios(
  options: BenchOptions,
  stack: LocalStack,
  replySqs: ReplySqs,
  fleet: Fleet,
  results: BenchResults,
  startWorker: (name: string, env: Record<string, string>) => Promise<WorkerProcess>,
  stopWorker: (worker: WorkerProcess) => Promise<void>,
): Promise<void> {
  const { client } = fleet;
  const { queueUrl } = replySqs;
  const replyWorkerEnv = {
    ...replySqs.workerEnv(queueUrl),
    SMS_ASK_TASK_QUEUE: TASK_QUEUE,
    SMS_ASK_SMS_PUBLISH_RATE: SETUP_PUBLISH_RATE,
  };
  let worker = await startWorker('ours', replyWorkerEnv);
  results.worker = worker.startup;

  if (runs(options, 'floor')) {
    results.floor = await measureFloor({
      sqs: fleet.sqs,
      client,
      temporalAddress: stack.temporalAddress,
      namespace: stack.namespace,
      samples: options.floorSamples,
      progress: new Progress('floor'),
    });
  }

  // Every ask the latency and throughput runs answer, created up front on the one task queue.
  const latencyReplies = runs(options, 'latency') ? Math.round(options.rate * options.duration) : 0;
  const burst = runs(options, 'throughput') ? options.burst : 0;
  const xsoarReplies = runs(options, 'xsoar') ? options.xsoarReplies : 0;
  const setupProgress = new Progress('pending asks for replies');
  const all = await createPendingAsks(fleet, latencyReplies + burst + 2 * xsoarReplies, (s) => setupProgress.update(s));
  setupProgress.done();
  const batches = splitAt(all, [latencyReplies, burst, xsoarReplies, xsoarReplies]);
  const [latencyAsks, burstAsks, xsoarLatencyAsks, xsoarBurstAsks] = batches as [
    PendingAsk[],
    PendingAsk[],
    PendingAsk[],
    PendingAsk[],
  ];

  // Costs are counted on some of the asks the latency run answers: once they wait, once they are answered.
  const costSample = latencyAsks.slice(0, COST_SAMPLE);
  const costBefore = costSample.length > 0 ? await costSoFar(client, TASK_QUEUE, costSample) : undefined;

  if (runs(options, 'latency')) {
    results.latency = {
      ours: await measureLatency({
        fleet,
        queueUrl,
        asks: latencyAsks,
        perSecond: options.rate,
        capMs: OURS_CAP_MS,
        progress: new Progress('latency (ours)'),
      }),
    };
  }
  if (costBefore) {
    const progress = new Progress('costs');
    await mapConcurrently(costSample, 16, (ask) =>
      fleet.client.workflow
        .getHandle(ask.askId)
        .result()
        .catch(() => undefined),
    );
    await sleep(COST_SETTLE_MS); // the recipients' last tasks for these asks
    const after = await costSoFar(client, TASK_QUEUE, costSample);
    results.costs = {
      sample: costSample.length,
      perAsk: per(costBefore, costSample.length),
      perReply: per(after, costSample.length, costBefore),
    };
    progress.done(`per ask ${describeCost(results.costs.perAsk)}; per reply ${describeCost(results.costs.perReply)}`);
  }
  if (runs(options, 'throughput')) {
    const ours = await measureThroughput({
      fleet,
      queueUrl,
      asks: burstAsks,
      capMs: OURS_CAP_MS,
      progress: new Progress('throughput (ours)'),
      pids: { worker: worker.pid, ...replySqs.pids },
    });
    if (results.limit) ours.fractionOfLimit = ours.perSecond / results.limit.perSecond;
    results.throughput = { ours };
  }

  const pool = new PendingPool(fleet);
  if (runs(options, 'scale')) {
    results.scale = { ours: [] };
    for (const size of options.sizes) {
      const progress = new Progress(`scale ${size} (ours)`);
      await pool.growTo(size + options.samples, progress);
      const point = await measureAtSize({
        fleet,
        queueUrl,
        worker,
        pool,
        samples: options.samples,
        perSecond: options.rate,
        capMs: OURS_CAP_MS,
        progress,
      });
      // Marginal: the memory the last size's extra pending asks added (the first size: since the worker started).
      const previous = results.scale.ours[results.scale.ours.length - 1] ?? {
        rssBytes: worker.startup.rssAtStartBytes,
        pending: 0,
      };
      point.bytesPerPendingAsk = (point.rssBytes - previous.rssBytes) / (point.pending - previous.pending);
      progress.done(
        `p50 ${point.latency.p50} ms, p99 ${point.latency.p99} ms, ${mib(point.rssBytes)} MiB resident (${Math.round(point.bytesPerPendingAsk / 1024)} KiB per pending ask), ${point.cpuMsPerReply.toFixed(1)} ms CPU/reply`,
      );
      results.scale.ours.push(point);
    }
  }

  if (runs(options, 'xsoar')) {
    // Same task queue and queue, so the XSOAR-style poller takes over the pending asks above.
    await stopWorker(worker);
    worker = await startWorker('xsoar-style', { ...replyWorkerEnv, ...XSOAR_POLLING });
    const capMs = options.xsoarCap * 1000;
    const leftovers = async (asks: readonly PendingAsk[]) => {
      await drainQueue(fleet, queueUrl);
      await mapConcurrently(asks, 32, (ask) =>
        fleet.asks.cancel(ask.askId, { by: 'bench', reason: 'benchmark clean-up' }).catch(() => undefined),
      );
    };
    results.latency ??= { ours: undefined };
    results.latency.xsoar = await measureLatency({
      fleet,
      queueUrl,
      asks: xsoarLatencyAsks,
      perSecond: options.rate,
      capMs,
      progress: new Progress('latency (XSOAR-style)'),
    });
    await leftovers(xsoarLatencyAsks);
    results.throughput ??= { ours: undefined };
    results.throughput.xsoar = await measureThroughput({
      fleet,
      queueUrl,
      asks: xsoarBurstAsks,
      capMs,
      progress: new Progress('throughput (XSOAR-style)'),
    });
    await leftovers(xsoarBurstAsks);
    if (pool.size > 0) {
      const progress = new Progress(`scale ${pool.size} (XSOAR-style)`);
      const point = await measureAtSize({
        fleet,
        queueUrl,
        worker,
        pool,
        samples: Math.min(options.samples, options.xsoarReplies),
        perSecond: options.rate,
        capMs,
        progress,
      });
      progress.done(`p50 ${point.latency.p50} ms, ${point.latency.completed}/${point.latency.count} answered`);
      results.scale ??= { ours: [] };
      results.scale.xsoar = [point];
    }
  }
  await stopWorker(worker);
}

function describeCost(cost: WorkCost): string {
  return `${cost.workflowTasks} workflow tasks, ${cost.historyEvents} events, ${cost.actions} actions`;
}

/** Consecutive slices of the given lengths; the rest, if any, is dropped. */
function splitAt<T>(items: readonly T[], lengths: readonly number[]): T[][] {
  let start = 0;
  return lengths.map((length) => items.slice(start, (start += length)));
}

function machine() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
