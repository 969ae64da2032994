/**
 * The benchmark's knobs: defaults sized for a run under 10 minutes on 2 cores at today's cost per
 * ask (the full sizes, `--burst 2000 --sizes 100,1000,10000`, take about 45 minutes there), and a
 * --quick set for CI.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ASK_PRIORITIES } from '../src/domain/ask-priority';
import type { AskPriority } from '../src/domain/ask-priority';

export interface BenchOptions {
  quick: boolean;
  out: string;
  /** Replies per second in the latency and scale scenarios. */
  rate: number;
  /** Seconds of replies at `rate` in the latency scenario. */
  duration: number;
  burst: number;
  sizes: number[];
  /** Replies per size in the scale scenario. */
  samples: number;
  /** Asks started at once in the outbound scenario. */
  outbound: number;
  publishRate: number;
  floorSamples: number;
  xsoar: boolean;
  /** Write a CPU profile of each worker process. */
  profile: boolean;
  /** Replies in each XSOAR-style run; it handles about one a second. */
  xsoarReplies: number;
  /** Seconds an XSOAR-style run waits for answers before it reports what it has. */
  xsoarCap: number;
  /** Asks started at once in the campaign scenario; several sizes find the knee. */
  campaign: number[];
  /** Replies to asks already out, sent while the campaign sends (at 5/s). */
  campaignReplies: number;
  /** The campaign's asks start with each of these priorities in turn (the asks already out are normal). */
  campaignPriority: AskPriority[];
  /** Asks sent through End User Messaging (the stand-in) in the receipts scenario. */
  receipts: number;
  /** Run only these scenarios (all when empty). */
  only: Scenario[];
  /** The SQS server the replies travel through (SNS and the SMS record stay on moto). */
  sqs: SqsServer;
}

export const SQS_SERVERS = ['elasticmq', 'moto'] as const;
export type SqsServer = (typeof SQS_SERVERS)[number];

export const SCENARIOS = [
  'limit',
  'floor',
  'latency',
  'throughput',
  'scale',
  'xsoar',
  'receipts',
  'outbound',
  'campaign',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

const DEFAULTS: Omit<BenchOptions, 'quick' | 'out' | 'xsoar' | 'profile' | 'only' | 'sqs'> = {
  rate: 20,
  duration: 10,
  burst: 300,
  sizes: [100, 1000],
  samples: 40,
  outbound: 60,
  publishRate: 20,
  floorSamples: 100,
  // Three receive batches, so the XSOAR-style poll interval shows; one batch would arrive at once.
  xsoarReplies: 30,
  xsoarCap: 45,
  campaign: [2000],
  campaignReplies: 100,
  campaignPriority: ['normal', 'bulk'],
  receipts: 40,
};

const QUICK: Partial<BenchOptions> = {
  duration: 2,
  burst: 50,
  sizes: [10, 50],
  samples: 10,
  outbound: 40,
  floorSamples: 10,
  xsoarReplies: 5,
  xsoarCap: 12,
  campaign: [50],
  campaignReplies: 10,
  receipts: 10,
};

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number');
  return n;
}

