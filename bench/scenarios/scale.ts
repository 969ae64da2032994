/**
 * Many asks pending at once: at each size, the routing latency of replies to asks picked at
 * random among the pending ones (so that asks long out of the worker's cache are included), the
 * worker's resident memory, and the worker CPU time per reply.
 */
import { collectAnswers, createPendingAsks, latencies, sendRepliesAtRate } from '../fleet';
import type { Fleet, PendingAsk } from '../fleet';
import type { Progress } from '../progress';
import { summarize } from '../stats';
import type { LatencySummary } from '../stats';
import type { WorkerProcess } from '../worker-process';

export interface ScalePoint {
  /** Asks still pending after the last reply; `samples` more were pending when the first arrived. */
  pending: number;
  latency: LatencySummary;
  /** Resident memory of the worker after the replies. */
  rssBytes: number;
  /** Highest resident memory of the worker so far (creation included). */
  peakRssBytes: number;
  /** Worker CPU time while the replies were handled, per reply (includes whatever else it did meanwhile). */
  cpuMsPerReply: number;
  /** Marginal: the resident memory added since the previous size (or the worker's start) ÷ the pending asks added. */
  bytesPerPendingAsk?: number;
  cappedAfterSeconds?: number;
}

/** The asks pending on the worker's task queue; grows on demand, shrinks as replies answer asks. */
export class PendingPool {
  private readonly asks: PendingAsk[] = [];

  constructor(private readonly fleet: Fleet) {}

  get size(): number {
    return this.asks.length;
  }

  async growTo(size: number, progress: Progress): Promise<void> {
    if (size <= this.asks.length) return;
    const created = await createPendingAsks(this.fleet, size - this.asks.length, (status) =>
      progress.update(`growing to ${size}: ${status}`),
    );
    this.asks.push(...created);
  }

  /** Removes and returns `count` asks chosen at random. */
  takeRandom(count: number): PendingAsk[] {
    const taken: PendingAsk[] = [];
    while (taken.length < count && this.asks.length > 0) {
      const index = Math.floor(Math.random() * this.asks.length);
      taken.push(this.asks[index]!);
      this.asks[index] = this.asks[this.asks.length - 1]!;
      this.asks.pop();
    }
    return taken;
  }
}

/** Replies to `samples` random pending asks at a steady rate; the rest of the pool stays pending throughout. */
export async function measureAtSize(params: {
  fleet: Fleet;
  queueUrl: string;
  worker: WorkerProcess;
  pool: PendingPool;
  samples: number;
  perSecond: number;
  capMs: number;
  progress: Progress;
}): Promise<ScalePoint> {
  const { fleet, queueUrl, worker, pool, samples, perSecond, capMs, progress } = params;
  const asks = pool.takeRandom(samples);
  const pending = pool.size;
  const before = worker.usage();
  const sent = await sendRepliesAtRate(fleet, queueUrl, asks, perSecond, (n) =>
    progress.update(`${pending} pending: sent ${n}/${asks.length}`),
  );
  await collectAnswers(fleet, sent, Date.now() + capMs, (n) =>
    progress.update(`${pending} pending: answered ${n}/${asks.length}`),
  );
  const after = worker.usage();
  const latency = summarize(latencies(sent));
  return {
    pending,
    latency,
    rssBytes: after.rssBytes,
    peakRssBytes: after.peakRssBytes,
    cpuMsPerReply: (after.cpuMs - before.cpuMs) / asks.length,
    ...(latency.completed < asks.length && { cappedAfterSeconds: capMs / 1000 }),
  };
}
