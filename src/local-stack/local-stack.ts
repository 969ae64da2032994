// A complete local stack for sms-ask, no cloud and no Docker needed: a Temporal dev server
// (Temporal CLI), a moto server standing in for AWS SNS and SQS, with the inbound SMS
// resources provisioned exactly as in a real AWS account, and a loopback stand-in for End User
// Messaging SMS (which moto lacks) that publishes its delivery events to moto's SNS.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { resolveMotoServer, resolveTemporalExecutable } from './tools';
import {
  CreateConfigurationSetCommand,
  CreateEventDestinationCommand,
  PinpointSMSVoiceV2Client,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { PinpointSMSVoiceV2ClientConfig } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { startEndUserMessagingStandIn, type EndUserMessagingStandIn } from './end-user-messaging-stand-in';
import { LOCAL_ORIGINATION_NUMBER } from './phone-simulator';
import { devServerSearchAttributeArgs } from '../temporal/search-attribute-registration';
import { applySetup, planSetup } from '../setup/reconcile';

export interface LocalStackOptions {
  /** Progress lines, default: no output. */
  log?: (line: string) => void;
  /** Default 'us-east-1'. */
  region?: string;
  /** Default 'default'. */
  namespace?: string;
  /** Default 30. Tests pass a small value so redrive to the DLQ is quick. */
  visibilityTimeoutSeconds?: number;
  /** Default 5. */
  maxReceiveCount?: number;
  /** Extra `temporal server start-dev` args, e.g. --search-attribute. */
  extraTemporalArgs?: string[];
}

export interface LocalStack {
  /** 127.0.0.1:PORT */
  temporalAddress: string;
  namespace: string;
  region: string;
  /** http://127.0.0.1:PORT (moto) */
  awsEndpoint: string;
  /** http://127.0.0.1:PORT (the End User Messaging SMS stand-in) */
  smsVoiceEndpoint: string;
  /** The stand-in's origination number (E.164), two-way to the inbound topic. */
  originationNumber: string;
  /** The stand-in itself: what a destination's next SMS go through, and every SMS it took. */
  endUserMessaging: Pick<EndUserMessagingStandIn, 'setOutcome' | 'sent' | 'waitForSent'>;
  queueUrl: string;
  dlqUrl: string;
  topicArn: string;
  /** Env settings that point any sms-ask command at this stack. */
  env: Record<string, string>;
  /** The servers' process ids, where known (for measuring what each costs). */
  pids: { temporal?: number; aws?: number };
  /** Stops the servers; idempotent; never leaves processes behind. */
  stop(): Promise<void>;
}

export const LOCAL_QUEUE_NAME = 'sms-ask-inbound';
export const LOCAL_TOPIC_NAME = 'sms-ask-inbound';
const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Client config (region, endpoint, dummy credentials) for AWS SDK clients talking to a local stack. */
export function localAwsClientConfig(stack: Pick<LocalStack, 'region' | 'awsEndpoint'>) {
  return { region: stack.region, endpoint: stack.awsEndpoint, credentials: LOCAL_CREDENTIALS };
}

/** A configuration set as `setup` would make it: its delivery events go to the inbound topic, as replies do. */
export async function createDeliveryEventDestination(
  config: PinpointSMSVoiceV2ClientConfig,
  topicArn: string,
  configurationSet = LOCAL_CONFIGURATION_SET,
): Promise<void> {
  const client = new PinpointSMSVoiceV2Client(config);
  try {
    await client.send(new CreateConfigurationSetCommand({ ConfigurationSetName: configurationSet }));
    await client.send(
      new CreateEventDestinationCommand({
        ConfigurationSetName: configurationSet,
        EventDestinationName: 'sms-ask-inbound',
        MatchingEventTypes: ['TEXT_ALL'],
        SnsDestination: { TopicArn: topicArn },
      }),
    );
  } finally {
    client.destroy();
  }
}

/** The configurationSet setting's default. */
const LOCAL_CONFIGURATION_SET = 'sms-ask';

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => {});
  const region = options.region ?? 'us-east-1';
  const namespace = options.namespace ?? 'default';
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

  const guard = new ProcessGuard();
  const [motoPort, temporalPort] = await Promise.all([freePort(), freePort()]);
  const [moto, temporal] = await Promise.allSettled([
    startMoto(motoPort, guard, log).then((server) => {
      log(`moto server ready at ${server.endpoint} (${elapsed()})`);
      return server;
    }),
    startTemporal(temporalPort, namespace, options.extraTemporalArgs ?? [], guard, log).then((server) => {
      log(`Temporal dev server ready at ${server.address}, namespace ${namespace} (${elapsed()})`);
      return server;
    }),
  ]);

  let smsVoice: { standIn: EndUserMessagingStandIn; sns: SNSClient } | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // The stand-in first: its pending events go to moto.
      await smsVoice?.standIn.stop();
      smsVoice?.sns.destroy();
      const servers = [temporal, moto].flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const results = await Promise.allSettled(servers.map((server) => server.stop()));
      guard.release(); // kills whatever did not stop
      const failure = results.find((r) => r.status === 'rejected');
      if (failure) throw failure.reason;
    })());

  try {
    if (moto.status === 'rejected') throw moto.reason;
    if (temporal.status === 'rejected') throw temporal.reason;
    const awsEndpoint = moto.value.endpoint;
    const clientConfig = localAwsClientConfig({ region, awsEndpoint });
    const sns = new SNSClient(clientConfig);
    const sqs = new SQSClient(clientConfig);
    const sts = new STSClient(clientConfig);
    const resources = await provisionInboundResources({
      sns,
      sqs,
      sts,
      queueName: LOCAL_QUEUE_NAME,
      topicName: LOCAL_TOPIC_NAME,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
      maxReceiveCount: options.maxReceiveCount ?? 5,
    }).finally(() => {
      sns.destroy();
      sqs.destroy();
      sts.destroy();
    });
    log(`provisioned topic ${LOCAL_TOPIC_NAME} → queue ${LOCAL_QUEUE_NAME} (DLQ ${LOCAL_QUEUE_NAME}-dlq)`);

    const standInSns = new SNSClient(clientConfig);
    smsVoice = {
      sns: standInSns,
      standIn: await startEndUserMessagingStandIn({
        sns: standInSns,
        region,
        phoneNumbers: [
          { phoneNumber: LOCAL_ORIGINATION_NUMBER, twoWayEnabled: true, twoWayChannelArn: resources.topicArn },
        ],
      }).catch((err: unknown) => {
        standInSns.destroy();
        throw err;
      }),
    };
    const smsVoiceEndpoint = smsVoice.standIn.endpoint;
    await createDeliveryEventDestination({ ...clientConfig, endpoint: smsVoiceEndpoint }, resources.topicArn);
    log(`End User Messaging SMS stand-in ready at ${smsVoiceEndpoint}, local stack up in ${elapsed()}`);

    const temporalAddress = temporal.value.address;
    return {
      temporalAddress,
      namespace,
      region,
      awsEndpoint,
      smsVoiceEndpoint,
      originationNumber: LOCAL_ORIGINATION_NUMBER,
      endUserMessaging: smsVoice.standIn,
      queueUrl: resources.queueUrl,
      dlqUrl: resources.dlqUrl,
      topicArn: resources.topicArn,
      pids: { temporal: temporal.value.pid, aws: moto.value.pid },
      env: {
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_NAMESPACE: namespace,
        AWS_REGION: region,
        AWS_ENDPOINT_URL: awsEndpoint,
        AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: smsVoiceEndpoint,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        SMS_ASK_QUEUE_URL: resources.queueUrl,
        SMS_ASK_INBOUND_TOPIC_ARN: resources.topicArn,
        // Its subscription delivers SNS envelopes (moto's are not really signed, so no verification).
        SMS_ASK_INBOUND_FORMATS: 'sns-envelope',
        // Loopback only: keyless HTTP as the local operator, and http:// webhooks to this machine.
        SMS_ASK_HTTP_KEYLESS: 'true',
        SMS_ASK_WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Creates the inbound SMS resources with `setup`'s reconciler: the DLQ, the queue (visibility
 * timeout, redrive to the DLQ, a policy letting the topic send to it), the topic and its SQS
 * subscription (SNS envelope, not raw delivery). Idempotent when called again with the same settings.
 */
export async function provisionInboundResources(params: {
  sns: SNSClient;
  sqs: SQSClient;
  /** Default: an STS client with the SQS client's region, endpoint and credentials. */
  sts?: STSClient;
  queueName: string;
  topicName: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
}): Promise<{
  queueUrl: string;
  dlqUrl: string;
  topicArn: string;
  queueArn: string;
  dlqArn: string;
  subscriptionArn: string;
}> {
  const { sns, sqs, queueName, topicName } = params;
  const sts =
    params.sts ??
    new STSClient({ region: sqs.config.region, endpoint: sqs.config.endpoint, credentials: sqs.config.credentials });
  try {
    const clients = { sns, sqs, sts };
    const target = {
      queueName,
      topicName,
      dlqName: `${queueName}-dlq`,
      visibilityTimeoutSeconds: params.visibilityTimeoutSeconds,
      maxReceiveCount: params.maxReceiveCount,
    };
    const made = await applySetup(clients, await planSetup(clients, target));
    return {
      queueUrl: made.queueUrl,
      dlqUrl: made.dlqUrl,
      topicArn: made.topicArn,
      queueArn: made.queueArn,
      dlqArn: made.dlqArn,
      subscriptionArn: made.subscriptionArn,
    };
  } finally {
    if (!params.sts) sts.destroy();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface RunningServer {
  stop(): Promise<void>;
}

async function startMoto(port: number, guard: ProcessGuard, log: (line: string) => void) {
  const executable = resolveMotoServer();
  const endpoint = `http://127.0.0.1:${port}`;
  log(`starting moto server (${executable}) on ${endpoint}`);
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split(/\r?\n/).filter(Boolean));
    output.splice(0, Math.max(0, output.length - 20));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    const onEnd = (err?: Error) => {
      if (err instanceof Error) output.push(String(err));
      exited = true;
      resolve();
    };
    child.on('exit', () => onEnd());
    child.on('error', onEnd);
  });
  if (child.pid) guard.protect(child.pid);

  const server: RunningServer & { endpoint: string; pid?: number } = {
    endpoint,
    pid: child.pid,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exitedPromise;
        clearTimeout(killTimer);
      }
      if (child.pid) guard.forget(child.pid);
    },
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) break;
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  await server.stop();
  throw new Error(
    `moto server (${executable}) ${exited ? `exited (${child.exitCode ?? child.signalCode ?? 'could not be started'})` : 'did not answer within 30 s'} on ${endpoint}` +
      (output.length ? `; its last output:\n  ${output.join('\n  ')}` : ''),
  );
}