function positiveInteger(value: string): number {
  const n = positiveNumber(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('a whole number');
  return n;
}

function scenarioList(value: string): Scenario[] {
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length)
    throw new InvalidArgumentError(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  return names as Scenario[];
}

function priorityList(value: string): AskPriority[] {
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((name) => !(ASK_PRIORITIES as readonly string[]).includes(name));
  if (unknown.length)
    throw new InvalidArgumentError(`unknown priority ${unknown.join(', ')}; choose from ${ASK_PRIORITIES.join(', ')}`);
  return names as AskPriority[];
}

function sizeList(value: string): number[] {
  const sizes = value.split(',').map((s) => positiveInteger(s.trim()));
  if (sizes.some((s, i) => i > 0 && s <= sizes[i - 1]!))
    throw new InvalidArgumentError('sizes in increasing order, e.g. 100,1000,10000');
  return sizes;
}

export function parseOptions(argv: string[]): BenchOptions {
  const program = new Command('bench')
    .description('Benchmark sms-ask on the local stack, side by side with XSOAR-style polling.')
    .option('--quick', 'a small run for CI: checks that every scenario completes')
    .option('--out <dir>', 'where the JSON report and chart go', 'bench-results')
    .option('--no-xsoar', 'skip the XSOAR-style runs')
    .option('--profile', 'write a V8 CPU profile of each worker to <out>/profiles')
    .addOption(new Option('--rate <n>', `replies per second (default ${DEFAULTS.rate})`).argParser(positiveNumber))
    .addOption(
      new Option(
        '--duration <s>',
        `seconds of steady replies (default ${DEFAULTS.duration}, quick ${QUICK.duration})`,
      ).argParser(positiveNumber),
    )
    .addOption(
      new Option('--burst <n>', `replies in the burst (default ${DEFAULTS.burst}, quick ${QUICK.burst})`).argParser(
        positiveInteger,
      ),
    )
    .addOption(
      new Option(
        '--sizes <list>',
        `pending asks for the scale scenario (default ${DEFAULTS.sizes.join(',')})`,
      ).argParser(sizeList),
    )
    .addOption(
      new Option('--samples <n>', `replies per size (default ${DEFAULTS.samples}, quick ${QUICK.samples})`).argParser(
        positiveInteger,
      ),
    )
    .addOption(
      new Option(
        '--outbound <n>',
        `asks started at once (default ${DEFAULTS.outbound}, quick ${QUICK.outbound})`,
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option(
        '--publish-rate <n>',
        `SMS_ASK_SMS_PUBLISH_RATE in the outbound scenario (default ${DEFAULTS.publishRate})`,
      ).argParser(positiveNumber),
    )
    .addOption(
      new Option('--floor-samples <n>', `samples of each floor primitive (default ${DEFAULTS.floorSamples})`).argParser(
        positiveInteger,
      ),
    )
    .addOption(
      new Option('--xsoar-replies <n>', `replies per XSOAR-style run (default ${DEFAULTS.xsoarReplies})`).argParser(
        positiveInteger,
      ),
    )
    .addOption(
      new Option(
        '--campaign <list>',
        `asks started at once, one campaign per size (default ${DEFAULTS.campaign.join(',')}, quick ${QUICK.campaign?.join(',')}; the full size is 10000)`,
      ).argParser(sizeList),
    )
    .addOption(
      new Option(
        '--campaign-replies <n>',
        `replies to asks already out while a campaign sends (default ${DEFAULTS.campaignReplies}, quick ${QUICK.campaignReplies})`,
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option(
        '--campaign-priority <list>',
        `the campaign asks' priority; several (e.g. normal,bulk) run each campaign once per priority (default ${DEFAULTS.campaignPriority.join(',')})`,
      ).argParser(priorityList),
    )
    .addOption(
      new Option(
        '--receipts <n>',
        `asks sent through End User Messaging in the receipts scenario (default ${DEFAULTS.receipts}, quick ${QUICK.receipts})`,
      ).argParser(positiveInteger),
    )
    .addOption(new Option('--only <list>', `run only these scenarios: ${SCENARIOS.join(', ')}`).argParser(scenarioList))
    .addOption(
      new Option(
        '--sqs <server>',
        'the SQS the replies travel through: elasticmq (many calls at once) or moto (one call at a time, as the local stack)',
      )
        .choices(SQS_SERVERS)
        .default('elasticmq'),
    )
    .addOption(
      new Option(
        '--xsoar-cap <s>',
        `seconds an XSOAR-style run waits for answers (default ${DEFAULTS.xsoarCap})`,
      ).argParser(positiveNumber),
    )
    .parse(argv);
  const given = program.opts<Partial<BenchOptions>>();
  const explicit = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return {
    ...DEFAULTS,
    ...(given.quick ? QUICK : {}),
    ...explicit,
    quick: Boolean(given.quick),
    out: given.out!,
    xsoar: given.xsoar !== false,
    profile: Boolean(given.profile),
    only: given.only ?? [],
    sqs: given.sqs ?? 'elasticmq',
  };
}

/** Whether a scenario runs: every one by default, only the named ones with --only; --no-xsoar drops the XSOAR-style runs. */
export function runs(options: BenchOptions, scenario: Scenario): boolean {
  if (scenario === 'xsoar' && !options.xsoar) return false;
  return options.only.length === 0 || options.only.includes(scenario);
}
