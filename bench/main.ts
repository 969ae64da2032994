/**
 * npm run bench: reply latency, burst throughput, scale and outbound rate of sms-ask on the local
 * stack, each measured with sms-ask's polling defaults and, in the same run, with the XSOAR pack's
 * (5 s long poll, 10 messages, 10 s sleep), next to the floor set by SQS and Temporal themselves.
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
import { createPendingAsks, drainQueue, PhoneBook } from './fleet';
import type { Fleet, PendingAsk } from './fleet';
import { mapConcurrently } from './pool';
import { Progress } from './progress';
import { parseOptions } from './options';
import type { BenchOptions } from './options';
import { mib, writeReport } from './report';
import type { BenchResults } from './report';
import { measureFloor } from './scenarios/floor';
import { measureLatency } from './scenarios/latency';
import { measureOutbound } from './scenarios/outbound';
import { measureAtSize, PendingPool } from './scenarios/scale';
import { measureThroughput } from './scenarios/throughput';
import { WorkerProcess } from './worker-process';

/** The XSOAR pack's polling, run by sms-ask's own poller. */
const XSOAR_POLLING = { SMS_ASK_POLL_WAIT_SECONDS: '5', SMS_ASK_POLL_BATCH_SIZE: '10', SMS_ASK_POLL_INTERVAL_MS: '10000' };
/** Setup must not wait on the SMS rate limit: only the outbound scenario measures it. */
const SETUP_PUBLISH_RATE = '1000';
/** How long an sms-ask run waits for answers before it gives up on the rest. */
const OURS_CAP_MS = 120_000;
const TASK_QUEUE = 'bench';
const OUTBOUND_TASK_QUEUE = 'bench-outbound';

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
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const workers = new Set<WorkerProcess>();
  const stopAll = async () => {
    await Promise.all([...workers].map((worker) => worker.stop()));
    await connection.close();
    await stack.stop();
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    const results = await runScenarios(options, stack, new Client({ connection, namespace: stack.namespace }), outDir, workers);
    results.runSeconds = (Date.now() - started) / 1000;
    const markdown = writeReport(results, outDir);
    process.stderr.write(`\nreport: ${path.join(outDir, 'bench.json')}, chart: ${path.join(outDir, 'scale.svg')}\n\n`);
    process.stdout.write(markdown);
  } finally {
    await stopAll();
  }
}