async function startTemporal(
  port: number,
  namespace: string,
  extraArgs: string[],
  guard: ProcessGuard,
  log: (line: string) => void,
) {
  const executable = resolveTemporalExecutable();
  const what =
    executable.type === 'existing-path' ? executable.path : 'the Temporal CLI downloaded by the Temporal SDK';
  log(`starting Temporal dev server (${what}) on 127.0.0.1:${port}`);
  // Loaded only to start a server: it brings the worker SDK and webpack, which the CLI's other commands never need.
  const { TestWorkflowEnvironment: Environment } = await import('@temporalio/testing');
  let env: TestWorkflowEnvironment;
  try {
    env = await Environment.createLocal({
      server: {
        executable,
        ip: '127.0.0.1',
        port,
        namespace,
        ui: false,
        log: { format: 'pretty', level: 'error' },
        extraArgs: [
          '--dynamic-config-value',
          'frontend.enableExecuteMultiOperation=true',
          ...devServerSearchAttributeArgs(),
          ...extraArgs,
        ],
      },
    });
  } catch (err) {
    const hint =
      executable.type === 'cached-download'
        ? 'No Temporal CLI is installed and downloading one failed: run `npm run bootstrap`, or set SMS_ASK_TEMPORAL_CLI=/path/to/temporal'
        : 'Check that this Temporal CLI runs (`temporal server start-dev`), or set SMS_ASK_TEMPORAL_CLI to another one';
    throw new Error(
      `could not start the Temporal dev server (${what}) on 127.0.0.1:${port}: ${(err as Error).message}. ${hint}`,
      {
        cause: err,
      },
    );
  }
  // The SDK owns the server process; note its pid so the guard can kill it should this process die without stop().
  const pid = findChildPid(['start-dev', String(port)]);
  if (pid) guard.protect(pid);
  const server: RunningServer & { address: string; pid?: number } = {
    address: env.address,
    pid,
    async stop() {
      await env.teardown();
      if (pid) guard.forget(pid);
    },
  };
  return server;
}

