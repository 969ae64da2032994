/**
 * A Temporal worker that fails inside the process (its workflow thread ran out of memory, say) must
 * not leave a process that polls nothing but answers its probes: /healthz turns 503 and the run
 * ends with an error, even when the SDK's own shutdown of the failed worker never finishes.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MonitorServer } from '../../src/worker/monitor-server';
import { SmsAskWorker, WorkerFailedError } from '../../src/worker/worker';
import type { RunnableWorker } from '../../src/worker/worker';

type State = ReturnType<RunnableWorker['getState']>;

/** An SDK worker's outline: run() ends on shutdown(), unless told to hang as a failed one can. */
class StandInWorker implements RunnableWorker {
  state: State = 'INITIALIZED';
  private stop?: () => void;
  constructor(readonly options: { taskQueue: string }) {}
  getState(): State {
    return this.state;
  }
  run(): Promise<void> {
    this.state = 'RUNNING';
    return new Promise((resolve) => (this.stop = resolve));
  }
  shutdown(): void {
    this.state = 'STOPPED';
    this.stop?.();
  }
  /** Failed, and its run() never settles. */
  failAndHang(): void {
    this.state = 'FAILED';
    this.stop = undefined;
  }
}

describe('a failed Temporal worker', () => {
  it('ends the run with an error once the failed worker has not finished shutting down within the grace', async () => {
    const main = new StandInWorker({ taskQueue: 'sms-ask' });
    const sms = new StandInWorker({ taskQueue: 'sms-ask/sms' });
    const worker = new SmsAskWorker([main, sms], 300);
    const running = worker.run();
    expect(worker.liveness().live).toBe(true);
    main.failAndHang();
    expect(worker.liveness()).toEqual({ live: false, detail: 'failed: the worker on sms-ask' });
    await expect(running).rejects.toThrow(WorkerFailedError);
    await expect(running).rejects.toThrow(/task queue sms-ask failed .* did not shut down within 0.3 s/);
    // The other worker is stopped with it: never half a worker.
    expect(sms.getState()).toBe('STOPPED');
  });

  it('does not cut a healthy run short', async () => {
    const main = new StandInWorker({ taskQueue: 'sms-ask' });
    const worker = new SmsAskWorker([main], 100);
    const running = worker.run();
    await new Promise((resolve) => setTimeout(resolve, 400));
    worker.shutdown();
    await expect(running).resolves.toBeUndefined();
  });

  it('turns /healthz to 503 with the reason, while /readyz is left to its own checks', async () => {
    let live = true;
    const monitor = await MonitorServer.start({
      address: '127.0.0.1:0',
      readiness: async () => ({ ready: true, checks: {} }) as never,
      liveness: () => (live ? { live: true, detail: 'ok' } : { live: false, detail: 'failed: the worker on sms-ask' }),
      logger: pino({ level: 'silent' }),
    });
    try {
      const healthz = async () => {
        const res = await fetch(`${monitor.url}/healthz`);
        return { status: res.status, body: await res.text() };
      };
      expect(await healthz()).toEqual({ status: 200, body: 'ok\n' });
      live = false;
      expect(await healthz()).toEqual({ status: 503, body: 'failed: the worker on sms-ask\n' });
    } finally {
      await monitor.close();
    }
  });
});