async function runScenarios(options: BenchOptions, stack: LocalStack, client: Client, outDir: string, workers: Set<WorkerProcess>): Promise<BenchResults> {
  const sqs = new SQSClient(localAwsClientConfig(stack));
  const fleet: Fleet = {
    client,
    asks: new SmsAskClient(client, { taskQueue: TASK_QUEUE }),
    sqs,
    awsEndpoint: stack.awsEndpoint,
    topicArn: stack.topicArn,
    phones: new PhoneBook(),
  };
  const startWorker = async (name: string, env: Record<string, string>) => {
    const progress = new Progress(`worker ${name}`);
    const profileArgs = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(outDir, 'profiles')}`] : [];
    const worker = await WorkerProcess.start(name, { ...stack.env, ...env }, path.join(outDir, `worker-${name}.log`), profileArgs);
    workers.add(worker);
    progress.done(`pid ${worker.pid}, ${mib(worker.usage().rssBytes)} MiB resident`);
    return worker;
  };
  const stopWorker = async (worker: WorkerProcess) => {
    await worker.stop();
    workers.delete(worker);
  };
  const replyWorkerEnv = { SMS_ASK_TASK_QUEUE: TASK_QUEUE, SMS_ASK_SMS_PUBLISH_RATE: SETUP_PUBLISH_RATE };

  const results: BenchResults = { startedAt: new Date().toISOString(), runSeconds: 0, machine: machine(), options };
  let worker = await startWorker('ours', replyWorkerEnv);

  results.floor = await measureFloor({
    sqs,
    client,
    temporalAddress: stack.temporalAddress,
    namespace: stack.namespace,
    samples: options.floorSamples,
    progress: new Progress('floor'),
  });

  // Every ask the latency and throughput runs answer, created up front on the one task queue.
  const latencyReplies = Math.round(options.rate * options.duration);
  const setupProgress = new Progress('pending asks for replies');
  const xsoarReplies = options.xsoar ? options.xsoarReplies : 0;
  const all = await createPendingAsks(fleet, latencyReplies + options.burst + 2 * xsoarReplies, (s) => setupProgress.update(s));
  setupProgress.done();
  const batches = splitAt(all, [latencyReplies, options.burst, xsoarReplies, xsoarReplies]);
  const [latencyAsks, burstAsks, xsoarLatencyAsks, xsoarBurstAsks] = batches as [PendingAsk[], PendingAsk[], PendingAsk[], PendingAsk[]];

  results.latency = {
    ours: await measureLatency({ fleet, queueUrl: stack.queueUrl, asks: latencyAsks, perSecond: options.rate, capMs: OURS_CAP_MS, progress: new Progress('latency (ours)') }),
  };
  results.throughput = {
    ours: await measureThroughput({ fleet, queueUrl: stack.queueUrl, asks: burstAsks, capMs: OURS_CAP_MS, progress: new Progress('throughput (ours)') }),
  };

  const pool = new PendingPool(fleet);
  results.scale = { ours: [] };
  for (const size of options.sizes) {
    const progress = new Progress(`scale ${size} (ours)`);
    await pool.growTo(size + options.samples, progress);
    const point = await measureAtSize({ fleet, queueUrl: stack.queueUrl, worker, pool, samples: options.samples, perSecond: options.rate, capMs: OURS_CAP_MS, progress });
    progress.done(`p50 ${point.latency.p50} ms, p99 ${point.latency.p99} ms, ${mib(point.rssBytes)} MiB resident, ${point.cpuMsPerReply.toFixed(1)} ms CPU/reply`);
    results.scale.ours.push(point);
  }

  if (options.xsoar) {
    // Same task queue and queue, so the XSOAR-style poller takes over the pending asks above.
    await stopWorker(worker);
    worker = await startWorker('xsoar-style', { ...replyWorkerEnv, ...XSOAR_POLLING });
    const capMs = options.xsoarCap * 1000;
    const leftovers = async (asks: readonly PendingAsk[]) => {
      await drainQueue(fleet, stack.queueUrl);
      await mapConcurrently(asks, 32, (ask) => fleet.asks.cancel(ask.askId, { by: 'bench', reason: 'benchmark clean-up' }).catch(() => undefined));
    };
    results.latency.xsoar = await measureLatency({ fleet, queueUrl: stack.queueUrl, asks: xsoarLatencyAsks, perSecond: options.rate, capMs, progress: new Progress('latency (XSOAR-style)') });
    await leftovers(xsoarLatencyAsks);
    results.throughput.xsoar = await measureThroughput({ fleet, queueUrl: stack.queueUrl, asks: xsoarBurstAsks, capMs, progress: new Progress('throughput (XSOAR-style)') });
    await leftovers(xsoarBurstAsks);
    const progress = new Progress(`scale ${pool.size} (XSOAR-style)`);
    const point = await measureAtSize({ fleet, queueUrl: stack.queueUrl, worker, pool, samples: Math.min(options.samples, options.xsoarReplies), perSecond: options.rate, capMs, progress });
    progress.done(`p50 ${point.latency.p50} ms, ${point.latency.completed}/${point.latency.count} answered`);
    results.scale.xsoar = [point];
  }
  await stopWorker(worker);

  const { QueueUrl: outboundQueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-outbound-inbound' }));
  const outboundWorker = await startWorker('outbound', {
    SMS_ASK_TASK_QUEUE: OUTBOUND_TASK_QUEUE,
    SMS_ASK_QUEUE_URL: outboundQueueUrl!,
    SMS_ASK_SMS_PUBLISH_RATE: String(options.publishRate),
  });
  results.outbound = await measureOutbound({
    fleet: { ...fleet, asks: new SmsAskClient(client, { taskQueue: OUTBOUND_TASK_QUEUE }) },
    count: options.outbound,
    limitPerSecond: options.publishRate,
    progress: new Progress('outbound'),
  });
  await stopWorker(outboundWorker);
  sqs.destroy();
  return results;
}

/** Consecutive slices of the given lengths; the rest, if any, is dropped. */
function splitAt<T>(items: readonly T[], lengths: readonly number[]): T[][] {
  let start = 0;
  return lengths.map((length) => items.slice(start, (start += length)));
}

function machine() {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