/** Pid of a child of this process whose command line has all of `args`; Linux /proc, else `ps`; best effort. */
function findChildPid(args: string[]): number | undefined {
  const matches = (cmd: string[]) => args.every((arg) => cmd.includes(arg));
  try {
    if (fs.existsSync('/proc/self/stat')) {
      for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          if (ppid !== process.pid) continue;
          if (matches(fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0'))) return Number(entry);
        } catch {
          // process went away
        }
      }
      return undefined;
    }
    const ps = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,command='], { encoding: 'utf8' });
    for (const line of ps.split('\n')) {
      const [pid, ppid, ...cmd] = line.trim().split(/\s+/);
      if (Number(ppid) === process.pid && matches(cmd)) return Number(pid);
    }
  } catch {
    // best effort
  }
  return undefined;
}

/**
 * Kills the stack's server processes if this process dies without calling stop() — including
 * SIGKILL, which no 'exit' handler sees: a small detached watchdog holds the read end of a pipe
 * from us and kills the protected pids when that pipe closes.
 */
class ProcessGuard {
  private readonly pids = new Set<number>();
  private watchdog: ChildProcess | undefined;
  private readonly onExit = () => {
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  protect(pid: number) {
    if (this.pids.size === 0) process.on('exit', this.onExit);
    this.pids.add(pid);
    this.watchdog ??= this.startWatchdog();
    this.send(`+${pid}`);
  }

  forget(pid: number) {
    this.pids.delete(pid);
    this.send(`-${pid}`);
    if (this.pids.size === 0) process.off('exit', this.onExit);
  }

  /** Kills the pids still protected (their stop() failed) and lets the watchdog go. */
  release() {
    this.onExit();
    for (const pid of this.pids) this.forget(pid);
    this.watchdog?.stdin?.end();
    this.watchdog = undefined;
  }

  private startWatchdog(): ChildProcess | undefined {
    try {
      const watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {
        stdio: ['pipe', 'ignore', 'ignore'],
        detached: true,
      });
      watchdog.on('error', () => (this.watchdog = undefined)); // the 'exit' handler still covers ordinary exits
      watchdog.stdin?.on('error', () => (this.watchdog = undefined));
      watchdog.unref();
      (watchdog.stdin as unknown as net.Socket | null)?.unref?.(); // the pipe must not keep this process alive
      return watchdog;
    } catch {
      return undefined;
    }
  }

  private send(line: string) {
    this.watchdog?.stdin?.write(`${line}\n`);
  }
}

// Runs in the watchdog: "+PID" / "-PID" lines add / remove pids; when stdin closes because the
// parent is gone, it SIGKILLs what is left. A parent that ends cleanly has removed them all.
const WATCHDOG_SOURCE = `
const pids = new Set();
let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  const lines = buffer.split('\\n');
  buffer = lines.pop();
  for (const line of lines) (line[0] === '+' ? pids.add(Number(line.slice(1))) : pids.delete(Number(line.slice(1))));
});
const killAll = () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  process.exit(0);
};
process.stdin.on('end', killAll);
process.stdin.on('close', killAll);
process.stdin.on('error', killAll);
`;
