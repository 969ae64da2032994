/**
 * Pending asks for the scenarios to answer, and the replies that answer them: started through the
 * public client, their codes read from the SMS the emulator received (as the person would), and
 * each reply put on the inbound queue as the SQS message SNS would deliver.
 */
import { setMaxListeners } from 'node:events';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { SmsAskClient } from '../src/client/sms-ask-client';
import { listSentSms, snsDeliveredReplyBody } from '../src/local-stack/phone-simulator';
import type { AskState } from '../src/workflows/definitions';
import { mapConcurrently, sleep } from './pool';

export interface PendingAsk {
  askId: string;
  phone: string;
  /** The code for "Yes" in the SMS the phone received. */
  yesCode: string;
}

export interface ReplySample {
  ask: PendingAsk;
  /** Wall time just before SendMessage. */
  sentAt: number;
  /** Workflow time of the ask's `answered` event; undefined if it was not answered in time. */
  answeredAt?: number;
}

export interface Fleet {
  client: Client;
  asks: SmsAskClient;
  sqs: SQSClient;
  awsEndpoint: string;
  /** The inbound topic, named in the SNS envelope of every reply. */
  topicArn: string;
  phones: PhoneBook;
}

/** The asking side of a run: a client on the task queue, an SQS client, and the inbound topic on the emulator. */
export function createFleet(
  client: Client,
  sqs: SQSClient,
  taskQueue: string,
  aws: { awsEndpoint: string; topicArn: string },
): Fleet {
  return {
    client,
    asks: new SmsAskClient(client, { taskQueue }),
    sqs,
    awsEndpoint: aws.awsEndpoint,
    topicArn: aws.topicArn,
    phones: new PhoneBook(),
  };
}

const QUESTION = 'Benchmark: isolate host WS-042 from the network?';
const START_CONCURRENCY = 32;
const RESULT_CONCURRENCY = 100;
/**
 * The emulator's SMS record is read from its whole-state dump, which takes longer the more it
 * holds (0.13 s at 1,000 SMS, over a second at 10,000, on its one core): reads are spaced so that
 * they take at most this share of its time, and never come more often than once a second.
 */
const SMS_READ_SHARE = 0.2;
const SMS_READ_MIN_INTERVAL_MS = 1_000;
/** Creation fails if no new SMS reaches the emulator for this long. */
const STALL_TIMEOUT_MS = 60_000;

/**
 * Distinct, valid numbers, so that each ask has its own recipient workflow: 555 lines in several
 * area codes, never ending in 99 (moto reports those as opted out).
 */
export class PhoneBook {
  private static readonly AREA_CODES = ['206', '425', '253', '360', '509', '503', '971', '541', '458'];
  private next = 0;

  take(count: number): string[] {
    const phones: string[] = [];
    while (phones.length < count) {
      const n = this.next++;
      const area = PhoneBook.AREA_CODES[Math.floor(n / 10_000)];
      if (area === undefined) throw new Error('the phone book is out of numbers');
      const line = n % 10_000;
      if (line % 100 !== 99) phones.push(`+1${area}555${String(line).padStart(4, '0')}`);
    }
    return phones;
  }
}

/** Starts `count` asks, one per new phone, and returns once every question SMS has gone out. */
export async function createPendingAsks(
  fleet: Fleet,
  count: number,
  report: (status: string) => void,
): Promise<PendingAsk[]> {
  const phones = fleet.phones.take(count);
  const batch = new Set(phones);
  const askIds = new Map<string, string>();
  const codes = new Map<string, string>();
  const show = () => report(`started ${askIds.size}/${count}, SMS sent ${codes.size}/${count}`);
  let starting = true;
  const starts = mapConcurrently(phones, START_CONCURRENCY, async (phone) => {
    const { askId } = await fleet.asks.start({ to: phone, question: QUESTION, options: ['Yes', 'No'], timeout: '24h' });
    askIds.set(phone, askId);
  }).finally(() => (starting = false));

  let lastNewSms = Date.now();
  const smsRecord = new SentSmsReader(fleet.awsEndpoint);
  while (starting || codes.size < count) {
    for (const sms of (await smsRecord.read()) ?? []) {
      if (!batch.has(sms.phoneNumber) || codes.has(sms.phoneNumber) || !sms.message.startsWith(QUESTION)) continue;
      const code = /Yes \((\d+)\)/.exec(sms.message)?.[1];
      if (code === undefined) throw new Error(`the question SMS has no code for "Yes": ${sms.message}`);
      codes.set(sms.phoneNumber, code);
      lastNewSms = Date.now();
    }
    show();
    if (!starting && Date.now() - lastNewSms > STALL_TIMEOUT_MS) {
      throw new Error(
        `only ${codes.size} of ${count} question SMS were sent; none in the last ${STALL_TIMEOUT_MS / 1000} s`,
      );
    }
  }
  await starts;
  return phones.map((phone) => ({ askId: askIds.get(phone)!, phone, yesCode: codes.get(phone)! }));
}

/** Reads the emulator's SMS record no more often than its cost allows (SMS_READ_SHARE), so the harness does not load the emulator it measures. */
export class SentSmsReader {
  private nextReadAt = 0;

