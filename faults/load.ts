/**
 * The steady reply stream of a scenario. Every reply is the SQS message SNS delivers for AWS
 * two-way SMS. Some answer a pending ask (their fate is checked one by one); the rest come from
 * phones with nothing pending: each still costs the poller a receive and Temporal a signal (which
 * finds no workflow), then a delete, so the stream loads the inbound path at the full rate while
 * the number of asks to create stays within what this machine can make.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Fleet, PendingAsk } from '../bench/fleet';
import { sleep } from '../bench/pool';
import { snsDeliveredReplyBody } from '../src/local-stack/phone-simulator';

const STRANGER_AREA_CODES = ['212', '312', '415', '617', '702', '808', '917'];

/** Numbers that no ask ever goes to (the asks' phone book uses other area codes). */
export class Strangers {
  private next = 0;
  take(): string {
    const n = this.next++;
    const area = STRANGER_AREA_CODES[Math.floor(n / 10_000) % STRANGER_AREA_CODES.length]!;
    return `+1${area}555${String(n % 10_000).padStart(4, '0')}`;
  }
}

export interface LoadCounts {
  answering: number;
  strangers: number;
}

/**
 * Sends `rate` replies a second for `seconds`: the asks' answers spread evenly over the window, the
 * rest from strangers. Sent on schedule in batches of up to 10 every 100 ms.
 */
export async function sendReplyStream(
  fleet: Fleet,
  queueUrl: string,
  asks: readonly PendingAsk[],
  strangers: Strangers,
  rate: number,
  seconds: number,
  report: (line: string) => void,
): Promise<LoadCounts> {
  const total = Math.round(rate * seconds);
  const answerEvery = asks.length > 0 ? total / asks.length : Infinity;
  const bodies: string[] = [];
  let answering = 0;
  for (let i = 0; i < total; i++) {
    const ask = answering < asks.length && i >= Math.round(answering * answerEvery) ? asks[answering++] : undefined;
    bodies.push(
      ask
        ? snsDeliveredReplyBody(fleet.topicArn, { from: ask.phone, body: ask.yesCode })
        : snsDeliveredReplyBody(fleet.topicArn, { from: strangers.take(), body: String(1000 + (i % 9000)) }),
    );
  }
  const start = Date.now();
  let sent = 0;
  const sends: Promise<void>[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate) + 1);
    while (sent < due) {
      const batch = bodies.slice(sent, Math.min(due, sent + 10));
      const entries = batch.map((MessageBody, i) => ({ Id: String(i), MessageBody }));
      sends.push(
        fleet.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })).then((out) => {
          if (out.Failed?.length)
            throw new Error(`SQS refused ${out.Failed.length} replies: ${out.Failed[0]?.Message}`);
        }),
      );
      sent += batch.length;
    }
    report(`${sent}/${total} replies sent`);
    await sleep(100);
  }
  await Promise.all(sends);
  return { answering, strangers: total - answering };
}
