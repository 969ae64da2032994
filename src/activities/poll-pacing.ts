/** How the poll loops pace themselves: back-off after failures, and the gate that holds them while Temporal refuses replies. */

/** The longest pause between two tries, whether of SQS or of Temporal. */
const MAX_BACKOFF_MS = 60_000;

/** Doubling waits from 1 s up to a cap; `reset` after a success. */
export class Backoff {
  private ms = 0;
  constructor(private readonly maxMs = MAX_BACKOFF_MS) {}
  get delayMs(): number {
    return this.ms;
  }
  failed(): number {
    this.ms = Math.min(Math.max(this.ms * 2, 1_000), this.maxMs);
    return this.ms;
  }
  reset(): void {
    this.ms = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Closed while Temporal refuses replies. Every receive spends one of a message's receive counts,
 * and a reply that Temporal refuses comes back only after the visibility timeout: receiving on
 * through an outage of visibility timeout x maxReceiveCount would move every reply to the DLQ.
 * So the poll lanes stop receiving and one of them asks Temporal, with growing pauses up to a
 * minute, whether it answers again; the replies wait on the queue meanwhile.
 */
export class TemporalGate {
  private readonly backoff = new Backoff();
  private closed = false;
  private probing: Promise<void> | undefined;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly onClose: () => void,
    private readonly onOpen: (pausedMs: number) => void,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  /** Waits until Temporal answers again (or `signal` aborts); lanes share one probe. */
  async opened(signal: AbortSignal): Promise<void> {
    while (this.closed && !signal.aborted) {
      this.probing ??= this.probeOnce(signal).finally(() => (this.probing = undefined));
      await this.probing;
    }
  }

  private async probeOnce(signal: AbortSignal): Promise<void> {
    await pause(this.backoff.failed(), signal);
    if (signal.aborted) return;
    try {
      await this.probe();
      const pausedMs = this.backoff.delayMs;
      this.backoff.reset();
      this.closed = false;
      this.onOpen(pausedMs);
    } catch {
      // still refusing: the next probe waits longer
    }
  }
}