  constructor(private readonly awsEndpoint: string) {}

  /** Waits until the next read is due, then reads; undefined if the emulator was too busy to answer. */
  async read(): Promise<Awaited<ReturnType<typeof listSentSms>> | undefined> {
    await sleep(Math.max(0, this.nextReadAt - Date.now()));
    const startedAt = Date.now();
    const sms = await sentSmsOrNone(this.awsEndpoint);
    const tookMs = Date.now() - startedAt;
    this.nextReadAt = Date.now() + Math.max(SMS_READ_MIN_INTERVAL_MS, tookMs * (1 / SMS_READ_SHARE - 1));
    return sms;
  }
}

/** The SMS the emulator recorded; undefined this time if it is too busy to answer (a loaded emulator is slow, not wrong). */
export async function sentSmsOrNone(awsEndpoint: string): Promise<Awaited<ReturnType<typeof listSentSms>> | undefined> {
  try {
    return await listSentSms(awsEndpoint);
  } catch {
    return undefined;
  }
}

function replyBody(fleet: Fleet, ask: PendingAsk): string {
  return snsDeliveredReplyBody(fleet.topicArn, { from: ask.phone, body: ask.yesCode });
}

/** Puts one reply on the queue; returns its sample with the time just before SendMessage. */
export async function sendReply(fleet: Fleet, queueUrl: string, ask: PendingAsk): Promise<ReplySample> {
  const MessageBody = replyBody(fleet, ask);
  const sentAt = Date.now();
  await fleet.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody }));
  return { ask, sentAt };
}

/** Sends one reply per ask at a steady rate (on schedule, not one after another), and returns their samples. */
export async function sendRepliesAtRate(
  fleet: Fleet,
  queueUrl: string,
  asks: readonly PendingAsk[],
  perSecond: number,
  report: (sent: number) => void,
): Promise<ReplySample[]> {
  const start = Date.now();
  const sends: Promise<ReplySample>[] = [];
  for (const [i, ask] of asks.entries()) {
    await sleep(start + (i * 1000) / perSecond - Date.now());
    sends.push(sendReply(fleet, queueUrl, ask));
    report(i + 1);
  }
  return Promise.all(sends);
}

/** Puts every reply on the queue as fast as SQS takes them (SendMessageBatch, 10 per call). */
export async function sendBurst(fleet: Fleet, queueUrl: string, asks: readonly PendingAsk[]): Promise<ReplySample[]> {
  const batches: PendingAsk[][] = [];
  for (let i = 0; i < asks.length; i += 10) batches.push(asks.slice(i, i + 10));
  const sent = await mapConcurrently(batches, 8, async (batch) => {
    const entries = batch.map((ask, i) => ({ Id: String(i), MessageBody: replyBody(fleet, ask) }));
    const sentAt = Date.now();
    const out = await fleet.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (out.Failed?.length) throw new Error(`SQS refused ${out.Failed.length} replies: ${out.Failed[0]?.Message}`);
    return batch.map((ask) => ({ ask, sentAt }));
  });
  return sent.flat();
}

/** The workflow time at which the ask had its answer, from its event log. */
export function answeredAt(state: AskState): number | undefined {
  const answered = state.events.find((event) => event.type === 'answered');
  return answered ? Date.parse(answered.at) : undefined;
}

/**
 * Fills in each sample's answer time from the ask's result (a server-side wait, no load on the
 * worker). At `deadline` it stops waiting and reads the status of the asks still open instead.
 */
export async function collectAnswers(
  fleet: Fleet,
  samples: readonly ReplySample[],
  deadline: number,
  report: (answered: number) => void,
): Promise<void> {
  const giveUp = AbortSignal.timeout(Math.max(deadline - Date.now(), 0));
  setMaxListeners(RESULT_CONCURRENCY + 10, giveUp); // one listener per result in flight
  let answered = 0;
  await mapConcurrently(samples, RESULT_CONCURRENCY, async (sample) => {
    let state: AskState;
    try {
      state = await fleet.client.withAbortSignal(giveUp, () => fleet.asks.result(sample.ask.askId));
    } catch (err) {
      if (!giveUp.aborted) throw err;
      // A worker too busy to answer a query leaves the sample unanswered; that is the measurement.
      const status = await fleet.asks.status(sample.ask.askId).catch(() => undefined);
      if (!status) return;
      state = status;
    }
    sample.answeredAt = answeredAt(state);
    if (sample.answeredAt !== undefined) report(++answered);
  });
}

/** Reply-to-answer latency of each sample; Infinity for one never answered. */
export function latencies(samples: readonly ReplySample[]): number[] {
  return samples.map((s) => (s.answeredAt === undefined ? Infinity : s.answeredAt - s.sentAt));
}

/**
 * Takes whatever replies are still visible off the queue (PurgeQueue is allowed once a minute), so
 * that a capped run's backlog does not spill into the next one.
 */
export async function drainQueue(fleet: Fleet, queueUrl: string): Promise<number> {
  let drained = 0;
  for (;;) {
    const { Messages = [] } = await fleet.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return drained;
    await fleet.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    drained += Messages.length;
  }
}
